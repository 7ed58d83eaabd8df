// The outbox relay's leadership and order against a real PostgreSQL and
// nats-server (ADR 11): a frozen leader loses leadership within
// leader_timeout and stays quiet once thawed, a leader keeps its lock while
// NATS is down, a publish that fails in the middle of a batch holds back
// only the later events of its own aggregate, and each message carries its
// event's trace context.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "ates/platform/events.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/outbox.hpp"
#include "ates/platform/pg.hpp"
#include "support/js_client.hpp"
#include "support/process.hpp"
#include "support/test_stack.hpp"
#include "support/wait.hpp"

#ifndef ATES_TEST_RELAY_BIN
#error "ATES_TEST_RELAY_BIN must be defined by the build"
#endif

namespace ates::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kLeaderTimeout = 3s;

// An outbox event of `aggregate` whose payload names it: "<aggregate>:<n>".
events::OutgoingEvent Event(const std::string& subject, const std::string& aggregate, int n) {
  events::OutgoingEvent e;
  e.id = events::NewUuid();
  e.name = subject;
  e.version = 1;
  e.aggregate_type = "thing";
  e.aggregate_id = aggregate;
  e.payload = aggregate + ":" + std::to_string(n);
  e.occurred_at = std::chrono::system_clock::now();
  return e;
}

// Payloads in stream order, per aggregate: "a:1", "a:2"... must be 1, 2, ...
std::map<std::string, std::vector<int>> PerAggregate(const std::vector<StreamMessage>& messages) {
  std::map<std::string, std::vector<int>> out;
  for (const auto& m : messages) {
    auto colon = m.data.find(':');
    out[m.data.substr(0, colon)].push_back(std::stoi(m.data.substr(colon + 1)));
  }
  return out;
}

std::vector<int> OneTo(int n) {
  std::vector<int> v(n);
  for (int i = 0; i < n; ++i) v[i] = i + 1;
  return v;
}

class RelayFailoverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      static const bool logging = (log::Init("relay-test", "warn"), true);
      (void)logging;
      js_ = new JsClient(TestStack::Get().nats_url());
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete js_;
    js_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
    url_ = TestStack::Get().CreateDatabase("relay");
    pool_ = std::make_unique<pg::Pool>(url_, 2);
    pg::Migrate(*pool_, pg::PlatformMigrations());
  }

  void Insert(const std::vector<events::OutgoingEvent>& evs) {
    pool_->InTransaction([&](pg::Transaction& tx) {
      for (const auto& e : evs) tx.Exec(platform::OutboxInsert(e));
    });
  }
  int64_t Unpublished() {
    return pool_->WithRetry(
        [](pg::Connection& c) { return c.Exec("SELECT count(*) FROM outbox").Int(0, 0); });
  }

  // A stream of its own for each run of a test (--gtest_repeat): "<prefix>N"
  // on subjects "<prefix lower-case>N.>".
  static std::string NewStream(const std::string& prefix) {
    static int runs = 0;
    std::string name = prefix + std::to_string(++runs);
    std::string subject = name;
    for (auto& c : subject) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    js_->AddStream(name, {subject + ".>"}, std::chrono::minutes(2));
    return name;
  }
  static std::string SubjectIn(const std::string& stream) {
    std::string subject = stream;
    for (auto& c : subject) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return subject + ".thing.changed";
  }

  static platform::RelayOptions Options(const std::string& producer, int64_t lock_key) {
    platform::RelayOptions o;
    o.producer = producer;
    o.lock_key = lock_key;
    o.poll_interval = 50ms;
    o.ack_timeout = 1s;
    o.leader_timeout = kLeaderTimeout;
    return o;
  }

  static inline std::string* setup_error_ = nullptr;
  static inline JsClient* js_ = nullptr;
  std::string url_;
  std::unique_ptr<pg::Pool> pool_;
};

