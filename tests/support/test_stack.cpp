#include "support/test_stack.hpp"

#include <libpq-fe.h>
#include <nats/nats.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "ates/devstack/readiness.hpp"
#include "ates/platform/pg.hpp"
#include "support/wait.hpp"

#ifndef ATES_SOURCE_DIR
#error "ATES_SOURCE_DIR must be defined by the build"
#endif

namespace ates::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDirPrefix = "ates-test-";

std::unique_ptr<TestStack>& Instance() {
  static std::unique_ptr<TestStack> instance;
  return instance;
}

// Removes /tmp/ates-test-<pid>-* folders left by runs whose process is gone
// (a test binary killed by a timeout cannot clean up after itself).
void SweepStaleFolders() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/tmp", ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(kDirPrefix)) continue;
    std::string rest = name.substr(std::char_traits<char>::length(kDirPrefix));
    auto dash = rest.find('-');
    if (dash == std::string::npos) continue;
    pid_t pid = 0;
    try {
      pid = static_cast<pid_t>(std::stol(rest.substr(0, dash)));
    } catch (...) {
      continue;
    }
    if (pid <= 0 || pid == getpid()) continue;
    if (kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ec);
  }
}

std::string Sanitize(const std::string& prefix) {
  std::string out;
  for (char c : prefix) {
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c))
                                                              : '_');
  }
  return out.empty() ? "db" : out.substr(0, 40);
}

// The daemons' NATS users (ADR 15) and their permission variables in
// deploy/k8s/base/nats/ates-permissions.conf.
constexpr const char* kNatsServiceUsers[] = {"ates-auth", "ates-tasks", "ates-billing",
                                             "ates-scheduler", "ates-analytics"};

std::string RandomPassword() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 24; ++i) out.push_back("0123456789abcdef"[rd() % 16]);
  return out;
}

// The production table with one widening: tests give daemons durable names of
// their own (one per test on the shared server), so the durable token of the
// consumer verbs becomes "*". Domains, streams and verbs stay as in production.
std::string TestPermissions() {
  std::string table =
      ReadFile(std::string(ATES_SOURCE_DIR) + "/deploy/k8s/base/nats/ates-permissions.conf");
  if (table.empty())
    throw std::runtime_error("cannot read deploy/k8s/base/nats/ates-permissions.conf");
  static const std::regex durable(
      R"((\$JS\.(?:API\.CONSUMER\.(?:DURABLE\.CREATE|INFO|MSG\.NEXT)|ACK)\.[A-Z]+)\.[a-z][a-z_]*)");
  return std::regex_replace(table, durable, "$1.*");
}

}  // namespace

TestStack& TestStack::Get() {
  auto& instance = Instance();
  if (!instance) instance.reset(new TestStack());
  return *instance;
}

void TestStack::ShutdownIfStarted() { Instance().reset(); }

TestStack::TestStack() {
  SweepStaleFolders();
  std::string templ = "/tmp/" + std::string(kDirPrefix) + std::to_string(getpid()) + "-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = templ;
  auto pg = devstack::ScratchPostgres(
      dir_, {"fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200",
             "shared_buffers=32MB"});
  postgres_ = std::make_unique<devstack::Postgres>(pg);
  nats_ = std::make_unique<devstack::NatsServer>(devstack::NatsServerOptions{
      .config_path = dir_ + "/nats-auth.conf",
      .store_dir = dir_ + "/nats",
      .log_path = dir_ + "/nats.log",
      .ready = [this] { return devstack::JetStreamAnswers(nats_url_); }});
  // initdb and postgres refuse to run as root: they run as `postgres`, which
  // needs to reach the folder.
  devstack::ChownToPostgres(postgres_->account(), dir_);
  try {
    postgres_->Init();
    StartPostgres();
    fs::create_directories(dir_ + "/nats");
    for (const char* user : kNatsServiceUsers) nats_passwords_[user] = RandomPassword();
    nats_passwords_["test"] = RandomPassword();
    for (int attempt = 1;; ++attempt) {
      nats_->set_port(FreePort());
      nats_url_ = nats_->url();
      try {
        StartNats();
        break;
      } catch (const std::exception&) {
        if (attempt >= 3) throw;  // else the port was taken meanwhile: another one
      }
    }
  } catch (...) {
    Shutdown();
    throw;
  }
}

