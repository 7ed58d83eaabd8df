// The services end to end, as real daemons (ates-auth, ates-tasks, ates-billing,
// ates-analytics started by this program on the bench's PostgreSQL and
// nats-server, each with a fresh database of its own):
//   1. CreateTask over gRPC from C concurrent callers (one channel, one worker
//      token and one call in flight each), for a fixed time: calls/s and
//      p50/p99 latency; raw single-row commits on as many connections just
//      before and just after it (references); and GetTask and the health
//      check with the same callers, the cost of the gRPC path without a commit.
//      Goals (issue 11): GetTask >= 50% of Health/Check, CreateTask >= 25% of
//      Health/Check and >= 60% of GetTask;
//   2. ShuffleTasks over 100,000 open tasks (inserted in SQL): time until the
//      RPC returns (committed), then until every tasks.task.assigned event is
//      on the TASKS stream;
//   3. ates-billing applying a TASKS stream of tasks.task.assigned events (real
//      TaskAssigned bodies and headers, 10,000 tasks, 1,000 accounts): events/s
//      from the first fetch until the consumer's ack floor (acks follow the
//      commit) reaches the end of the stream; then the close of a day with
//      10,000 accounts in credit: time from the schedule.billing_cycle.closed
//      publish until the 10,000 payouts are committed;
//   4. ates-analytics applying a mixed TASKS + BILLING stream: events/s the same way.
// Sizes: ATES_BENCH_CLIENTS (8), ATES_BENCH_CREATE_SECONDS (5), ATES_BENCH_GET_SECONDS (3),
// ATES_BENCH_SHUFFLE_TASKS (100000), ATES_BENCH_BILLING_EVENTS (100000),
// ATES_BENCH_CLOSE_ACCOUNTS (10000), ATES_BENCH_ANALYTICS_EVENTS (100000);
// ATES_BENCH_ONLY=create,shuffle,billing,close,analytics,gateway runs some of them;
// ATES_BENCH_KEEP=1 keeps the daemons' logs.

#include <absl/synchronization/mutex.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <nats/nats.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ates/auth/v1/auth_service.grpc.pb.h"
#include "ates/devstack/daemon.hpp"
#include "ates/devstack/files.hpp"
#include "ates/devstack/process.hpp"
#include "ates/events/billing/v1/billing_events.pb.h"
#include "ates/events/schedule/v1/schedule_events.pb.h"
#include "ates/events/tasks/v1/task_events.pb.h"
#include "ates/events/tasks/v2/task_events.pb.h"
#include "ates/platform/events.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/pg.hpp"
#include "ates/tasks/v1/task_service.grpc.pb.h"
#include "common.hpp"
#include "gateway_overhead.hpp"
#include "grpc/health/v1/health.grpc.pb.h"

#ifndef ATES_SOURCE_DIR
#error "ATES_SOURCE_DIR, ATES_AUTH_BIN, ... must be defined by the build"
#endif

namespace {

namespace pg = ates::pg;
namespace events = ates::events;
namespace platform = ates::platform;
namespace authv1 = ates::auth::v1;
namespace tasksv1 = ates::tasks::v1;
namespace t1 = ates::events::tasks::v1;
namespace t2 = ates::events::tasks::v2;
namespace b1 = ates::events::billing::v1;
namespace s1 = ates::events::schedule::v1;
using ates::bench::CheckNats;
using ates::bench::Grouped;
using ates::bench::Note;
using ates::bench::Stopwatch;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kAdminLogin = "bench-admin";
constexpr const char* kAdminPassword = "bench-admin-password-1";
constexpr const char* kPassword = "bench-popug-pass-1";

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::stoll(v) : fallback;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// ---- processes ---------------------------------------------------------------

// The daemons run through the launcher of `make run` and the tests (ADR 0023):
// on a free gRPC port, every ATES_* variable of this process removed, metrics
// off, output to a log file; SIGKILL if this program dies.
using ates::devstack::Daemon;

// ---- JetStream ---------------------------------------------------------------

struct AckCounter {
  std::atomic<int64_t> acked{0};
  std::atomic<int64_t> failed{0};
};

void OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* c = static_cast<AckCounter*>(closure);
  if (pa != nullptr && pae == nullptr) {
    ++c->acked;
  } else {
    ++c->failed;
  }
  natsMsg_Destroy(msg);
}

// An event as a producer's relay puts it on a stream.
struct Event {
  std::string name;  // = subject
  int version = 1;
  std::string id;
  std::string payload;
  std::string producer;
};

Event MakeEvent(std::string name, int version, const google::protobuf::Message& body,
                std::string producer) {
  return {std::move(name), version, events::NewUuid(), body.SerializeAsString(),
          std::move(producer)};
}

class Nats {
 public:
  explicit Nats(const std::string& url) : js_(url, "ates-bench-services") {
    js_.EnsureStreams(platform::SystemStreams(platform::StreamSpec{}));
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 10000;
    jo.PublishAsync.AckHandler = OnAck;
    jo.PublishAsync.AckHandlerClosure = &acks_;
    jo.PublishAsync.MaxPending = 1 << 16;
    jo.PublishAsync.StallWait = 10000;
    pub_ = js_.NewContext(&jo);
  }
  ~Nats() {
    if (pub_) jsCtx_Destroy(pub_);
  }

  void Purge(const char* stream) {
    jsErrCode err = static_cast<jsErrCode>(0);
    CheckNats(js_PurgeStream(js_.js(), stream, nullptr, &err), std::string("purge ") + stream);
  }
  void DeleteConsumer(const char* stream, const std::string& name) {
    jsErrCode err = static_cast<jsErrCode>(0);
    js_DeleteConsumer(js_.js(), stream, name.c_str(), nullptr, &err);  // absent is fine
  }

