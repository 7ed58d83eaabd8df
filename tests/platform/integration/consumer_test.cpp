// platform::Consumer against a real nats-server and PostgreSQL: duplicates,
// redelivery after a crash between commit and ack, poison messages, restarts.
#include "ates/platform/consumer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <thread>

#include "ates/platform/events.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/pg.hpp"
#include "consumer_test_bed.hpp"
#include "support/js_client.hpp"
#include "support/process.hpp"
#include "support/test_handler.hpp"
#include "support/test_stack.hpp"
#include "support/wait.hpp"

#ifndef ATES_TEST_CONSUMER_BIN
#error "ATES_TEST_CONSUMER_BIN must be defined by the build"
#endif

namespace ates::test {
namespace {

using platform::ConsumerOptions;
using ::testing::HasSubstr;

class ConsumerTest : public ConsumerTestBed<ConsumerTest> {
 protected:
  static void SetUpTestSuite() { OpenBed("consumer", 4); }

  static ConsumerOptions Options(const std::string& name, const std::string& stream) {
    ConsumerOptions o;
    o.name = name;
    o.stream = stream;
    o.batch_size = 100;
    o.fetch_wait = std::chrono::milliseconds(200);
    o.ack_wait = std::chrono::seconds(5);
    o.max_deliver = 3;
    o.backoff = {std::chrono::milliseconds(50)};
    // Private streams ("cbasic.>") outside the four domains: the envelope
    // check is tested on the real streams (nats_security_test.cpp).
    o.verify_envelope = false;
    return o;
  }

  // event id -> number of rows the handler wrote for it.
  static std::map<std::string, int64_t> Effects(const std::string& consumer) {
    pg::Connection c(*db_url_);
    auto r =
        c.Exec("SELECT event_id::text, count(*) FROM test_effects WHERE consumer = $1 GROUP BY 1",
               {pg::Text(consumer)});
    std::map<std::string, int64_t> out;
    for (int i = 0; i < r.Rows(); ++i) out[r.String(i, 0)] = r.Int(i, 1);
    return out;
  }

  static int64_t Count(std::string_view sql, const std::string& consumer) {
    pg::Connection c(*db_url_);
    return c.Exec(sql, {pg::Text(consumer)}).Int(0, 0);
  }

  static bool Idle(const std::string& stream, const std::string& consumer) {
    auto st = js_->Consumer(stream, consumer);
    return st && st->num_pending == 0 && st->num_ack_pending == 0;
  }

  static std::string Publish(const std::string& subject, const std::string& login,
                             std::string id = "") {
    if (id.empty()) id = events::NewUuid();
    PublishEvent(*js_, subject, id, "accounts.account.created", 1,
                 AccountCreatedPayload(events::NewUuid(), login));
    return id;
  }

