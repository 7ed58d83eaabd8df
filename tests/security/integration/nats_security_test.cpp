// The event bus under attack (issue 10, ADR 15): a daemon's NATS user can
// publish only its own domain, so a forged tasks.task.completed from billing's
// or analytics' credentials never reaches the stream; an event whose subject,
// name and producer disagree that does reach a stream (written here by the
// privileged test user) is dead-lettered by the consumer and moves no money;
// a daemon whose credentials the server refuses exits and says why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "ates/platform/event_envelope.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/metrics.hpp"
#include "support/billing_helpers.hpp"
#include "support/tasks_helpers.hpp"

namespace ates::test {
namespace {

using ::testing::HasSubstr;

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new BillingWorldEnvironment);

// A plain nats.c client logged in as one NATS user, which remembers whether
// the server refused one of its operations.
class NatsUser final {
 public:
  NatsUser(const std::string& user, const std::string& password) {
    natsOptions* opts = nullptr;
    natsOptions_Create(&opts);
    natsOptions_SetURL(opts, TestStack::Get().nats_url().c_str());
    natsOptions_SetUserInfo(opts, user.c_str(), password.c_str());
    natsOptions_SetErrorHandler(opts, OnError, this);
    natsStatus s = natsConnection_Connect(&conn_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) throw std::runtime_error("connect as " + user + ": " + natsStatus_GetText(s));
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 2000;
    if (natsConnection_JetStream(&js_, conn_, &jo) != NATS_OK) throw std::runtime_error("js");
  }
  ~NatsUser() {
    if (js_) jsCtx_Destroy(js_);
    natsConnection_Destroy(conn_);
  }

  // Publishes to JetStream with the headers an event carries; the status of the ack.
  natsStatus Publish(const Ev& e, const std::string& producer) {
    natsMsg* msg = nullptr;
    natsMsg_Create(&msg, e.subject.c_str(), nullptr, e.payload.data(),
                   static_cast<int>(e.payload.size()));
    natsMsgHeader_Set(msg, events::kHeaderMsgId, e.id.c_str());
    natsMsgHeader_Set(msg, events::kHeaderName, e.subject.c_str());
    natsMsgHeader_Set(msg, events::kHeaderVersion, std::to_string(e.version).c_str());
    natsMsgHeader_Set(msg, events::kHeaderProducer, producer.c_str());
    jsPubAck* ack = nullptr;
    natsStatus s = js_PublishMsg(&ack, js_, msg, nullptr, nullptr);
    if (ack) jsPubAck_Destroy(ack);
    natsMsg_Destroy(msg);
    return s;
  }
  bool refused() const { return refused_; }