  uint64_t LastSeq(const char* stream) {
    jsStreamInfo* info = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    CheckNats(js_GetStreamInfo(&info, js_.js(), stream, nullptr, &err), "stream info");
    uint64_t last = info->State.LastSeq;
    jsStreamInfo_Destroy(info);
    return last;
  }

  struct ConsumerPos {
    bool exists = false;
    uint64_t delivered = 0;   // stream sequence of the last delivered message
    uint64_t ack_floor = 0;   // stream sequence up to which everything is acked
    int64_t created_ns = 0;   // when the consumer was created (server clock, ns since epoch)
    int64_t last_ack_ns = 0;  // when the ack floor last moved
  };
  ConsumerPos Consumer(const char* stream, const std::string& name) {
    jsConsumerInfo* ci = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    ConsumerPos p;
    if (js_GetConsumerInfo(&ci, js_.js(), stream, name.c_str(), nullptr, &err) == NATS_OK && ci) {
      p.exists = true;
      p.delivered = ci->Delivered.Stream;
      p.ack_floor = ci->AckFloor.Stream;
      p.created_ns = ci->Created;
      p.last_ack_ns = ci->AckFloor.Last;
    }
    if (ci) jsConsumerInfo_Destroy(ci);
    return p;
  }

  // Publishes like an outbox relay (async, Nats-Msg-Id and the Ates-* headers)
  // and waits for every ack.
  void Publish(const std::vector<Event>& evs) {
    acks_.acked = 0;
    acks_.failed = 0;
    std::string occurred = events::FormatTimestamp(std::chrono::system_clock::now());
    for (const auto& e : evs) {
      natsMsg* msg = nullptr;
      CheckNats(natsMsg_Create(&msg, e.name.c_str(), nullptr, e.payload.data(),
                               static_cast<int>(e.payload.size())),
                "message");
      std::string version = std::to_string(e.version);
      natsMsgHeader_Set(msg, events::kHeaderName, e.name.c_str());
      natsMsgHeader_Set(msg, events::kHeaderVersion, version.c_str());
      natsMsgHeader_Set(msg, events::kHeaderProducer, e.producer.c_str());
      natsMsgHeader_Set(msg, events::kHeaderOccurredAt, occurred.c_str());
      natsMsgHeader_Set(msg, events::kHeaderCorrelationId, e.id.c_str());
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MsgId = e.id.c_str();
      natsStatus s = js_PublishMsgAsync(pub_, &msg, &po);
      if (s != NATS_OK) {
        natsMsg_Destroy(msg);
        CheckNats(s, "publish async");
      }
    }
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = 60000;
    CheckNats(js_PublishAsyncComplete(pub_, &wait), "publish async complete");
    for (int i = 0; i < 100 && acks_.acked + acks_.failed < static_cast<int64_t>(evs.size()); ++i) {
      std::this_thread::sleep_for(10ms);
    }
    if (acks_.failed > 0 || acks_.acked != static_cast<int64_t>(evs.size())) {
      throw std::runtime_error("publish: " + std::to_string(acks_.acked.load()) + " acked, " +
                               std::to_string(acks_.failed.load()) + " failed of " +
                               std::to_string(evs.size()));
    }
  }

 private:
  platform::JetStream js_;
  jsCtx* pub_ = nullptr;
  AckCounter acks_;
};

// ---- the system under test ---------------------------------------------------

struct Account {
  std::string id;
  std::string token;
};