  // Publishes a copy of an event once the stream's duplicate window has passed
  // (JetStream drops a same-id publish inside it and says so in the ack).
  static PublishResult PublishAfterWindow(const std::string& subject, const std::string& id,
                                          const std::string& payload) {
    PublishResult r;
    Eventually(
        [&] {
          r = PublishEvent(*js_, subject, id, "accounts.account.created", 1, payload);
          return !r.duplicate;
        },
        10s, 100ms);
    return r;
  }
};

TEST_F(ConsumerTest, AppliesEventsOnceAndRecordsThemInTheInbox) {
  js_->AddStream("CBASIC", {"cbasic.>"}, std::chrono::minutes(2));
  RecordingHandler handler("basic");
  platform::Consumer consumer(Options("basic", "CBASIC"), *nats_, *pool_, handler, nullptr);
  consumer.Start();
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(Publish("cbasic.account.created", "b" + std::to_string(i)));
  ASSERT_TRUE(
      Eventually([&] { return Effects("basic").size() == ids.size() && Idle("CBASIC", "basic"); }));
  auto effects = Effects("basic");
  for (const auto& id : ids) EXPECT_EQ(effects[id], 1) << id;
  EXPECT_EQ(Count("SELECT count(*) FROM processed_events WHERE consumer = $1", "basic"), 20);
  EXPECT_EQ(consumer.applied(), 20u);
  consumer.Stop();
}

TEST_F(ConsumerTest, SameEventPublishedTwiceIsAppliedOnce) {
  // A 100 ms duplicate window lets the same Nats-Msg-Id be stored again, as a
  // producer retrying after the window (or a replay) would.
  js_->AddStream("CDUP", {"cdup.>"}, std::chrono::milliseconds(100));
  const std::string id = events::NewUuid();
  auto payload = AccountCreatedPayload(events::NewUuid(), "twice");
  auto first =
      PublishEvent(*js_, "cdup.account.created", id, "accounts.account.created", 1, payload);
  ASSERT_FALSE(first.duplicate);
  auto second = PublishAfterWindow("cdup.account.created", id, payload);
  ASSERT_FALSE(second.duplicate) << "the stream must hold both copies for this test";
  ASSERT_NE(first.seq, second.seq);

  RecordingHandler handler("dup");
  platform::Consumer consumer(Options("dup", "CDUP"), *nats_, *pool_, handler, nullptr);
  consumer.Start();  // both copies arrive, most likely in one batch
  ASSERT_TRUE(Eventually([&] { return Idle("CDUP", "dup") && !Effects("dup").empty(); }));

  // A third copy, in a later batch of its own.
  auto third = PublishAfterWindow("cdup.account.created", id, payload);
  ASSERT_FALSE(third.duplicate);
  auto marker = Publish("cdup.account.created", "after-dup");
  ASSERT_TRUE(Eventually([&] { return Effects("dup").count(marker) && Idle("CDUP", "dup"); }));

  auto st = js_->Consumer("CDUP", "dup");
  ASSERT_TRUE(st.has_value());
  EXPECT_GE(st->ack_floor_stream_seq, third.seq + 1) << "every copy was delivered and acked";
  auto effects = Effects("dup");
  EXPECT_EQ(effects[id], 1) << "applied more than once";
  EXPECT_EQ(effects.size(), 2u);
  EXPECT_EQ(Count("SELECT count(*) FROM processed_events WHERE consumer = $1", "dup"), 2);
  EXPECT_EQ(consumer.applied(), 2u);
  consumer.Stop();
}

TEST_F(ConsumerTest, RedeliveryAfterKill9BetweenCommitAndAckIsAppliedOnce) {
  js_->AddStream("CCRASH", {"ccrash.>"}, std::chrono::minutes(2));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(Publish("ccrash.account.created", "c" + std::to_string(i)));

  auto& stack = TestStack::Get();
  SpawnOptions o;
  o.argv = {ATES_TEST_CONSUMER_BIN};
  o.env = {{"ATES_TEST_NATS_URL", stack.nats_url()},
           {"ATES_TEST_DATABASE_URL", *db_url_},
           {"ATES_TEST_STREAM", "CCRASH"},
           {"ATES_TEST_CONSUMER", "crash"},
           {"ATES_TEST_KILL_AFTER_COMMIT", "1"}};
  o.output_path = stack.LogPath("test-consumer-crash");
  auto crashing = Process::Spawn(o);
  auto code = crashing->Wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value()) << "did not die:\n" << ReadFile(o.output_path);
  ASSERT_EQ(*code, 128 + SIGKILL) << ReadFile(o.output_path);

  // It committed a batch and died before acking it.
  auto after_crash = Effects("crash");
  ASSERT_GE(after_crash.size(), 1u);
  for (const auto& [id, n] : after_crash) EXPECT_EQ(n, 1) << id;
  auto st = js_->Consumer("CCRASH", "crash");
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->ack_floor_stream_seq, 0u) << "nothing may have been acked";

  o.env.erase("ATES_TEST_KILL_AFTER_COMMIT");
  o.output_path = stack.LogPath("test-consumer-restart");
  auto restarted = Process::Spawn(o);
  bool done = Eventually(
      [&] { return Effects("crash").size() == ids.size() && Idle("CCRASH", "crash"); }, 30s);
  int exit_code = restarted->Stop(SIGTERM, std::chrono::seconds(10));
  std::string log = ReadFile(o.output_path);
  ASSERT_TRUE(done) << log;
  EXPECT_EQ(exit_code, 0) << log;

  auto effects = Effects("crash");
  for (const auto& id : ids) EXPECT_EQ(effects[id], 1) << "event " << id;
  EXPECT_EQ(Count("SELECT count(*) FROM processed_events WHERE consumer = $1", "crash"), 5);
  // The second run was given the committed events again and skipped them.
  EXPECT_THAT(log, HasSubstr("applied=" + std::to_string(ids.size() - after_crash.size())));
}

