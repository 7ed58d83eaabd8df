#include "servers.hpp"

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "ates/devstack/files.hpp"
#include "ates/devstack/process.hpp"

namespace ates::devstack {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

void Say(const std::string& text) { std::fprintf(stderr, "[run] %s\n", text.c_str()); }

std::string Hash(const std::string& text) {
  std::ostringstream out;
  out << std::hex << std::hash<std::string>{}(text);
  return out.str().substr(0, 12);
}

// True when the PostgreSQL account can reach `dir` (every folder on the way).
bool Reachable(const std::optional<PgAccount>& account, const std::string& dir) {
  if (!account) return true;
  SpawnOptions o;
  o.argv = {"test", "-x", dir};
  o.uid = account->uid;
  o.gid = account->gid;
  return RunCommand(o, 10s) == 0;
}

}  // namespace

Servers::Servers(const Settings& settings, const Secrets& secrets)
    : settings_(settings), secrets_(secrets) {
  postgres_ = std::make_unique<Postgres>(PostgresPlace());
  pg_data_ = postgres_->options().data_dir;
}

Servers::~Servers() { Stop(); }

// DIR/pg, unless the postgres user (as root) cannot reach DIR: then the data
// lives in /var/tmp/ates-run-<hash>, linked from DIR/pg. Unix socket paths are
// limited to 107 bytes: a long one moves to /tmp.
PostgresOptions Servers::PostgresPlace() {
  const Settings& s = settings_;
  PostgresOptions o;
  o.bin_dir = s.pg_bin;
  o.port = s.pg_port;
  o.data_dir = s.run_dir + "/pg";
  o.socket_dir = s.run_dir + "/pgsock";
  o.log_path = s.log_dir() + "/postgres.log";
  o.initdb_log = s.log_dir() + "/initdb.log";
  o.initdb_args = {"--locale=C"};
  o.settings = {"listen_addresses=127.0.0.1", "max_connections=200"};
  auto account = PostgresAccount();
  if (!Reachable(account, s.run_dir)) {
    std::string alt = fs::is_symlink(o.data_dir)
                          ? fs::read_symlink(o.data_dir).parent_path().string()
                          : "/var/tmp/ates-run-" + Hash(s.run_dir);
    Say("the postgres user cannot reach " + s.run_dir + ": keeping PostgreSQL data in " + alt +
        " (linked from " + o.data_dir + ")");
    if (fs::exists(o.data_dir) && !fs::is_symlink(o.data_dir)) {
      throw std::runtime_error(o.data_dir + " exists but the postgres user cannot reach it");
    }
    fs::create_directories(alt);
    fs::permissions(alt, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    fs::remove(o.data_dir);
    fs::create_directory_symlink(alt + "/pg", o.data_dir);
    o.data_dir = alt + "/pg";
    o.socket_dir = alt + "/pgsock";
  }
  if (o.socket_dir.size() > 90) o.socket_dir = "/tmp/ates-pgsock-" + Hash(s.run_dir);
  return o;
}

// A postmaster of an earlier run (e.g. one started by pg_ctl) still on the data folder.
void Servers::StopLeftoverPostmaster() {
  std::string pidfile = ReadFile(pg_data_ + "/postmaster.pid");
  pid_t pid = 0;
  try {
    pid = static_cast<pid_t>(std::stol(pidfile));
  } catch (const std::exception&) {
    return;
  }
  if (pid <= 0 || kill(pid, 0) != 0) return;
  if (ReadFile("/proc/" + std::to_string(pid) + "/cmdline").find("postgres") == std::string::npos) {
    return;
  }
  Say("PostgreSQL from an earlier run is still up (pid " + std::to_string(pid) + "): stopping it");
  SpawnOptions o;
  o.argv = {settings_.pg_bin + "/pg_ctl", "-D", pg_data_, "-m", "fast", "-w", "stop"};
  if (auto account = postgres_->account()) {
    o.uid = account->uid;
    o.gid = account->gid;
  }
  o.cwd = "/";
  RunCommand(o, 120s);
}

void Servers::StartPostgres() {
  StopLeftoverPostmaster();
  if (!PortFree("127.0.0.1", settings_.pg_port)) {
    throw std::runtime_error("port " + std::to_string(settings_.pg_port) +
                             " (PostgreSQL) is already in use; stop that process or choose "
                             "another port (ATES_RUN_PG_PORT, see ates-devstack --help)");
  }
  if (!postgres_->initialised()) {
    Say("initialising PostgreSQL in " + pg_data_);
    // What an interrupted initdb left.
    if (fs::exists(pg_data_)) {
      for (const auto& entry : fs::directory_iterator(pg_data_)) fs::remove_all(entry.path());
    }
    postgres_->Init();
  }
  Say("starting PostgreSQL on 127.0.0.1:" + std::to_string(settings_.pg_port));
  postgres_->Start();
  for (const auto& svc : settings_.services) {
    postgres_->EnsureDatabase("ates_" + svc.name);
  }
}

void Servers::StartNats() {
  const Settings& s = settings_;
  fs::create_directories(s.run_dir + "/nats");
  fs::copy_file(s.root + "/deploy/k8s/base/nats/ates-permissions.conf",
                s.run_dir + "/ates-permissions.conf", fs::copy_options::overwrite_existing);
  std::string conf =
      "# Written by ates-devstack at every start; passwords: " + s.nats_password_dir() + "/.\n" +
      NatsAuthConfig(secrets_.nats_passwords, "", "");
  WritePrivateFile(s.run_dir + "/nats.conf", conf);
  Say("starting nats-server (JetStream) on 127.0.0.1:" + std::to_string(s.nats_port));
  nats_ = std::make_unique<NatsServer>(NatsServerOptions{.config_path = s.run_dir + "/nats.conf",
                                                         .store_dir = s.run_dir + "/nats",
                                                         .port = s.nats_port,
                                                         .monitor_port = s.nats_monitor_port,
                                                         .log_path = s.log_dir() + "/nats.log"});
  nats_->Start();
}

void Servers::Stop() {
  if (nats_ && nats_->running()) {
    Say("stopping nats-server");
    nats_->Stop(SIGTERM, 10s);
  }
  if (postgres_ && postgres_->running()) {
    Say("stopping PostgreSQL");
    postgres_->Stop(SIGINT, 60s);
  }
}

std::string Servers::Exited() {
  if (nats_ && nats_->Exited()) return "nats-server (log: " + settings_.log_dir() + "/nats.log)";
  if (postgres_->Exited()) return "PostgreSQL (log: " + settings_.log_dir() + "/postgres.log)";
  return "";
}

}  // namespace ates::devstack