class System {
 public:
  explicit System(const ates::bench::Settings& s) : s_(s), nats_(s.nats_url) {
    char tmpl[] = "/tmp/ates-bench-services.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    auto slash = s.pg_url.rfind('/');
    if (slash == std::string::npos || slash < 12) throw std::runtime_error("bad PostgreSQL URL");
    pg_base_ = s.pg_url.substr(0, slash + 1);
    // A fresh start: nothing of other programs' runs on the streams (the
    // platform benchmark leaves 400,000 account events on ACCOUNTS).
    for (const char* stream : {"ACCOUNTS", "TASKS", "BILLING", "SCHEDULE"}) nats_.Purge(stream);
  }
  ~System() {
    daemons_.clear();
    const char* keep = std::getenv("ATES_BENCH_KEEP");
    if (!failed_ && !(keep && std::string(keep) == "1")) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    } else {
      std::printf("  (daemon logs kept in %s)\n", dir_.c_str());
    }
  }
  void MarkFailed() { failed_ = true; }

  Nats& nats() { return nats_; }
  const std::string& dir() const { return dir_; }

  // Drops and creates database `name`; returns its URL.
  std::string FreshDatabase(const std::string& name) {
    pg::Connection c(s_.pg_url);
    c.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    c.Exec("CREATE DATABASE " + name);
    return pg_base_ + name;
  }

  Daemon& Start(const std::string& name, const std::string& binary,
                std::map<std::string, std::string> env) {
    env.emplace("ATES_NATS_URL", s_.nats_url);
    env.emplace("ATES_NATS_USER", "");  // the bench's nats-server has no users
    env.emplace("ATES_GRPC_SHUTDOWN_GRACE", "2s");
    // ATES_BENCH_LOG_LEVEL=debug measures the per-posting trace lines (ADR 33).
    const char* level = std::getenv("ATES_BENCH_LOG_LEVEL");
    env.emplace("ATES_LOG_LEVEL", level && *level ? level : "info");
    if (auth_) env.emplace("ATES_AUTH_KEYS_URL", auth_->target());
    ates::devstack::DaemonOptions o;
    o.name = name;
    o.binary = binary;
    o.config = std::string(ATES_SOURCE_DIR) + "/config/" + name + ".yaml";
    o.env = std::move(env);
    o.ready_timeout = 60s;
    auto d = std::make_unique<Daemon>(std::move(o), [dir = dir_](const std::string& daemon) {
      return ates::devstack::DaemonPlace{dir + "/" + daemon + ".log", ""};
    });
    d->Start();
    daemons_.push_back(std::move(d));
    return *daemons_.back();
  }
  void Stop(Daemon& d) {
    d.Stop(15s);
    std::erase_if(daemons_, [&](const auto& p) { return p.get() == &d; });
  }
  std::string Logs() const {
    std::string out;
    for (const auto& d : daemons_) {
      out += "----- " + d->name() + " -----\n" + ates::devstack::Tail(d->Log(), 4000) + "\n";
    }
    return out;
  }

  // ates-auth with the first admin; logs the admin in.
  void StartAuth() {
    auth_db_ = FreshDatabase("ates_bench_auth");
    auth_ =
        &Start("ates-auth", ATES_AUTH_BIN,
               {{"ATES_DATABASE_URL", auth_db_},
                {"ATES_BOOTSTRAP_ADMIN_LOGIN", kAdminLogin},
                {"ATES_BOOTSTRAP_ADMIN_PASSWORD", kAdminPassword},
                {"ATES_AUTH_KEY_ENCRYPTION_KEY", "YmVuY2gta2V5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGU="},
                {"ATES_OUTBOX_POLL_INTERVAL", "50ms"},
                {"ATES_DATABASE_POOL_SIZE", "4"}});
    auth_stub_ = authv1::AuthService::NewStub(auth_->channel());
    admin_ = Login(kAdminLogin, kAdminPassword);
  }

  Account Login(const std::string& login, const std::string& password) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    authv1::LoginRequest req;
    req.set_login(login);
    req.set_password(password);
    authv1::LoginResponse resp;
    auto st = auth_stub_->Login(&ctx, req, &resp);
    if (!st.ok()) throw std::runtime_error("login " + login + ": " + st.error_message());
    return {resp.account().id(), resp.access_token()};
  }

  Account NewWorker(const std::string& login) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    ctx.AddMetadata("authorization", "Bearer " + admin_.token);
    authv1::CreateAccountRequest req;
    req.set_login(login);
    req.set_full_name("Bench Popug " + login);
    req.set_email(login + "@bench.popug.example");
    req.set_role(ates::common::v1::ROLE_WORKER);
    req.set_password(kPassword);
    authv1::CreateAccountResponse resp;
    auto st = auth_stub_->CreateAccount(&ctx, req, &resp);
    if (!st.ok()) throw std::runtime_error("create account " + login + ": " + st.error_message());
    return Login(login, kPassword);
  }

  const Account& admin() const { return admin_; }
  std::string auth_target() const { return auth_->target(); }

 private:
  const ates::bench::Settings& s_;
  Nats nats_;
  std::string dir_;
  std::string pg_base_;
  bool failed_ = false;
  std::vector<std::unique_ptr<Daemon>> daemons_;
  Daemon* auth_ = nullptr;
  std::string auth_db_;
  std::unique_ptr<authv1::AuthService::Stub> auth_stub_;
  Account admin_;
};

// Polls `probe` every `every` until it returns true; throws after `timeout`.
void WaitFor(const std::string& what, std::chrono::milliseconds timeout,
             const std::function<bool()>& probe, std::chrono::milliseconds every = 10ms) {
  auto deadline = Clock::now() + timeout;
  while (!probe()) {
    if (Clock::now() > deadline) throw std::runtime_error("timed out waiting for " + what);
    std::this_thread::sleep_for(every);
  }
}

int64_t Count(pg::Connection& c, std::string_view sql, const pg::Params& params = {}) {
  return c.Exec(sql, params).Int(0, 0);
}

// Waits until the durable consumers (stream, name), which the daemon has just
// created, have acked their streams up to the last sequence. Returns the
// seconds from the consumers' creation (the daemon binds, then fetches at once)
// to the last ack, both as the server recorded them; a batch is acked after
// its commit.
double DrainTime(Nats& nats, const std::vector<std::pair<const char*, std::string>>& consumers,
                 std::chrono::milliseconds timeout, const std::string& what) {
  std::vector<uint64_t> last;
  for (const auto& [stream, name] : consumers) last.push_back(nats.LastSeq(stream));
  std::vector<Nats::ConsumerPos> pos(consumers.size());
  WaitFor(
      what, timeout,
      [&] {
        for (size_t i = 0; i < consumers.size(); ++i) {
          pos[i] = nats.Consumer(consumers[i].first, consumers[i].second);
          if (!pos[i].exists || pos[i].ack_floor < last[i]) return false;
        }
        return true;
      },
      5ms);
  int64_t created = INT64_MAX, acked = 0;
  for (const auto& p : pos) {
    created = std::min(created, p.created_ns);
    acked = std::max(acked, p.last_ack_ns);
  }
  if (created <= 0 || acked <= created) {
    throw std::runtime_error("consumer info without creation or ack times");
  }
  return static_cast<double>(acked - created) / 1e9;
}

bool Enabled(const std::string& section) {
  const char* only = std::getenv("ATES_BENCH_ONLY");
  if (only == nullptr || *only == '\0') return true;
  std::string list = std::string(",") + only + ",";
  return list.find("," + section + ",") != std::string::npos;
}

std::string Today() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

google::protobuf::Timestamp NowTs() { return google::protobuf::util::TimeUtil::GetCurrentTime(); }

// ---- 1 + 2: ates-tasks -------------------------------------------------------

struct ClientRun {
  int64_t calls = 0;
  int64_t warm_up_calls = 0;
  double seconds = 0;
  double p50 = 0, p99 = 0;  // ms
};