TEST_F(ConsumerTest, PoisonMessagesAreDeadLetteredWithAReasonAndLaterMessagesApply) {
  js_->AddStream("CPOISON", {"cpoison.>"}, std::chrono::minutes(2));
  const std::string subject = "cpoison.account.created";
  auto good1 = Publish(subject, "good-1");
  const std::string garbage = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
  auto garbage_id = events::NewUuid();
  PublishEvent(*js_, subject, garbage_id, "accounts.account.created", 1, garbage);
  auto unknown_name_id = events::NewUuid();
  PublishEvent(*js_, subject, unknown_name_id, "accounts.account.exploded", 1,
               AccountCreatedPayload(events::NewUuid(), "x"));
  auto unknown_version_id = events::NewUuid();
  PublishEvent(*js_, subject, unknown_version_id, "accounts.account.created", 9,
               AccountCreatedPayload(events::NewUuid(), "y"));
  PublishEvent(*js_, subject, "", "accounts.account.created", 1,
               AccountCreatedPayload(events::NewUuid(), "no-id"));
  auto failing_id = Publish(subject, "explode");  // the handler throws on it
  auto good2 = Publish(subject, "good-2");

  RecordingHandler handler("poison");
  platform::Consumer consumer(Options("poison", "CPOISON"), *nats_, *pool_, handler, nullptr);
  consumer.Start();
  bool parked = Eventually(
      [&] {
        return Count("SELECT count(*) FROM dead_letters WHERE consumer = $1", "poison") == 5 &&
               Idle("CPOISON", "poison");
      },
      30s);
  ASSERT_TRUE(parked) << Count("SELECT count(*) FROM dead_letters WHERE consumer = $1", "poison")
                      << " dead letters";
  auto good3 = Publish(subject, "good-3");  // the consumer goes on
  ASSERT_TRUE(Eventually([&] { return Effects("poison").count(good3) == 1; }));

  auto effects = Effects("poison");
  EXPECT_EQ(effects.size(), 3u);
  EXPECT_EQ(effects[good1], 1);
  EXPECT_EQ(effects[good2], 1);
  EXPECT_EQ(effects[good3], 1);

  pg::Connection db(*db_url_);
  auto rows = db.Exec(
      "SELECT event_id, reason, deliveries, subject, payload FROM dead_letters"
      " WHERE consumer = $1 ORDER BY stream_seq",
      {pg::Text("poison")});
  ASSERT_EQ(rows.Rows(), 5);
  std::map<std::string, std::string> reason_of;
  std::map<std::string, std::string> payload_of;
  for (int i = 0; i < rows.Rows(); ++i) {
    reason_of[rows.String(i, 0)] = rows.String(i, 1);
    payload_of[rows.String(i, 0)] = rows.Bytes(i, 4);
    EXPECT_EQ(rows.Int(i, 2), 3) << "dead-lettered after max_deliver attempts";
    EXPECT_EQ(rows.String(i, 3), subject);
    EXPECT_FALSE(rows.String(i, 1).empty());
  }
  EXPECT_THAT(reason_of[garbage_id], HasSubstr("undecodable"));
  EXPECT_THAT(reason_of[unknown_name_id], HasSubstr("unknown event accounts.account.exploded"));
  EXPECT_THAT(reason_of[unknown_version_id], HasSubstr("v9"));
  EXPECT_THAT(reason_of[""], HasSubstr("Nats-Msg-Id"));
  EXPECT_THAT(reason_of[failing_id], HasSubstr("explode"));
  EXPECT_EQ(payload_of[garbage_id], garbage) << "the poison body is kept for operators";
  // Dead-lettered events are not marked processed: a fixed consumer may replay them.
  pg::Connection c(*db_url_);
  EXPECT_EQ(c.Exec("SELECT count(*) FROM processed_events WHERE consumer = 'poison'").Int(0, 0), 3);
  consumer.Stop();
}

// A database of its own whose connections can be refused and cut, as when
// PostgreSQL is down, without stopping the server the other tests share.
class UnreachableDatabase final {
 public:
  explicit UnreachableDatabase(const std::string& prefix)
      : url_(TestStack::Get().CreateDatabase(prefix)),
        name_(url_.substr(url_.rfind('/') + 1)),
        admin_(TestStack::Get().DatabaseUrl("postgres")) {}
  const std::string& url() const { return url_; }
  void GoAway() {
    admin_.Exec("ALTER DATABASE " + name_ + " ALLOW_CONNECTIONS false");
    admin_.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                {pg::Text(name_)});
  }
  void ComeBack() { admin_.Exec("ALTER DATABASE " + name_ + " ALLOW_CONNECTIONS true"); }

 private:
  std::string url_;
  std::string name_;
  pg::Connection admin_;
};

