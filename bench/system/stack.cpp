#include "stack.hpp"

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "ates/devstack/files.hpp"
#include "ates/devstack/process.hpp"
#include "proc_cpu.hpp"

namespace ates::bench::system {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kAdminLogin = "admin";

}  // namespace

const std::vector<std::string>& Stack::Services() {
  static const std::vector<std::string> kServices = {"auth", "tasks", "billing", "analytics",
                                                     "scheduler"};
  return kServices;
}

Stack::Stack(StackOptions options) : options_(std::move(options)) {}

Stack::~Stack() { Stop(); }

// PostgreSQL as `make run` configures it (max_connections=200, loopback),
// with the durability defaults (fsync and synchronous commit on).
void Stack::Start() {
  const std::string& w = options_.work_dir;
  std::error_code ec;
  fs::remove_all(w, ec);
  fs::create_directories(w + "/logs");
  fs::permissions(w, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                         fs::perms::others_read | fs::perms::others_exec);
  auto pg = devstack::ScratchPostgres(
      w + "/pg", {"max_connections=200", "shared_buffers=256MB", "max_wal_size=4GB"});
  pg_ = std::make_unique<devstack::Postgres>(pg);
  fs::create_directories(w + "/pg");
  devstack::ChownToPostgres(pg_->account(), w);
  devstack::ChownToPostgres(pg_->account(), w + "/pg");
  pg_->Init();
  pg_->Start();
  for (const auto& svc : Services()) pg_->EnsureDatabase("ates_" + svc);
  nats_ = std::make_unique<devstack::NatsServer>(devstack::NatsServerOptions{
      .store_dir = w + "/nats", .port = devstack::FreePort(), .log_path = w + "/logs/nats.log"});
  nats_->Start();
  for (const auto& svc : Services()) {
    auto log = w + "/logs/" + svc + ".log";
    auto d = std::make_unique<devstack::Daemon>(
        OptionsFor(svc), [log, src = options_.source_dir](const std::string&) {
          return devstack::DaemonPlace{log, src};
        });
    d->Start();
    std::fprintf(stderr, "[system] started ates-%s (pid %d) on %s\n", svc.c_str(), d->pid(),
                 d->target().c_str());
    daemons_.push_back(std::move(d));
  }
}

devstack::DaemonOptions Stack::OptionsFor(const std::string& svc) const {
  devstack::DaemonOptions o;
  o.name = "ates-" + svc;
  o.binary = options_.bin_dir + "/ates-" + svc;
  o.config = options_.source_dir + "/config/ates-" + svc + ".yaml";
  o.ready_timeout = 120s;
  o.env = {{"ATES_DATABASE_URL", pg_->Url("ates_" + svc)},
           {"ATES_NATS_URL", nats_->url()},
           {"ATES_NATS_USER", ""},  // the benchmark's nats-server has no users
           {"ATES_LOG_LEVEL", "info"}};
  if (svc == "auth") {
    o.env["ATES_BOOTSTRAP_ADMIN_LOGIN"] = kAdminLogin;
    o.env["ATES_BOOTSTRAP_ADMIN_PASSWORD"] = kAdminPassword;
    o.env["ATES_AUTH_KEY_ENCRYPTION_KEY"] = devstack::RandomBase64(32);
  } else {
    o.env["ATES_AUTH_KEYS_URL"] = daemons_.front()->target();
  }
  if (svc == "tasks") {
    o.env["ATES_TASKS_CREATE_PER_MINUTE"] = "0";
    o.env["ATES_TASKS_SHUFFLE_COOLDOWN"] = "0s";
  }
  if (svc == "billing") o.env["ATES_BILLING_MAIL_DIR"] = options_.work_dir + "/mail";
  return o;
}

void Stack::Stop() {
  for (auto& d : daemons_) d->Signal(SIGTERM);
  for (auto& d : daemons_) {
    if (!d->WaitExit(30s)) d->Kill();
  }
  daemons_.clear();
  if (nats_) nats_->Stop(SIGTERM);
  nats_.reset();
  if (pg_ && pg_->running()) pg_->Stop(SIGINT);
  pg_.reset();
}

std::string Stack::Address(const std::string& service) const {
  for (const auto& d : daemons_) {
    if (d->name() == "ates-" + service) return d->target();
  }
  throw std::runtime_error("no daemon " + service);
}

pid_t Stack::Pid(const std::string& service) const {
  for (const auto& d : daemons_) {
    if (d->name() == "ates-" + service) return d->pid();
  }
  throw std::runtime_error("no daemon " + service);
}

// The postmaster writes its pid on the first line of postmaster.pid.
pid_t Stack::PostgresPid() const {
  return static_cast<pid_t>(
      std::stol(devstack::FirstLine(pg_->options().data_dir + "/postmaster.pid")));
}

pid_t Stack::NatsPid() const { return FindProcess("nats-server", options_.work_dir + "/nats"); }

}  // namespace ates::bench::system