// `clients` concurrent callers, each with its own channel and one call in
// flight at a time (the next one leaves when the last one answered), driven
// from one thread through a completion queue, as a load generator does: a
// thread per caller would spend the shared cores on switching between them.
// Each caller makes 20 warm-up calls, then `after_warm_up()` runs, then all
// call for `duration`. `start(k, i, ctx, cq)` starts call i of caller k;
// `done(k, response)` sees each answer.
template <class Resp>
ClientRun RunClients(int clients, std::chrono::seconds duration,
                     const std::function<std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>>(
                         int, int64_t, grpc::ClientContext*, grpc::CompletionQueue*)>& start,
                     const std::function<void(int, const Resp&)>& done,
                     const std::function<void()>& after_warm_up) {
  constexpr int64_t kWarmUp = 20;
  struct Call {
    int k = 0;
    grpc::ClientContext ctx;
    Resp resp;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> rpc;
    Clock::time_point t0;
  };
  grpc::CompletionQueue cq;
  std::vector<int64_t> next(clients, 0);
  auto issue = [&](int k) {
    auto* call = new Call;
    call->k = k;
    call->ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    call->t0 = Clock::now();
    call->rpc = start(k, next[k]++, &call->ctx, &cq);
    call->rpc->Finish(&call->resp, &call->status, call);
  };
  // The next answer; throws (after draining the queue) if a call failed.
  auto await = [&]() -> std::unique_ptr<Call> {
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok)) throw std::runtime_error("completion queue shut down");
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
    if (!ok || !call->status.ok()) {
      throw std::runtime_error("call failed: " + call->status.error_message());
    }
    done(call->k, call->resp);
    return call;
  };
  int outstanding = 0;
  try {
    for (int k = 0; k < clients; ++k, ++outstanding) issue(k);
    while (outstanding > 0) {
      auto call = await();
      if (next[call->k] < kWarmUp) {
        issue(call->k);
      } else {
        --outstanding;
      }
    }
    after_warm_up();
    std::vector<double> all;
    all.reserve(200000);
    Stopwatch sw;
    const auto deadline = Clock::now() + duration;
    for (int k = 0; k < clients; ++k, ++outstanding) issue(k);
    while (outstanding > 0) {
      auto call = await();
      auto now = Clock::now();
      all.push_back(std::chrono::duration<double, std::milli>(now - call->t0).count());
      if (now < deadline) {
        issue(call->k);
      } else {
        --outstanding;
      }
    }
    ClientRun run;
    run.seconds = sw.Seconds();
    auto pct = [&](double q) {
      size_t at =
          std::min(all.size() - 1, static_cast<size_t>(q * static_cast<double>(all.size())));
      std::nth_element(all.begin(), all.begin() + static_cast<long>(at), all.end());
      return all[at];
    };
    run.calls = static_cast<int64_t>(all.size());
    run.warm_up_calls = kWarmUp * clients;
    run.p50 = pct(0.50);
    run.p99 = pct(0.99);
    return run;
  } catch (...) {
    // Let the calls still out finish before the queue goes away.
    cq.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq.Next(&tag, &ok)) delete static_cast<Call*>(tag);
    throw;
  }
}

using TaskStubs = std::vector<std::unique_ptr<tasksv1::TaskService::Stub>>;

// The same clients reading their own tasks back: what the gRPC path (token
// check, one indexed read, no commit) allows on this machine. For
// ATES_BENCH_GET_SECONDS (3; longer to profile it).
ClientRun MeasureGetTask(pg::Connection& db, TaskStubs& stubs, const std::vector<Account>& workers,
                         int clients) {
  // Tasks are assigned at random: each worker reads the ones it holds.
  std::vector<std::vector<std::string>> held(clients);
  for (int k = 0; k < clients; ++k) {
    auto r = db.Exec("SELECT id FROM tasks WHERE assignee_id = $1 LIMIT 1000",
                     {pg::Text(workers[k].id)});
    for (int i = 0; i < r.Rows(); ++i) held[k].push_back(r.String(i, 0));
    if (held[k].empty()) throw std::runtime_error("a worker got no task");
  }
  std::function<std::unique_ptr<grpc::ClientAsyncResponseReader<tasksv1::GetTaskResponse>>(
      int, int64_t, grpc::ClientContext*, grpc::CompletionQueue*)>
      get = [&](int k, int64_t i, grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        ctx->AddMetadata("authorization", "Bearer " + workers[k].token);
        tasksv1::GetTaskRequest req;
        req.set_task_id(held[k][static_cast<size_t>(i) % held[k].size()]);
        return stubs[k]->AsyncGetTask(ctx, req, cq);
      };
  return RunClients<tasksv1::GetTaskResponse>(
      clients, std::chrono::seconds(EnvInt("ATES_BENCH_GET_SECONDS", 3)), get,
      [](int, const tasksv1::GetTaskResponse&) {}, [] {});
}

// The floor of any call: the standard health check (no token, no database),
// over the same kind of channels.
ClientRun MeasureHealth(Daemon& tasks, int clients) {
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health;
  for (int k = 0; k < clients; ++k)
    health.push_back(grpc::health::v1::Health::NewStub(tasks.NewChannel()));
  std::function<
      std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::health::v1::HealthCheckResponse>>(
          int, int64_t, grpc::ClientContext*, grpc::CompletionQueue*)>
      check = [&](int k, int64_t, grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return health[k]->AsyncCheck(ctx, grpc::health::v1::HealthCheckRequest(), cq);
      };
  return RunClients<grpc::health::v1::HealthCheckResponse>(
      clients, std::chrono::seconds(3), check,
      [](int, const grpc::health::v1::HealthCheckResponse&) {}, [] {});
}