 private:
  static void OnError(natsConnection*, natsSubscription*, natsStatus s, void* self) {
    if (s == NATS_NOT_PERMITTED) static_cast<NatsUser*>(self)->refused_ = true;
  }
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
  std::atomic<bool> refused_{false};
};

class NatsSecurityTest : public BillingTest {
 protected:
  int64_t Postings(const std::string& event_id) {
    return QueryInt(w().billing_db, "SELECT count(*) FROM transactions WHERE id = $1",
                    {pg::Text(event_id)});
  }
  std::string DeadLetterReason(const std::string& event_id) {
    auto r = Query(w().billing_db, "SELECT reason FROM dead_letters WHERE event_id = $1",
                   {pg::Text(event_id)});
    return r.Rows() == 0 ? "" : r.String(0, 0);
  }
};

TEST_F(NatsSecurityTest, ATaskCompletedPublishedWithBillingsOrAnalyticsCredentialsIsRefused) {
  const std::string worker = w().NewWorker();
  const std::string day = w().NewDays(1);
  const std::string task = events::NewUuid();
  w().Send(AssignedEv(task, worker, At(day)));
  ASSERT_TRUE(w().Quiet());
  const int64_t balance = w().Balance(worker);
  for (const char* user : {"ates-billing", "ates-analytics"}) {
    SCOPED_TRACE(user);
    NatsUser attacker(user, TestStack::Get().NatsPassword(user));
    const uint64_t before = w().js->LastSeq("TASKS");
    Ev forged = CompletedEv(task, worker, At(day, "13:00:00"));
    EXPECT_NE(attacker.Publish(forged, "ates-tasks"), NATS_OK) << "the stream acked the forgery";
    EXPECT_TRUE(Eventually([&] { return attacker.refused(); }, 5s))
        << "the server did not report a permissions violation";
    EXPECT_EQ(w().js->LastSeq("TASKS"), before) << "the forged event reached the stream";
  }
  // The same publish with ates-tasks' own credentials is stored and credited:
  // the refusals above were the users', not the message's.
  NatsUser tasks("ates-tasks", TestStack::Get().NatsPassword("ates-tasks"));
  Ev real = CompletedEv(task, worker, At(day, "14:00:00"));
  w().model.Record(real);
  EXPECT_EQ(tasks.Publish(real, "ates-tasks"), NATS_OK);
  EXPECT_FALSE(tasks.refused());
  ASSERT_TRUE(w().Quiet());
  EXPECT_EQ(w().Balance(worker), balance + w().Price(task).second);
}

TEST_F(NatsSecurityTest, AnEventWhoseSubjectNameOrProducerDisagreeIsDeadLetteredAndMovesNoMoney) {
  const std::string worker = w().NewWorker();
  const std::string day = w().NewDays(1);
  const std::string task = events::NewUuid();
  w().Send(AssignedEv(task, worker, At(day)));
  ASSERT_TRUE(w().Quiet());
  const int64_t balance = w().Balance(worker);
  // Written straight into TASKS by the privileged test user, as an attacker
  // with a leaked broker password could: each would credit the reward.
  Ev wrong_producer = CompletedEv(task, worker, At(day, "13:00:00"));
  Ev no_producer = CompletedEv(task, worker, At(day, "13:01:00"));
  Ev wrong_name = CompletedEv(task, worker, At(day, "13:02:00"));
  w().js->Publish(wrong_producer.subject, wrong_producer.payload,
                  {{events::kHeaderMsgId, wrong_producer.id},
                   {events::kHeaderName, wrong_producer.subject},
                   {events::kHeaderVersion, "1"},
                   {events::kHeaderProducer, "ates-billing"}});
  w().js->Publish(no_producer.subject, no_producer.payload,
                  {{events::kHeaderMsgId, no_producer.id},
                   {events::kHeaderName, no_producer.subject},
                   {events::kHeaderVersion, "1"}});
  w().js->Publish("tasks.task.assigned", wrong_name.payload,
                  {{events::kHeaderMsgId, wrong_name.id},
                   {events::kHeaderName, "tasks.task.completed"},
                   {events::kHeaderVersion, "1"},
                   {events::kHeaderProducer, "ates-tasks"}});
  ASSERT_TRUE(w().Quiet());
  EXPECT_THAT(DeadLetterReason(wrong_producer.id),
              HasSubstr("envelope rejected: Ates-Producer 'ates-billing' is not ates-tasks"));
  EXPECT_THAT(DeadLetterReason(no_producer.id),
              HasSubstr("envelope rejected: Ates-Producer '' is not ates-tasks"));
  EXPECT_THAT(DeadLetterReason(wrong_name.id),
              HasSubstr("envelope rejected: subject 'tasks.task.assigned' differs from "
                        "Ates-Event-Name 'tasks.task.completed'"));
  for (const Ev* e : {&wrong_producer, &no_producer, &wrong_name}) {
    EXPECT_EQ(Postings(e->id), 0) << "forged event " << e->id << " was applied";
  }
  EXPECT_EQ(w().Balance(worker), balance);
  EXPECT_THAT(w().billing->Log(), HasSubstr("event envelope rejected"));
  // Dead-lettered at the first delivery: a forgery does not improve with retries.
  EXPECT_EQ(QueryInt(w().billing_db,
                     "SELECT max(deliveries) FROM dead_letters WHERE reason LIKE 'envelope%'"),
            1);
}

// The consumer itself, on the real ACCOUNTS stream: the metric counts what the
// envelope check refused, and the handler never sees it.
TEST_F(NatsSecurityTest, TheConsumerCountsRejectedEnvelopesAndNeverHandsThemToItsHandler) {
  auto& stack = TestStack::Get();
  const std::string db = stack.CreateDatabase("envelope");
  pg::Pool pool(db, 2);
  pg::Migrate(pool, pg::PlatformMigrations());
  pool.WithRetry([](pg::Connection& c) { c.Exec(kEffectsSchema); });
  platform::JetStream nats(stack.nats_url(), "envelope-test");
  platform::Metrics metrics;
  RecordingHandler handler("envelope_probe");
  platform::ConsumerOptions o;
  o.name = "envelope_probe";
  o.stream = "ACCOUNTS";
  o.fetch_wait = std::chrono::milliseconds(200);
  platform::Consumer consumer(o, nats, pool, handler, &metrics);
  consumer.Start();
  auto publish = [&](const std::string& id, const std::string& producer) {
    w().js->Publish("accounts.account.created", AccountCreatedPayload(id, "l-" + id.substr(24)),
                    {{events::kHeaderMsgId, id},
                     {events::kHeaderName, "accounts.account.created"},
                     {events::kHeaderVersion, "1"},
                     {events::kHeaderProducer, producer}});
  };
  const std::string forged = events::NewUuid(), real = events::NewUuid();
  publish(forged, "ates-tasks");
  publish(real, "ates-auth");
  auto effects = [&](const std::string& id) {
    return QueryInt(db, "SELECT count(*) FROM test_effects WHERE event_id = $1", {pg::Text(id)});
  };
  ASSERT_TRUE(Eventually([&] { return effects(real) == 1; }, 20s)) << "the real event was lost";
  consumer.Stop();
  EXPECT_EQ(effects(forged), 0);
  EXPECT_EQ(metrics.EventsEnvelopeRejected("envelope_probe").Value(), 1);
  EXPECT_EQ(
      QueryInt(db, "SELECT count(*) FROM dead_letters WHERE event_id = $1", {pg::Text(forged)}), 1);
  // Replaying the dead letter refuses it again: an operator cannot launder it.
  const int64_t id =
      QueryInt(db, "SELECT id FROM dead_letters WHERE event_id = $1", {pg::Text(forged)});
  auto outcome = consumer.Replay(id);
  EXPECT_EQ(outcome.kind, platform::ReplayOutcome::Kind::kFailed);
  EXPECT_THAT(outcome.reason, HasSubstr("envelope rejected"));
  EXPECT_EQ(effects(forged), 0);
}

// The prod overlay's NATS: TLS, the server verified against nats.tls_ca_file.
// A second nats-server with the stack's users and a certificate made here.
TEST_F(NatsSecurityTest, ADaemonsNatsClientConnectsOverTlsOnlyToAServerItsCaVouchesFor) {
  auto& stack = TestStack::Get();
  const std::string dir = stack.dir() + "/nats-tls";
  std::filesystem::create_directories(dir);
  auto make_cert = [&](const std::string& name) {
    SpawnOptions o;
    o.argv = {"openssl",  "req",
              "-x509",    "-newkey",
              "rsa:2048", "-nodes",
              "-days",    "1",
              "-subj",    "/CN=" + name,
              "-addext",  "subjectAltName=DNS:localhost,IP:127.0.0.1",
              "-keyout",  dir + "/" + name + ".key",
              "-out",     dir + "/" + name + ".crt"};
    o.output_path = dir + "/openssl-" + name + ".log";
    ASSERT_EQ(RunCommand(o, 30s), 0) << ReadFile(o.output_path);
  };
  make_cert("server");
  make_cert("stranger");  // a CA that never signed the server's certificate
  if (HasFatalFailure()) return;
  const int port = FreePort();
  SpawnOptions o;
  o.argv = {"nats-server",       "-c",       stack.WriteNatsAuth(dir), "-a",
            "127.0.0.1",         "-p",       std::to_string(port),     "--tlscert",
            dir + "/server.crt", "--tlskey", dir + "/server.key"};
  o.output_path = dir + "/nats.log";
  auto server = Process::Spawn(o);
  ASSERT_TRUE(Eventually(
      [&] { return ReadFile(o.output_path).find("Server is ready") != std::string::npos; }, 20s))
      << ReadFile(o.output_path);
  const std::string url = "tls://127.0.0.1:" + std::to_string(port);
  platform::NatsCredentials creds{"ates-tasks", stack.NatsPassword("ates-tasks"),
                                  dir + "/server.crt"};
  platform::JetStream trusted(url, "tls-test", creds);
  EXPECT_TRUE(Eventually([&] { return trusted.Connected(); }, 10s))
      << "no TLS connection with the right CA";
  creds.tls_ca_file = dir + "/stranger.crt";
  platform::JetStream fooled(url, "tls-test-wrong-ca", creds);
  std::this_thread::sleep_for(2s);
  EXPECT_FALSE(fooled.Connected()) << "connected to a server its CA does not vouch for";
  creds.tls_ca_file = "";
  platform::JetStream plain("nats://127.0.0.1:" + std::to_string(port), "plain", creds);
  std::this_thread::sleep_for(2s);
  EXPECT_FALSE(plain.Connected()) << "the TLS server took a plaintext client";
  server->Stop(SIGTERM, 10s);
}

TEST_F(NatsSecurityTest, ADaemonWhoseCredentialsTheServerRefusesExitsAndSaysWhy) {
  auto& stack = TestStack::Get();
  // ates-tasks with billing's password: a real user, the wrong secret.
  Daemon tasks(TasksDaemon("ates-tasks-wrong-password", stack.CreateDatabase("tasks_wrong"),
                           w().auth->target(), "sec_tasks_accounts",
                           {{"ATES_NATS_PASSWORD", stack.NatsPassword("ates-billing")}}));
  tasks.Spawn();
  auto code = tasks.WaitExit(20s);
  ASSERT_TRUE(code.has_value()) << "still running with refused credentials";
  EXPECT_NE(*code, 0);
  EXPECT_THAT(tasks.Log(), HasSubstr("refused user ates-tasks"));
  EXPECT_THAT(tasks.Log(), HasSubstr("Authentication Violation"));
  // A user the server does not know at all.
  Daemon stranger(
      TasksDaemon("ates-tasks-unknown-user", stack.CreateDatabase("tasks_unknown"),
                  w().auth->target(), "sec_tasks_accounts2",
                  {{"ATES_NATS_USER", "ates-intruder"}, {"ATES_NATS_PASSWORD", "guess"}}));
  stranger.Spawn();
  code = stranger.WaitExit(20s);
  ASSERT_TRUE(code.has_value()) << "an unknown NATS user was let in";
  EXPECT_THAT(stranger.Log(), HasSubstr("refused user ates-intruder"));
}

}  // namespace
}  // namespace ates::test