TEST_F(ConsumerTest, HoldsItsBatchWhileTheDatabaseIsAwayAndSpendsNoDeliveries) {
  js_->AddStream("COUTAGE", {"coutage.>"}, std::chrono::minutes(2));
  // An earlier version created its durable with a server-side limit, which an
  // outage of minutes used up: the server then stopped delivering, silently.
  js_->AddLimitedConsumer("COUTAGE", "outage", 15);
  UnreachableDatabase db("outage");
  pg::Pool pool(db.url(), 2);
  pool.set_max_attempts(2);
  pg::Migrate(pool, pg::PlatformMigrations());
  pool.WithRetry([](pg::Connection& c) { c.Exec(kEffectsSchema); });
  auto options = Options("outage", "COUTAGE");
  options.ack_wait = std::chrono::seconds(2);
  options.max_deliver = 2;
  options.transient_backoff_max = std::chrono::milliseconds(300);
  RecordingHandler handler("outage");
  platform::Consumer consumer(options, *nats_, pool, handler, nullptr);

  db.GoAway();
  consumer.Start();
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i)
    ids.push_back(Publish("coutage.account.created", "o" + std::to_string(i)));
  ASSERT_TRUE(Eventually([&] { return consumer.waiting_for_database(); }, 20s))
      << "the consumer never noticed the database was away";
  auto limit = js_->Consumer("COUTAGE", "outage");
  ASSERT_TRUE(limit.has_value());
  EXPECT_EQ(limit->max_deliver, -1) << "the start must lift the server-side delivery limit";

  // Four ack waits without the database: the batch is held, not handed back.
  std::this_thread::sleep_for(4 * options.ack_wait);
  EXPECT_TRUE(consumer.waiting_for_database());
  auto during = js_->Consumer("COUTAGE", "outage");
  ASSERT_TRUE(during.has_value());
  EXPECT_EQ(during->num_redelivered, 0) << "an outage must not spend deliveries";
  EXPECT_EQ(during->ack_floor_stream_seq, 0u);

  db.ComeBack();
  ASSERT_TRUE(Eventually(
      [&] {
        pg::Connection c(db.url());
        auto r = c.Exec("SELECT count(*) FROM test_effects WHERE consumer = 'outage'");
        return r.Int(0, 0) == static_cast<int64_t>(ids.size()) && Idle("COUTAGE", "outage");
      },
      30s))
      << "the consumer did not resume by itself";
  EXPECT_FALSE(consumer.waiting_for_database());
  pg::Connection c(db.url());
  EXPECT_EQ(c.Exec("SELECT count(DISTINCT event_id) FROM test_effects WHERE consumer = 'outage'")
                .Int(0, 0),
            static_cast<int64_t>(ids.size()))
      << "each event applied exactly once";
  EXPECT_EQ(c.Exec("SELECT count(*) FROM dead_letters").Int(0, 0), 0)
      << "a transient failure is not poison";
  consumer.Stop();
}

TEST_F(ConsumerTest, KeepsConsumingAcrossANatsServerRestart) {
  js_->AddStream("CRESTART", {"crestart.>"}, std::chrono::minutes(2));
  RecordingHandler handler("restart");
  platform::Consumer consumer(Options("restart", "CRESTART"), *nats_, *pool_, handler, nullptr);
  consumer.Start();
  auto before = Publish("crestart.account.created", "before-restart");
  ASSERT_TRUE(Eventually([&] { return Effects("restart").count(before) == 1; }));

  auto& stack = TestStack::Get();
  stack.StopNats();
  stack.StartNats();
  ASSERT_TRUE(js_->WaitConnected(20s));
  std::string after;
  ASSERT_TRUE(Eventually(
      [&] {
        try {
          after = Publish("crestart.account.created", "after-restart");
          return true;
        } catch (const std::exception&) {
          return false;  // JetStream may need a moment after the restart
        }
      },
      20s, 200ms));
  EXPECT_TRUE(Eventually([&] { return Effects("restart").count(after) == 1; }, 30s))
      << "the consumer did not resume after the nats-server restart";
  auto effects = Effects("restart");
  EXPECT_EQ(effects[before], 1);
  consumer.Stop();
}

}  // namespace
}  // namespace ates::test
