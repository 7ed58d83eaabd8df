// The consumers' backlog gauges against a real nats-server and PostgreSQL:
// ates_consumer_pending_messages counts what a stopped consumer has not been
// given yet, ates_dead_letters the rows a poison event left, and NATS being
// away neither blocks nor throws.
#include "ates/platform/consumer_gauges.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "ates/platform/consumer.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/metrics.hpp"
#include "ates/platform/pg.hpp"
#include "consumer_test_bed.hpp"
#include "support/js_client.hpp"
#include "support/process.hpp"
#include "support/test_handler.hpp"
#include "support/test_stack.hpp"
#include "support/wait.hpp"

namespace ates::test {
namespace {

class ConsumerGaugesTest : public ConsumerTestBed<ConsumerGaugesTest> {
 protected:
  static void SetUpTestSuite() { OpenBed("consumer_gauges", 2); }

  static platform::ConsumerOptions Options(const std::string& name, const std::string& stream) {
    platform::ConsumerOptions o;
    o.name = name;
    o.stream = stream;
    o.batch_size = 100;
    o.fetch_wait = std::chrono::milliseconds(200);
    o.max_deliver = 2;
    o.backoff = {std::chrono::milliseconds(50)};
    o.verify_envelope = false;  // a private stream outside the four domains
    return o;
  }
  static void Publish(const std::string& subject, const std::string& payload) {
    PublishEvent(*js_, subject, events::NewUuid(), "accounts.account.created", 1, payload);
  }
  static int64_t DeadLetterRows(const std::string& consumer) {
    pg::Connection c(*db_url_);
    return c
        .Exec("SELECT count(*) FROM dead_letters WHERE consumer = $1 AND replayed_at IS NULL",
              {pg::Text(consumer)})
        .Int(0, 0);
  }
};

TEST_F(ConsumerGaugesTest, PendingCountsWhatAStoppedConsumerHasNotBeenGiven) {
  js_->AddStream("CGAUGE", {"cgauge.>"}, std::chrono::minutes(2));
  RecordingHandler handler("gauged");
  platform::Metrics metrics;
  platform::Consumer consumer(Options("gauged", "CGAUGE"), *nats_, *pool_, handler, &metrics);
  platform::ConsumerGauges gauges({&consumer}, *nats_, *pool_, metrics);
  consumer.Start();
  Publish("cgauge.account.created", AccountCreatedPayload(events::NewUuid(), "g0"));
  ASSERT_TRUE(Eventually([&] {
    auto st = js_->Consumer("CGAUGE", "gauged");
    return consumer.applied() == 1 && st && st->num_pending == 0 && st->num_ack_pending == 0;
  }));
  gauges.ReadPending();
  EXPECT_EQ(metrics.ConsumerPending("gauged").Value(), 0);
  EXPECT_EQ(metrics.ConsumerAckPending("gauged").Value(), 0);

  consumer.Stop();  // the durable stays on the server; the backlog grows
  for (int i = 1; i <= 7; ++i) {
    Publish("cgauge.account.created",
            AccountCreatedPayload(events::NewUuid(), "g" + std::to_string(i)));
  }
  gauges.ReadPending();
  EXPECT_EQ(metrics.ConsumerPending("gauged").Value(), 7);
  EXPECT_EQ(metrics.ConsumerAckPending("gauged").Value(), 0);

  consumer.Start();  // it catches up and the gauge follows
  ASSERT_TRUE(Eventually([&] { return consumer.applied() == 8; }));
  ASSERT_TRUE(Eventually([&] {
    gauges.ReadPending();
    return metrics.ConsumerPending("gauged").Value() == 0;
  }));
  consumer.Stop();
}

TEST_F(ConsumerGaugesTest, DeadLettersEqualTheRowsAPoisonEventLeftUntilReplayed) {
  js_->AddStream("CGDEAD", {"cgdead.>"}, std::chrono::minutes(2));
  RecordingHandler handler("gdead");
  platform::Metrics metrics;
  platform::Consumer consumer(Options("gdead", "CGDEAD"), *nats_, *pool_, handler, &metrics);
  platform::ConsumerGauges gauges({&consumer}, *nats_, *pool_, metrics);
  gauges.ReadDeadLetters();
  EXPECT_EQ(metrics.DeadLetters("gdead").Value(), 0) << "a consumer with none shows 0";

  consumer.Start();
  Publish("cgdead.account.created", std::string(11, '\xff'));  // undecodable
  Publish("cgdead.account.created", std::string(9, '\xfe'));
  ASSERT_TRUE(Eventually([&] { return DeadLetterRows("gdead") == 2; }, 30s));
  gauges.ReadDeadLetters();
  EXPECT_EQ(metrics.DeadLetters("gdead").Value(), 2);

  pg::Connection c(*db_url_);
  c.Exec(
      "UPDATE dead_letters SET replayed_at = now() WHERE id = (SELECT min(id) FROM dead_letters"
      " WHERE consumer = 'gdead')");
  gauges.ReadDeadLetters();
  EXPECT_EQ(metrics.DeadLetters("gdead").Value(), 1) << "a replayed row is no longer held";
  consumer.Stop();
}

TEST_F(ConsumerGaugesTest, NatsAwayNeitherBlocksNorThrowsAndKeepsTheLastValue) {
  // A connection to a port nobody listens on: it keeps trying in the background.
  platform::JetStream away("nats://127.0.0.1:" + std::to_string(FreePort()), "gauges-away");
  RecordingHandler handler("gaway");
  platform::Metrics metrics;
  platform::Consumer consumer(Options("gaway", "CGAWAY"), away, *pool_, handler, &metrics);
  platform::ConsumerGauges gauges({&consumer}, away, *pool_, metrics);
  metrics.ConsumerPending("gaway").Set(42);
  auto start = std::chrono::steady_clock::now();
  EXPECT_NO_THROW(gauges.ReadPending());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(metrics.ConsumerPending("gaway").Value(), 42);
}

}  // namespace
}  // namespace ates::test