// Issue 11's goals, ratios to calls of the same server in the same run: GetTask
// >= 50% of Health/Check; CreateTask >= 25% of Health/Check and >= 60% of GetTask.
void ReportTaskCalls(const ates::bench::Settings& s, int clients, const ClientRun& create,
                     const ClientRun& get, const ClientRun& health) {
  auto rate = [](const ClientRun& r) { return r.seconds > 0 ? r.calls / r.seconds : 0.0; };
  auto latency = [](const ClientRun& r) {
    return " (p50 " + Fixed(r.p50, 1) + " ms, p99 " + Fixed(r.p99, 1) + " ms)";
  };
  const double create_floor = std::max(0.25 * rate(health), 0.6 * rate(get));
  auto create_goal =
      ates::bench::Goal::MinRate(create_floor, "calls", {"7-tasks-health", "7-tasks-get"});
  create_goal.text = ">= 25% of Health/Check and >= 60% of GetTask (" +
                     Grouped(static_cast<int64_t>(create_floor)) + "/s)";
  ates::bench::Report(
      s, "7-tasks-create",
      "ates-tasks CreateTask, " + std::to_string(clients) + " clients" + latency(create),
      create.calls, "calls", create.seconds, create_goal);
  auto get_goal = ates::bench::Goal::MinRate(0.5 * rate(health), "calls", {"7-tasks-health"});
  get_goal.text =
      ">= 50% of Health/Check (" + Grouped(static_cast<int64_t>(0.5 * rate(health))) + "/s)";
  ates::bench::Report(s, "7-tasks-get", "  ates-tasks GetTask, same clients" + latency(get),
                      get.calls, "calls", get.seconds, get_goal);
  ates::bench::Report(s, "7-tasks-health",
                      "  reference: Health/Check, same clients" + latency(health), health.calls,
                      "calls", health.seconds,
                      ates::bench::Goal::Versus({"7-tasks-raw-before", "7-tasks-raw-after"}));
}

void BenchTasks(const ates::bench::Settings& s, System& sys) {
  const int clients = static_cast<int>(EnvInt("ATES_BENCH_CLIENTS", 8));
  const auto duration = std::chrono::seconds(EnvInt("ATES_BENCH_CREATE_SECONDS", 5));
  const int64_t shuffle_n = EnvInt("ATES_BENCH_SHUFFLE_TASKS", 100000);

  std::vector<Account> workers;
  for (int i = 0; i < clients; ++i)
    workers.push_back(sys.NewWorker("bench-worker-" + std::to_string(i)));
  std::string db_url = sys.FreshDatabase("ates_bench_tasks");
  auto& tasks = sys.Start("ates-tasks", ATES_TASKS_BIN,
                          {{"ATES_DATABASE_URL", db_url},
                           {"ATES_DATABASE_POOL_SIZE", std::to_string(clients)},
                           {"ATES_CONSUMERS_ACCOUNTS_DURABLE", "bench_tasks_accounts"},
                           // One account per client creates as fast as it can.
                           {"ATES_TASKS_CREATE_PER_MINUTE", "0"},
                           {"ATES_TASKS_SHUFFLE_COOLDOWN", "0s"}});
  pg::Connection db(db_url);
  WaitFor("the tasks replica to hold the workers", 30s, [&] {
    return Count(db, "SELECT count(*) FROM accounts_replica WHERE active AND role = 'worker'") ==
           clients;
  });

  if (Enabled("create")) {
    // Every client has its own channel (connection) and its worker's token.
    std::vector<std::unique_ptr<tasksv1::TaskService::Stub>> stubs;
    for (int k = 0; k < clients; ++k)
      stubs.push_back(tasksv1::TaskService::NewStub(tasks.NewChannel()));
    std::function<std::unique_ptr<grpc::ClientAsyncResponseReader<tasksv1::CreateTaskResponse>>(
        int, int64_t, grpc::ClientContext*, grpc::CompletionQueue*)>
        create = [&](int k, int64_t i, grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
          ctx->AddMetadata("authorization", "Bearer " + workers[k].token);
          tasksv1::CreateTaskRequest req;
          req.set_title("Bench task " + std::to_string(k) + "-" + std::to_string(i));
          req.set_jira_id("UP-" + std::to_string(1000000 * k + i));
          req.set_description("Created by bench_services, client " + std::to_string(k));
          req.set_request_id("bench-" + std::to_string(k) + "-" + std::to_string(i));
          return stubs[k]->AsyncCreateTask(ctx, req, cq);
        };
    std::function<void(int, const tasksv1::CreateTaskResponse&)> created_one =
        [](int, const tasksv1::CreateTaskResponse&) {};
    auto after_warm_up = [&] {
      // The warm-up's events are on their way out: let the relay finish them.
      WaitFor("the warm-up events to leave the outbox", 30s,
              [&] { return Count(db, "SELECT count(*) FROM outbox") == 0; });
    };
    // Raw single-row commits on the same server with as many connections, just
    // before and just after: the machine's speed drifts over a run, and the
    // ratio is only fair between figures taken moments apart.
    auto raw_before = ates::bench::SingleRowCommits(db_url, clients, std::chrono::seconds(3));
    auto run = RunClients(clients, duration, create, created_one, after_warm_up);
    auto raw_after = ates::bench::SingleRowCommits(db_url, clients, std::chrono::seconds(3));
    int64_t stored = Count(db, "SELECT count(*) FROM tasks");
    if (stored != run.calls + run.warm_up_calls) {
      throw std::runtime_error("tasks table holds " + std::to_string(stored) + " rows, expected " +
                               std::to_string(run.calls + run.warm_up_calls));
    }
    const std::string conns = std::to_string(clients) + " connections";
    ates::bench::Report(s, "7-tasks-raw-before",
                        "  reference: postgres 1-row commits, " + conns + ", just before",
                        raw_before.commits, "commits", raw_before.seconds);
    ates::bench::Report(s, "7-tasks-raw-after",
                        "  reference: postgres 1-row commits, " + conns + ", just after",
                        raw_after.commits, "commits", raw_after.seconds);
    ates::bench::Note("ates-tasks CreateTask measured");
    auto reads = MeasureGetTask(db, stubs, workers, clients);
    ates::bench::Note("reference: GetTask measured");
    auto checks = MeasureHealth(tasks, clients);
    ates::bench::Note("reference: Health/Check measured");
    ReportTaskCalls(s, clients, run, reads, checks);
  }

  if (Enabled("shuffle")) {
    // Every event of the create run is published; then exactly `shuffle_n` open tasks.
    WaitFor(
        "the outbox to drain", 120s, [&] { return Count(db, "SELECT count(*) FROM outbox") == 0; },
        20ms);
    db.Exec("TRUNCATE tasks");
    const int64_t chunk = 10000;
    Stopwatch fill;
    for (int64_t at = 0; at < shuffle_n; at += chunk) {
      std::vector<std::string> ids;
      for (int64_t i = at; i < std::min(shuffle_n, at + chunk); ++i)
        ids.push_back(events::NewUuid());
      // The columns CreateTask writes; ids are time-ordered UUIDs like its own.
      db.Exec(
          "INSERT INTO tasks (id, title, jira_id, description, status, assignee_id, created_by,"
          " request_id, version, created_at, updated_at)"
          " SELECT u.id, 'Bench task ' || u.n, 'UP-' || u.n,"
          "  'Inserted by bench_services for the shuffle', 'open',"
          "  w.ids[1 + (u.n % cardinality(w.ids))::int], $2::uuid, NULL, 1, now(), now()"
          " FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, n),"
          "  (SELECT array_agg(id ORDER BY id) AS ids FROM accounts_replica"
          "   WHERE active AND role IN ('worker', 'accountant')) w",
          {pg::TextArray(ids), pg::Text(sys.admin().id)});
    }
    db.Exec("VACUUM (ANALYZE) tasks");
    Note("100,000 open tasks inserted and vacuumed in " + Fixed(fill.Seconds(), 1) + " s");

    auto stub = tasksv1::TaskService::NewStub(tasks.channel());
    uint64_t before = sys.nats().LastSeq("TASKS");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 120s);
    ctx.AddMetadata("authorization", "Bearer " + sys.admin().token);
    tasksv1::ShuffleTasksRequest req;
    tasksv1::ShuffleTasksResponse resp;
    Stopwatch sw;
    auto st = stub->ShuffleTasks(&ctx, req, &resp);
    double commit = sw.Seconds();
    if (!st.ok()) throw std::runtime_error("ShuffleTasks: " + st.error_message());
    if (resp.reassigned_count() != shuffle_n) {
      throw std::runtime_error("ShuffleTasks reassigned " +
                               std::to_string(resp.reassigned_count()) + ", expected " +
                               std::to_string(shuffle_n));
    }
    Stopwatch pub;
    WaitFor(
        "the assigned events on TASKS", 120s,
        [&] { return sys.nats().LastSeq("TASKS") >= before + static_cast<uint64_t>(shuffle_n); },
        5ms);
    double published = pub.Seconds();
    if (sys.nats().LastSeq("TASKS") != before + static_cast<uint64_t>(shuffle_n)) {
      throw std::runtime_error("TASKS got more than the shuffle's events");
    }
    ates::bench::Report(s, "8-shuffle-commit",
                        "ates-tasks ShuffleTasks of " + Grouped(shuffle_n) + " open tasks: commit",
                        shuffle_n, "tasks", commit, ates::bench::Goal::MaxSeconds(3));
    ates::bench::Report(s, "8-shuffle-publish", "  then until all assigned events are on TASKS",
                        shuffle_n, "events", published,
                        ates::bench::Goal::MaxSeconds(5, {"4-relay"}));
  }
  sys.Stop(tasks);
}