TestStack::~TestStack() { Shutdown(); }

void TestStack::Shutdown() {
  if (nats_) nats_->Stop(SIGINT, std::chrono::seconds(10));
  if (pg_frozen_) ThawPostgres();
  if (postgres_) StopPostgres();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string TestStack::LogPath(const std::string& name) {
  return dir_ + "/" + std::to_string(++log_counter_) + "-" + Sanitize(name) + ".log";
}

void TestStack::StartPostgres() { postgres_->Start(); }

void TestStack::StopPostgres(PgStopMode mode) {
  if (!postgres_->running()) return;
  if (pg_frozen_) ThawPostgres();
  // Crash recovery after an immediate stop can take a while; a fast stop
  // writes a checkpoint first.
  postgres_->Stop(mode == PgStopMode::kFast ? SIGINT : SIGQUIT, std::chrono::seconds(30));
}

// The postmaster (first line of postmaster.pid) and every process whose
// parent it is. Signalled postmaster first, so it forks nothing new meanwhile,
// then its children, read again afterwards.
void TestStack::SignalPostgres(int sig) {
  pid_t postmaster = 0;
  {
    std::string pidfile = ReadFile(dir_ + "/pg/postmaster.pid");
    try {
      postmaster = static_cast<pid_t>(std::stol(pidfile));
    } catch (...) {
      throw std::runtime_error("no postmaster.pid in " + dir_ + "/pg");
    }
  }
  if (kill(postmaster, sig) != 0) {
    throw std::runtime_error("kill(postmaster " + std::to_string(postmaster) +
                             "): " + std::strerror(errno));
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may contain spaces.
    std::string stat = ReadFile(entry.path().string() + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == postmaster) kill(static_cast<pid_t>(std::stol(name)), sig);
  }
}

void TestStack::FreezePostgres() {
  if (!postgres_->running() || pg_frozen_) return;
  SignalPostgres(SIGSTOP);
  pg_frozen_ = true;
}

void TestStack::ThawPostgres() {
  if (!pg_frozen_) return;
  SignalPostgres(SIGCONT);
  pg_frozen_ = false;
}

std::string TestStack::DatabaseUrl(const std::string& name) const { return postgres_->Url(name); }

std::string TestStack::CreateDatabase(const std::string& prefix) {
  std::string name = Sanitize(prefix) + "_" + std::to_string(++db_counter_);
  PGconn* conn = PQconnectdb(DatabaseUrl("postgres").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("connect to postgres: " + err);
  }
  // The name is made of [a-z0-9_] only (Sanitize).
  std::string sql = "CREATE DATABASE " + name;
  PGresult* res = PQexec(conn, sql.c_str());
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string err = ok ? "" : PQresultErrorMessage(res);
  PQclear(res);
  PQfinish(conn);
  if (!ok) throw std::runtime_error("create database " + name + ": " + err);
  return DatabaseUrl(name);
}

void TestStack::StopNats() {
  if (!nats_->running()) return;
  int rc = nats_->Stop(SIGINT, std::chrono::seconds(10));
  if (rc != 0) std::cerr << "[test stack] nats-server exited with " << rc << "\n";
}

void TestStack::KillNats() { nats_->Stop(SIGKILL, std::chrono::seconds(10)); }

std::string TestStack::NatsPassword(const std::string& user) const {
  auto it = nats_passwords_.find(user);
  if (it == nats_passwords_.end()) throw std::logic_error("no NATS user '" + user + "'");
  return it->second;
}

std::string TestStack::WriteNatsAuth(const std::string& dir) const {
  fs::create_directories(dir);
  std::ofstream(dir + "/ates-permissions.conf") << TestPermissions();
  // Clients without credentials are the suites' own tooling (see the header).
  std::string conf = devstack::NatsAuthConfig(nats_passwords_, "test", "no_auth_user: test\n");
  std::string path = dir + "/nats-auth.conf";
  std::ofstream(path) << conf;
  return path;
}

void TestStack::StartNats() {
  if (nats_->running()) return;
  WriteNatsAuth(dir_);
  nats_->Start();
}

}  // namespace ates::test