// One test_relay process and what it last reported.
class RelayProcess final {
 public:
  RelayProcess(const std::string& producer, const std::string& db_url) {
    auto& stack = TestStack::Get();
    SpawnOptions o;
    o.argv = {ATES_TEST_RELAY_BIN};
    o.env = {{"ATES_TEST_NATS_URL", stack.nats_url()},
             {"ATES_TEST_DATABASE_URL", db_url},
             {"ATES_TEST_PRODUCER", producer},
             {"ATES_TEST_LOCK_KEY", "4242777"},
             {"ATES_TEST_LEADER_TIMEOUT_MS",
              std::to_string(std::chrono::milliseconds(kLeaderTimeout).count())}};
    o.output_path = stack.LogPath(producer);
    log_ = o.output_path;
    process_ = Process::Spawn(o);
  }
  ~RelayProcess() {
    process_->Signal(SIGCONT);
    process_->Stop(SIGTERM, 10s);
    if (::testing::Test::HasFailure()) std::cerr << "----- " << log_ << "\n" << Log() << "\n";
  }
  Process& process() { return *process_; }
  std::string Log() const { return ReadFile(log_); }
  // The last "leader=<0|1> published=<n>" line.
  bool Leader() const { return Last("leader=") == 1; }
  int64_t Published() const { return Last("published="); }
  bool Reported() const { return Last("leader=") >= 0; }

 private:
  int64_t Last(const std::string& key) const {
    auto log = Log();
    auto line = log.rfind("\nleader=");
    if (line == std::string::npos) line = log.starts_with("leader=") ? 0 : std::string::npos;
    if (line == std::string::npos) return -1;
    auto at = log.find(key, line);
    return at == std::string::npos ? -1 : std::stoll(log.substr(at + key.size()));
  }

  std::string log_;
  std::unique_ptr<Process> process_;
};

TEST_F(RelayFailoverTest, FrozenLeaderLosesLeadershipAndAStandbyPublishesWithinTheBound) {
  const std::string stream = NewStream("RFAIL");
  const std::string subject = SubjectIn(stream);
  RelayProcess a("relay-a", url_);
  ASSERT_TRUE(Eventually([&] { return a.Leader(); }, 20s)) << a.Log();
  RelayProcess b("relay-b", url_);
  ASSERT_TRUE(Eventually([&] { return b.Reported(); }, 20s)) << b.Log();

  // One writer, one event per transaction, round robin over four aggregates.
  std::atomic<bool> writing{true};
  std::atomic<int> written{0};
  std::thread writer([&] {
    pg::Connection c(url_);
    for (int n = 1; writing; ++n) {
      for (const char* agg : {"w", "x", "y", "z"}) {
        auto insert = platform::OutboxInsert(Event(subject, agg, n));
        c.Exec(insert.sql, insert.params);
        ++written;
      }
      std::this_thread::sleep_for(10ms);
    }
  });
  ASSERT_TRUE(Eventually([&] { return js_->LastSeq(stream) >= 40; }));

  a.process().Signal(SIGSTOP);
  auto frozen = Clock::now();
  bool took_over = Eventually([&] { return b.Leader() && b.Published() > 0; }, 20s, 10ms);
  auto failover = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - frozen);
  EXPECT_TRUE(took_over) << b.Log();
  std::cout << "[ measure  ] standby published " << failover.count()
            << " ms after the leader froze (leader_timeout "
            << std::chrono::milliseconds(kLeaderTimeout).count() << " ms)" << std::endl;
  // The server ends the frozen session after leader_timeout of silence; the
  // standby tries the lock every quarter of it.
  EXPECT_LT(failover, kLeaderTimeout + kLeaderTimeout / 4 + 1s);

  a.process().Signal(SIGCONT);
  EXPECT_TRUE(Eventually([&] { return !a.Leader(); }, 10s)) << a.Log();
  EXPECT_THAT(a.Log(), ::testing::HasSubstr("outbox relay stepped down"));
  const uint64_t after_thaw = js_->LastSeq(stream);
  ASSERT_TRUE(Eventually([&] { return js_->LastSeq(stream) >= after_thaw + 40; }));
  writing = false;
  writer.join();
  ASSERT_TRUE(Eventually([&] { return Unpublished() == 0; })) << "outbox not drained";
  EXPECT_TRUE(b.Leader());

  auto messages = js_->Read(stream);
  // Every event once, per aggregate in the order written.
  const int per_aggregate = written / 4;
  auto seen = PerAggregate(messages);
  for (const char* agg : {"w", "x", "y", "z"}) {
    EXPECT_EQ(seen[agg], OneTo(per_aggregate)) << "aggregate " << agg;
  }
  // Never two publishers: nothing from relay-a after relay-b's first message.
  size_t first_b = messages.size();
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].Header(events::kHeaderProducer) == "relay-b") {
      first_b = i;
      break;
    }
  }
  ASSERT_LT(first_b, messages.size());
  EXPECT_GT(first_b, 0u) << "relay-a published first";
  for (size_t i = first_b; i < messages.size(); ++i) {
    EXPECT_EQ(messages[i].Header(events::kHeaderProducer), "relay-b")
        << "stream seq " << messages[i].seq << " (" << messages[i].data << ")";
  }
}

