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

#include "ates/platform/pg.hpp"
#include "support/wait.hpp"

#ifndef ATES_SOURCE_DIR
#error "ATES_SOURCE_DIR must be defined by the build"
#endif

namespace ates::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";
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

std::string PermissionsVariable(const std::string& user) {
  std::string v;
  for (char c : user) v.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  return v + "_PERMISSIONS";
}

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

bool NatsReady(const std::string& url) {
  natsConnection* nc = nullptr;
  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetTimeout(opts, 500);
  natsOptions_SetAllowReconnect(opts, false);
  natsStatus s = natsConnection_Connect(&nc, opts);
  natsOptions_Destroy(opts);
  bool ok = false;
  if (s == NATS_OK) {
    jsCtx* js = nullptr;
    if (natsConnection_JetStream(&js, nc, nullptr) == NATS_OK) {
      jsAccountInfo* info = nullptr;
      jsOptions jo;
      jsOptions_Init(&jo);
      jo.Wait = 1000;
      ok = js_GetAccountInfo(&info, js, &jo, nullptr) == NATS_OK;
      if (info) jsAccountInfo_Destroy(info);
      jsCtx_Destroy(js);
    }
  }
  if (nc) {
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
  }
  return ok;
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
  if (geteuid() == 0) {
    // initdb and postgres refuse to run as root.
    passwd* pw = getpwnam("postgres");
    if (pw == nullptr) throw std::runtime_error("running as root but there is no 'postgres' user");
    run_as_postgres_ = true;
    pg_uid_ = pw->pw_uid;
    pg_gid_ = pw->pw_gid;
    if (chown(dir_.c_str(), pg_uid_, pg_gid_) != 0) throw std::runtime_error("chown failed");
  }
  try {
    InitPostgres();
    StartPostgres();
    fs::create_directories(dir_ + "/nats");
    for (const char* user : kNatsServiceUsers) nats_passwords_[user] = RandomPassword();
    nats_passwords_["test"] = RandomPassword();
    for (int attempt = 1;; ++attempt) {
      nats_port_ = FreePort();
      nats_url_ = "nats://127.0.0.1:" + std::to_string(nats_port_);
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
  if (nats_) {
    nats_->Stop(SIGINT, std::chrono::seconds(10));
    nats_.reset();
  }
  if (pg_frozen_) ThawPostgres();
  StopPostgres();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string TestStack::LogPath(const std::string& name) {
  return dir_ + "/" + std::to_string(++log_counter_) + "-" + Sanitize(name) + ".log";
}

void TestStack::InitPostgres() {
  std::string data = dir_ + "/pg";
  std::string sock = dir_ + "/sock";
  fs::create_directories(sock);
  if (run_as_postgres_ && chown(sock.c_str(), pg_uid_, pg_gid_) != 0) {
    throw std::runtime_error("chown failed");
  }
  SpawnOptions init;
  init.argv = {std::string(kPgBin) + "/initdb",
               "-D",
               data,
               "-U",
               "postgres",
               "--auth=trust",
               "--no-sync",
               "--no-locale",
               "-E",
               "UTF8"};
  init.output_path = dir_ + "/initdb.log";
  if (run_as_postgres_) {
    init.uid = pg_uid_;
    init.gid = pg_gid_;
  }
  int rc = RunCommand(init, std::chrono::seconds(90));
  if (rc != 0) {
    throw std::runtime_error("initdb failed (" + std::to_string(rc) + "):\n" +
                             Tail(ReadFile(init.output_path), 4000));
  }
}

void TestStack::StartPostgres() {
  if (pg_) return;
  std::string data = dir_ + "/pg";
  std::string sock = dir_ + "/sock";
  std::string conninfo;
  // A free port can be taken before postgres binds it: then try another. A
  // restart keeps its port (the daemons' database URLs name it).
  const bool restart = pg_port_ != 0;
  for (int attempt = 1;; ++attempt) {
    if (!restart) pg_port_ = FreePort();
    SpawnOptions run;
    // In the foreground (not via pg_ctl), so the postmaster is our child and
    // dies with the test binary even when that is killed.
    run.argv = {std::string(kPgBin) + "/postgres",
                "-D",
                data,
                "-p",
                std::to_string(pg_port_),
                "-k",
                sock,
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=32MB"};
    run.output_path = dir_ + "/postgres.log";
    if (run_as_postgres_) {
      run.uid = pg_uid_;
      run.gid = pg_gid_;
    }
    pg_ = Process::Spawn(run);
    conninfo = "host=127.0.0.1 port=" + std::to_string(pg_port_) +
               " user=postgres dbname=postgres connect_timeout=2";
    bool ready = Eventually(
        [&] { return !pg_->Running() || PQping(conninfo.c_str()) == PQPING_OK; }, 60s, 50ms);
    if (ready && pg_->Running()) return;
    pg_->Stop(SIGKILL, std::chrono::seconds(5));
    pg_.reset();
    if (attempt >= 3) {
      throw std::runtime_error("postgres did not start:\n" + Tail(ReadFile(run.output_path), 4000));
    }
    if (restart) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

void TestStack::StopPostgres(PgStopMode mode) {
  if (!pg_) return;
  if (pg_frozen_) ThawPostgres();
  // Crash recovery after an immediate stop can take a while; a fast stop
  // writes a checkpoint first.
  pg_->Stop(mode == PgStopMode::kFast ? SIGINT : SIGQUIT, std::chrono::seconds(30));
  pg_.reset();
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
  if (!pg_ || pg_frozen_) return;
  SignalPostgres(SIGSTOP);
  pg_frozen_ = true;
}

void TestStack::ThawPostgres() {
  if (!pg_frozen_) return;
  SignalPostgres(SIGCONT);
  pg_frozen_ = false;
}

std::string TestStack::DatabaseUrl(const std::string& name) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(pg_port_) + "/" + name;
}

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
  if (!nats_) return;
  int rc = nats_->Stop(SIGINT, std::chrono::seconds(10));
  nats_.reset();
  if (rc != 0) std::cerr << "[test stack] nats-server exited with " << rc << "\n";
}

void TestStack::KillNats() {
  if (!nats_) return;
  nats_->Stop(SIGKILL, std::chrono::seconds(10));
  nats_.reset();
}

std::string TestStack::NatsPassword(const std::string& user) const {
  auto it = nats_passwords_.find(user);
  if (it == nats_passwords_.end()) throw std::logic_error("no NATS user '" + user + "'");
  return it->second;
}

std::string TestStack::WriteNatsAuth(const std::string& dir) const {
  fs::create_directories(dir);
  std::ofstream(dir + "/ates-permissions.conf") << TestPermissions();
  std::string conf =
      "include ./ates-permissions.conf\n"
      "authorization {\n  users = [\n";
  for (const char* user : kNatsServiceUsers) {
    conf += std::string("    {user: \"") + user + "\", password: \"" + NatsPassword(user) +
            "\", permissions: $" + PermissionsVariable(user) + "}\n";
  }
  conf += "    {user: \"test\", password: \"" + NatsPassword("test") + "\"}\n  ]\n}\n";
  // Clients without credentials are the suites' own tooling (see the header).
  conf += "no_auth_user: test\n";
  std::string path = dir + "/nats-auth.conf";
  std::ofstream(path) << conf;
  return path;
}

void TestStack::StartNats() {
  if (nats_) return;
  SpawnOptions o;
  o.argv = {"nats-server",  "-c", WriteNatsAuth(dir_), "-js", "-sd",
            dir_ + "/nats", "-a", "127.0.0.1",         "-p",  std::to_string(nats_port_)};
  o.output_path = dir_ + "/nats.log";
  // The port was ours a moment ago; after a restart it may still be in
  // TIME_WAIT briefly, so allow a few attempts.
  for (int attempt = 1;; ++attempt) {
    nats_ = Process::Spawn(o);
    bool ready = Eventually([&] { return !nats_->Running() || NatsReady(nats_url_); }, 30s, 50ms);
    if (ready && nats_->Running()) return;
    nats_->Stop(SIGKILL, std::chrono::seconds(5));
    nats_.reset();
    if (attempt >= 3) {
      throw std::runtime_error("nats-server did not start:\n" +
                               Tail(ReadFile(o.output_path), 4000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace ates::test