// ---- 3: ates-billing ---------------------------------------------------------

std::vector<std::string> Uuids(int64_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (int64_t i = 0; i < n; ++i) out.push_back(events::NewUuid());
  return out;
}

void BenchBilling(const ates::bench::Settings& s, System& sys) {
  const int64_t n = EnvInt("ATES_BENCH_BILLING_EVENTS", 100000);
  const int64_t close_accounts = EnvInt("ATES_BENCH_CLOSE_ACCOUNTS", 10000);
  const int64_t n_tasks = std::max<int64_t>(1, n / 10), n_accounts = std::max<int64_t>(1, n / 100);
  for (const char* stream : {"TASKS", "SCHEDULE"}) sys.nats().Purge(stream);

  std::string db_url = sys.FreshDatabase("ates_bench_billing");
  std::string mail_dir = sys.dir() + "/mail";
  std::map<std::string, std::string> env{
      {"ATES_DATABASE_URL", db_url},
      {"ATES_BILLING_MAIL_DIR", mail_dir},
      {"ATES_CONSUMERS_ACCOUNTS_DURABLE", "bench_billing_accounts"},
      {"ATES_CONSUMERS_TASKS_DURABLE", "bench_billing_tasks"},
      {"ATES_CONSUMERS_SCHEDULE_DURABLE", "bench_billing_schedule"}};
  for (const char* c : {"bench_billing_tasks", "bench_billing_schedule"}) {
    sys.nats().DeleteConsumer(c == std::string("bench_billing_tasks") ? "TASKS" : "SCHEDULE", c);
  }

  std::mt19937_64 rng(42);
  auto tasks = Uuids(n_tasks);
  auto accounts = Uuids(n_accounts);
  std::vector<Event> evs;
  evs.reserve(n);
  std::vector<std::string> previous(n_tasks);
  for (int64_t i = 0; i < n; ++i) {
    int64_t t = i % n_tasks;
    t1::TaskAssigned a;
    a.set_task_id(tasks[t]);
    a.set_assignee_id(accounts[rng() % n_accounts]);
    if (!previous[t].empty()) a.set_previous_assignee_id(previous[t]);
    previous[t] = a.assignee_id();
    *a.mutable_assigned_at() = NowTs();
    evs.push_back(MakeEvent("tasks.task.assigned", 1, a, "ates-tasks"));
  }

  if (Enabled("billing")) {
    // The stream first, then the daemon: it drains a backlog.
    sys.nats().Publish(evs);
    auto& billing = sys.Start("ates-billing", ATES_BILLING_BIN, env);
    double secs =
        DrainTime(sys.nats(), {{"TASKS", "bench_billing_tasks"}}, 300s, "billing to apply");
    pg::Connection db(db_url);
    int64_t posted = Count(db, "SELECT count(*) FROM transactions WHERE kind = 'assign_fee'");
    int64_t priced = Count(db, "SELECT count(*) FROM task_prices");
    if (posted != n || priced != n_tasks) {
      throw std::runtime_error("billing: " + std::to_string(posted) + " fees, " +
                               std::to_string(priced) + " prices; expected " + std::to_string(n) +
                               ", " + std::to_string(n_tasks));
    }
    ates::bench::Report(
        s, "9-billing-apply",
        "ates-billing apply: task.assigned -> fee postings (" + Grouped(n_accounts) + " accts)", n,
        "events", secs, ates::bench::Goal::MinRate(15000, "events", {"2-js-fetch", "3-pg-unnest"}));
    sys.Stop(billing);
  }

  if (Enabled("close")) {
    // Accounts in credit: a completed task each (priced on first sight).
    auto payees = Uuids(close_accounts);
    std::vector<Event> done;
    for (int64_t i = 0; i < close_accounts; ++i) {
      t1::TaskCompleted c;
      c.set_task_id(events::NewUuid());
      c.set_assignee_id(payees[i]);
      *c.mutable_completed_at() = NowTs();
      done.push_back(MakeEvent("tasks.task.completed", 1, c, "ates-tasks"));
    }
    auto& billing = sys.Start("ates-billing", ATES_BILLING_BIN, env);
    sys.nats().Publish(done);
    DrainTime(sys.nats(), {{"TASKS", "bench_billing_tasks"}}, 300s, "billing to apply rewards");
    pg::Connection db(db_url);
    // A quiet end of day: the postings' events are out.
    WaitFor(
        "the billing outbox to drain", 120s,
        [&] { return Count(db, "SELECT count(*) FROM outbox") == 0; }, 20ms);
    int64_t in_credit = Count(db,
                              "SELECT count(*) FROM balances WHERE balance_cents > 0"
                              " AND account_id <> '00000000-0000-0000-0000-000000000001'");
    s1::BillingCycleClosed closed;
    std::string today = Today();
    closed.set_business_date(today);
    closed.set_time_zone("UTC");
    *closed.mutable_closed_at() = NowTs();
    Event e = MakeEvent("schedule.billing_cycle.closed", 1, closed, "ates-scheduler");
    e.id =
        events::NameUuid("schedule.billing_cycle.closed:bench:" + today + ":" + events::NewUuid());
    Stopwatch sw;
    sys.nats().Publish({e});
    WaitFor(
        "the payouts", 120s, [&] { return Count(db, "SELECT count(*) FROM payouts") >= in_credit; },
        10ms);
    double secs = sw.Seconds();
    int64_t payouts = Count(db, "SELECT count(*) FROM payouts");
    if (payouts != close_accounts || in_credit != close_accounts) {
      throw std::runtime_error("close: " + std::to_string(payouts) + " payouts, " +
                               std::to_string(in_credit) + " accounts in credit; expected " +
                               std::to_string(close_accounts));
    }
    ates::bench::Report(
        s, "9-billing-close",
        "ates-billing day close: " + Grouped(close_accounts) + " accounts paid out (commit)",
        close_accounts, "payouts", secs, ates::bench::Goal::MaxSeconds(5));
    sys.Stop(billing);
  }
}