TEST_F(RelayFailoverTest, LeaderKeepsItsLockWhileNatsIsDown) {
  const std::string stream = NewStream("RNATS");
  const std::string subject = SubjectIn(stream);
  platform::JetStream nats(TestStack::Get().nats_url(), "relay-test");
  platform::OutboxRelay leader(Options("rnats-a", 4242778), url_, nats, nullptr);
  platform::OutboxRelay standby(Options("rnats-b", 4242778), url_, nats, nullptr);
  leader.Start();
  ASSERT_TRUE(Eventually([&] { return leader.leader(); }));
  standby.Start();

  TestStack::Get().StopNats();
  Insert({Event(subject, "n", 1), Event(subject, "n", 2)});
  // Twice the bound with NATS down: a leader that went quiet meanwhile would
  // lose its session, and the standby would take over.
  auto until = Clock::now() + 2 * kLeaderTimeout;
  bool flapped = false;
  while (Clock::now() < until) {
    flapped = flapped || !leader.leader() || standby.leader();
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_FALSE(flapped) << "leadership changed while NATS was down";
  TestStack::Get().StartNats();
  ASSERT_TRUE(js_->WaitConnected(20s));
  ASSERT_TRUE(Eventually([&] { return Unpublished() == 0; }, 30s));
  EXPECT_EQ(PerAggregate(js_->Read(stream))["n"], OneTo(2));
  EXPECT_TRUE(leader.leader());
  EXPECT_FALSE(standby.leader());
  standby.Stop();
  leader.Stop();
}

TEST_F(RelayFailoverTest, PublishFailingInTheMiddleOfABatchHoldsBackOnlyItsAggregatesLaterEvents) {
  const std::string stream = NewStream("RMID");
  const std::string subject = SubjectIn(stream);
  // One batch: a:2 goes to a subject no stream takes, so its publish fails.
  auto bad = Event("rnowhere.thing.changed", "a", 2);
  Insert({Event(subject, "a", 1), Event(subject, "b", 1), bad, Event(subject, "b", 2),
          Event(subject, "a", 3), Event(subject, "b", 3)});
  platform::JetStream nats(TestStack::Get().nats_url(), "relay-test");
  platform::OutboxRelay relay(Options("rmid", 4242779), url_, nats, nullptr);
  relay.Start();
  ASSERT_TRUE(Eventually([&] { return PerAggregate(js_->Read(stream))["b"].size() == 3; }));
  ASSERT_TRUE(Eventually([&] { return Unpublished() == 2; })) << "a:2 and a:3 stay in the outbox";
  auto before = PerAggregate(js_->Read(stream));
  EXPECT_EQ(before["a"], OneTo(1)) << "a:3 must wait for a:2";
  EXPECT_EQ(before["b"], OneTo(3));

  // Once a:2 can be stored, a:2 and then a:3 follow.
  pool_->WithRetry([&](pg::Connection& c) {
    c.Exec("UPDATE outbox SET event_type = $2 WHERE id = $1",
           {pg::Text(bad.id), pg::Text(subject)});
  });
  ASSERT_TRUE(Eventually([&] { return Unpublished() == 0; }, 30s));
  auto after = PerAggregate(js_->Read(stream));
  EXPECT_EQ(after["a"], OneTo(3));
  EXPECT_EQ(after["b"], OneTo(3));
  relay.Stop();
}

TEST_F(RelayFailoverTest, EachMessageCarriesItsEventsTraceparentAndNoneWhenItHasNone) {
  const std::string stream = NewStream("RTRACE");
  const std::string subject = SubjectIn(stream);
  const std::string traced = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto with = Event(subject, "t", 1);
  with.traceparent = traced;
  Insert({with, Event(subject, "t", 2)});
  platform::JetStream nats(TestStack::Get().nats_url(), "relay-test");
  platform::OutboxRelay relay(Options("rtrace", 4242780), url_, nats, nullptr);
  relay.Start();
  ASSERT_TRUE(Eventually([&] { return Unpublished() == 0; }));
  auto messages = js_->Read(stream);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].data, "t:1");
  EXPECT_EQ(messages[0].Header("traceparent"), traced);
  EXPECT_EQ(messages[1].data, "t:2");
  EXPECT_EQ(messages[1].headers.count("traceparent"), 0u) << "no context, no header";
  relay.Stop();
}

}  // namespace
}  // namespace ates::test
