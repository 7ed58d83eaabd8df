// What the consumer suites share: a database with the platform's tables and
// the test handler's effects table, a JetStream connection for consumers, and a
// plain client that publishes and inspects streams. One set per suite (the
// template parameter), opened in SetUpTestSuite and closed in TearDownTestSuite.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/pg.hpp"
#include "support/js_client.hpp"
#include "support/test_handler.hpp"
#include "support/test_stack.hpp"

namespace ates::test {

template <class Suite>
class ConsumerTestBed : public ::testing::Test {
 protected:
  // `name` names the database and the NATS client; a failure is reported by
  // every test of the suite (SetUp), not as a crash of the whole binary.
  static void OpenBed(const std::string& name, int pool_size) {
    try {
      log::Init(name + "-test", "warn");
      auto& stack = TestStack::Get();
      db_url_ = new std::string(stack.CreateDatabase(name));
      pool_ = new pg::Pool(*db_url_, pool_size);
      pg::Migrate(*pool_, pg::PlatformMigrations());
      pool_->WithRetry([](pg::Connection& c) { c.Exec(kEffectsSchema); });
      nats_ = new platform::JetStream(stack.nats_url(), name + "-test");
      js_ = new JsClient(stack.nats_url());
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }

  static void TearDownTestSuite() {
    delete js_;
    delete nats_;
    delete pool_;
    js_ = nullptr;
    nats_ = nullptr;
    pool_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  static inline std::string* setup_error_ = nullptr;
  static inline std::string* db_url_ = nullptr;
  static inline pg::Pool* pool_ = nullptr;
  static inline platform::JetStream* nats_ = nullptr;
  static inline JsClient* js_ = nullptr;
};

}  // namespace ates::test