// ---- 4: ates-analytics -------------------------------------------------------

void BenchAnalytics(const ates::bench::Settings& s, System& sys) {
  const int64_t n = EnvInt("ATES_BENCH_ANALYTICS_EVENTS", 100000);
  // Per task, as the system produces them: created, 3 x assigned, completed on
  // TASKS; priced, 3 x fee, 1 x reward on BILLING. 10 events per task.
  const int64_t n_tasks = std::max<int64_t>(1, n / 10), n_accounts = std::max<int64_t>(1, n / 100);
  for (const char* stream : {"TASKS", "BILLING", "SCHEDULE"}) sys.nats().Purge(stream);
  for (const auto& [stream, c] :
       std::vector<std::pair<const char*, const char*>>{{"TASKS", "bench_analytics_tasks"},
                                                        {"BILLING", "bench_analytics_billing"},
                                                        {"SCHEDULE", "bench_analytics_schedule"}}) {
    sys.nats().DeleteConsumer(stream, c);
  }
  std::mt19937_64 rng(7);
  auto accounts = Uuids(n_accounts);
  std::string today = Today();
  std::vector<Event> evs;
  evs.reserve(n_tasks * 10);
  // billing.transaction.applied for the event just before it.
  auto applied = [&](const std::string& account, const std::string& task, b1::TransactionKind kind,
                     int64_t amount) {
    b1::TransactionApplied tx;
    tx.set_transaction_id(evs.back().id);
    tx.set_account_id(account);
    tx.set_task_id(task);
    tx.set_kind(kind);
    tx.set_amount_cents(amount);
    tx.set_business_date(today);
    *tx.mutable_occurred_at() = NowTs();
    evs.push_back(MakeEvent("billing.transaction.applied", 1, tx, "ates-billing"));
  };
  for (int64_t t = 0; t < n_tasks; ++t) {
    std::string task = events::NewUuid();
    std::string creator = accounts[rng() % n_accounts];
    std::string assignee = accounts[rng() % n_accounts];
    int64_t fee = 1000 + static_cast<int64_t>(rng() % 1001);
    int64_t reward = 2000 + static_cast<int64_t>(rng() % 2001);
    t2::TaskCreated c;
    c.set_task_id(task);
    c.set_title("Bench task " + std::to_string(t));
    c.set_jira_id("UP-" + std::to_string(t));
    c.set_description("Published by bench_services for analytics");
    c.set_created_by(creator);
    c.set_assignee_id(assignee);
    c.set_version(1);
    *c.mutable_created_at() = NowTs();
    evs.push_back(MakeEvent("tasks.task.created", 2, c, "ates-tasks"));
    b1::TaskPriced p;
    p.set_task_id(task);
    p.set_assign_fee_cents(fee);
    p.set_completion_reward_cents(reward);
    *p.mutable_priced_at() = NowTs();
    evs.push_back(MakeEvent("billing.task.priced", 1, p, "ates-billing"));
    for (int k = 0; k < 3; ++k) {
      if (k > 0) assignee = accounts[rng() % n_accounts];
      t1::TaskAssigned a;
      a.set_task_id(task);
      a.set_assignee_id(assignee);
      *a.mutable_assigned_at() = NowTs();
      evs.push_back(MakeEvent("tasks.task.assigned", 1, a, "ates-tasks"));
      applied(assignee, task, b1::TRANSACTION_KIND_ASSIGN_FEE, -fee);
    }
    t1::TaskCompleted done;
    done.set_task_id(task);
    done.set_assignee_id(assignee);
    *done.mutable_completed_at() = NowTs();
    evs.push_back(MakeEvent("tasks.task.completed", 1, done, "ates-tasks"));
    applied(assignee, task, b1::TRANSACTION_KIND_COMPLETION_REWARD, reward);
  }
  const int64_t total = static_cast<int64_t>(evs.size());
  sys.nats().Publish(evs);

  std::string db_url = sys.FreshDatabase("ates_bench_analytics");
  auto& analytics = sys.Start("ates-analytics", ATES_ANALYTICS_BIN,
                              {{"ATES_DATABASE_URL", db_url},
                               {"ATES_CONSUMERS_TASKS_DURABLE", "bench_analytics_tasks"},
                               {"ATES_CONSUMERS_BILLING_DURABLE", "bench_analytics_billing"},
                               {"ATES_CONSUMERS_SCHEDULE_DURABLE", "bench_analytics_schedule"}});
  double secs = DrainTime(
      sys.nats(), {{"TASKS", "bench_analytics_tasks"}, {"BILLING", "bench_analytics_billing"}},
      300s, "analytics to apply");
  pg::Connection db(db_url);
  // The inbox of the two streams published here (the accounts consumer, for
  // token revocation, also records the bench's own accounts).
  int64_t inbox = Count(db,
                        "SELECT count(*) FROM processed_events WHERE consumer IN"
                        " ('bench_analytics_tasks', 'bench_analytics_billing')");
  int64_t facts = Count(db,
                        "SELECT count(*) FROM task_facts WHERE title IS NOT NULL AND"
                        " fee_cents IS NOT NULL AND completed_at IS NOT NULL");
  if (inbox != total || facts != n_tasks) {
    throw std::runtime_error("analytics: inbox " + std::to_string(inbox) +
                             ", complete task facts " + std::to_string(facts) + "; expected " +
                             std::to_string(total) + ", " + std::to_string(n_tasks));
  }
  ates::bench::Report(s, "10-analytics-apply", "ates-analytics apply: mixed TASKS + BILLING events",
                      total, "events", secs,
                      ates::bench::Goal::MinRate(10000, "events", {"2-js-fetch"}));
  sys.Stop(analytics);
}

