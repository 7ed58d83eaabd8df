// Streams that stay healthy for months: a start never resets the limits an
// operator set, a consumer about to lose events to retention says so, and the
// inbox is pruned only where that is safe.
#include <gtest/gtest.h>

#include <thread>

#include "ates/platform/consumer.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/pg.hpp"
#include "consumer_test_bed.hpp"
#include "support/js_client.hpp"
#include "support/test_handler.hpp"
#include "support/test_stack.hpp"
#include "support/wait.hpp"

namespace ates::test {
namespace {

class StreamRetentionTest : public ConsumerTestBed<StreamRetentionTest> {
 protected:
  static void SetUpTestSuite() { OpenBed("retention", 4); }

  static platform::ConsumerOptions Options(const std::string& name, const std::string& stream) {
    platform::ConsumerOptions o;
    o.name = name;
    o.stream = stream;
    o.fetch_wait = std::chrono::milliseconds(100);
    o.housekeeping_interval = std::chrono::milliseconds(200);
    // Private streams ("cbasic.>") outside the four domains: the envelope
    // check is tested on the real streams (nats_security_test.cpp).
    o.verify_envelope = false;
    return o;
  }

  static std::string Publish(const std::string& subject) {
    auto id = events::NewUuid();
    PublishEvent(*js_, subject, id, "accounts.account.created", 1,
                 AccountCreatedPayload(events::NewUuid(), "r-" + id.substr(0, 8)));
    return id;
  }

  static int64_t InboxRows(const std::string& consumer) {
    pg::Connection c(*db_url_);
    return c.Exec("SELECT count(*) FROM processed_events WHERE consumer = $1", {pg::Text(consumer)})
        .Int(0, 0);
  }
};

TEST_F(StreamRetentionTest, AStartCreatesStreamsWithLimitsAndNeverResetsAnOperatorsChange) {
  platform::StreamSpec spec;
  spec.name = "RLIMITS";
  spec.subjects = {"rlimits.>"};
  spec.max_age = std::chrono::hours(24);
  nats_->EnsureStreams({spec});
  auto created = js_->Limits("RLIMITS");
  EXPECT_EQ(created.max_age, std::chrono::hours(24));
  EXPECT_EQ(created.max_bytes, -1);

  js_->SetMaxBytes("RLIMITS", 64 << 20);  // the operator caps its size
  spec.max_age = std::chrono::hours(1);   // and a daemon with other config starts
  nats_->EnsureStreams({spec});
  auto after = js_->Limits("RLIMITS");
  EXPECT_EQ(after.max_bytes, 64 << 20) << "a start reset the operator's limit";
  EXPECT_EQ(after.max_age, std::chrono::hours(24)) << "an existing stream is left as it is";
}

TEST_F(StreamRetentionTest, AConsumerThatCannotApplyIsFlaggedBeforeRetentionRemovesItsEvents) {
  js_->AddStream("RRISK", {"rrisk.>"}, std::chrono::milliseconds(100), std::chrono::seconds(6));
  pg::Pool unreachable("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1", 1);
  unreachable.set_max_attempts(1);
  RecordingHandler handler("risk");
  platform::Consumer consumer(Options("risk", "RRISK"), *nats_, unreachable, handler, nullptr);
  consumer.Start();
  Publish("rrisk.account.created");
  ASSERT_TRUE(Eventually([&] { return consumer.waiting_for_database(); }, 10s));
  EXPECT_FALSE(consumer.retention_at_risk()) << "flagged while most of the max age was left";
  // Within the last fifth of the 6 s max age (after 4.8 s), before the event is gone.
  EXPECT_TRUE(Eventually([&] { return consumer.retention_at_risk(); }, 6s, 100ms));
  consumer.Stop();
}

TEST_F(StreamRetentionTest, TheInboxForgetsIdsOnlyOnceTheStreamCannotDeliverThemAgain) {
  js_->AddStream("RPRUNE", {"rprune.>"}, std::chrono::milliseconds(100), std::chrono::seconds(1));
  js_->AddStream("RKEEP", {"rkeep.>"}, std::chrono::milliseconds(100));  // keeps for ever
  RecordingHandler prune_handler("prune");
  RecordingHandler keep_handler("keep");
  auto prune_options = Options("prune", "RPRUNE");
  prune_options.inbox_retention = std::chrono::seconds(2);
  auto keep_options = Options("keep", "RKEEP");
  keep_options.inbox_retention = std::chrono::seconds(2);
  platform::Consumer prune(prune_options, *nats_, *pool_, prune_handler, nullptr);
  platform::Consumer keep(keep_options, *nats_, *pool_, keep_handler, nullptr);
  prune.Start();
  keep.Start();
  for (int i = 0; i < 5; ++i) {
    Publish("rprune.account.created");
    Publish("rkeep.account.created");
  }
  ASSERT_TRUE(Eventually([&] { return InboxRows("prune") == 5 && InboxRows("keep") == 5; }));
  EXPECT_TRUE(Eventually([&] { return InboxRows("prune") == 0; }, 10s))
      << "ids older than inbox.retention (2 s > max age 1 s) were kept";
  EXPECT_EQ(InboxRows("keep"), 5)
      << "ids of a stream that keeps everything may be replayed: they must stay";
  prune.Stop();
  keep.Stop();
}

}  // namespace
}  // namespace ates::test