// ---- 11: ates-gateway --------------------------------------------------------

void BenchGateway(const ates::bench::Settings& s, System& sys) {
  std::string listen = "127.0.0.1:" + std::to_string(ates::devstack::FreePort());
  auto& gateway = sys.Start("ates-gateway", ATES_GATEWAY_BIN,
                            {{"ATES_GATEWAY_LISTEN", listen},
                             {"ATES_GATEWAY_UPSTREAMS_AUTH", sys.auth_target()},
                             {"ATES_GATEWAY_WEB_ROOT", sys.dir()}});
  ates::bench::BenchGatewayOverhead(s, sys.auth_target(), "http://" + listen, sys.admin().token,
                                    3000);
  sys.Stop(gateway);
}

}  // namespace

int main(int argc, char** argv) {
  // As the daemons do (see RunDaemon): no lock-order graph on every gRPC lock.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::unique_ptr<System> sys;
  try {
    auto s = ates::bench::ParseSettings(argc, argv);
    if (s.pg_url.empty()) throw std::runtime_error("no PostgreSQL URL (ATES_BENCH_PG_URL or --pg)");
    if (s.nats_url.empty()) throw std::runtime_error("no NATS URL (ATES_BENCH_NATS_URL or --nats)");
    ates::log::Init("ates-bench", "error");
    signal(SIGPIPE, SIG_IGN);
    sys = std::make_unique<System>(s);
    sys->StartAuth();
    if (Enabled("create") || Enabled("shuffle")) BenchTasks(s, *sys);
    if (Enabled("billing") || Enabled("close")) BenchBilling(s, *sys);
    if (Enabled("analytics")) BenchAnalytics(s, *sys);
    if (Enabled("gateway")) BenchGateway(s, *sys);
    sys.reset();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_services: %s\n", e.what());
    if (sys) {
      std::fprintf(stderr, "%s", sys->Logs().c_str());
      sys->MarkFailed();
    }
    return 1;
  }
}
