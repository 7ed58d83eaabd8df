#include "ates/devstack/postgres.hpp"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <thread>

#include "ates/devstack/files.hpp"
#include "ates/platform/pg.hpp"

namespace ates::devstack {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

void RunAs(SpawnOptions& o, const std::optional<PgAccount>& account) {
  if (!account) return;
  o.uid = account->uid;
  o.gid = account->gid;
}

bool Accepting(const std::string& conninfo) { return PQping(conninfo.c_str()) == PQPING_OK; }

}  // namespace

std::optional<PgAccount> PostgresAccount() {
  if (geteuid() != 0) return std::nullopt;
  passwd* pw = getpwnam("postgres");
  if (pw == nullptr) throw std::runtime_error("running as root but there is no 'postgres' user");
  return PgAccount{pw->pw_uid, pw->pw_gid};
}

void ChownToPostgres(const std::optional<PgAccount>& account, const std::string& path) {
  if (account && chown(path.c_str(), account->uid, account->gid) != 0) {
    throw std::runtime_error("chown " + path + " failed");
  }
}

PostgresOptions ScratchPostgres(const std::string& folder, std::vector<std::string> settings) {
  PostgresOptions o;
  o.data_dir = folder + "/pg";
  o.socket_dir = folder + "/sock";
  o.log_path = folder + "/postgres.log";
  o.initdb_log = folder + "/initdb.log";
  o.initdb_args = {"--no-sync", "--no-locale"};
  o.settings = {"listen_addresses=127.0.0.1"};
  o.settings.insert(o.settings.end(), settings.begin(), settings.end());
  return o;
}

Postgres::Postgres(PostgresOptions options)
    : options_(std::move(options)), account_(PostgresAccount()), port_(options_.port) {}

Postgres::~Postgres() { Stop(SIGINT); }

bool Postgres::initialised() const { return fs::exists(options_.data_dir + "/PG_VERSION"); }

void Postgres::Init() {
  fs::create_directories(options_.data_dir);
  ChownToPostgres(account_, options_.data_dir);
  fs::permissions(options_.data_dir, fs::perms::owner_all);
  SpawnOptions init;
  init.argv = {options_.bin_dir + "/initdb",
               "-D",
               options_.data_dir,
               "-U",
               "postgres",
               "--auth=trust",
               "-E",
               "UTF8"};
  init.argv.insert(init.argv.end(), options_.initdb_args.begin(), options_.initdb_args.end());
  init.output_path = options_.initdb_log;
  RunAs(init, account_);
  int rc = RunCommand(init, 90s);
  if (rc != 0) {
    throw std::runtime_error("initdb failed (" + std::to_string(rc) + "):\n" +
                             Tail(ReadFile(init.output_path), 4000));
  }
}

void Postgres::Start() {
  if (process_) return;
  fs::create_directories(options_.socket_dir);
  ChownToPostgres(account_, options_.socket_dir);
  // A free port can be taken before postgres binds it: then try another. A
  // restart keeps its port (URLs handed out name it).
  const bool keep_port = port_ != 0;
  for (int attempt = 1;; ++attempt) {
    if (!keep_port) port_ = FreePort();
    if (StartOnce()) return;
    if (attempt >= 3) {
      throw std::runtime_error("postgres did not start:\n" +
                               Tail(ReadFile(options_.log_path), 4000));
    }
    if (keep_port) std::this_thread::sleep_for(1s);
  }
}

bool Postgres::StartOnce() {
  SpawnOptions run;
  run.argv = {options_.bin_dir + "/postgres", "-D", options_.data_dir,  "-p",
              std::to_string(port_),          "-k", options_.socket_dir};
  for (const auto& setting : options_.settings) {
    run.argv.push_back("-c");
    run.argv.push_back(setting);
  }
  run.output_path = options_.log_path;
  RunAs(run, account_);
  process_ = Process::Spawn(run);
  std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port_) +
                         " user=postgres dbname=postgres connect_timeout=2";
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (process_->Running() && !Accepting(conninfo)) {
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(50ms);
  }
  if (process_->Running() && Accepting(conninfo)) return true;
  process_->Stop(SIGKILL, 5s);
  process_.reset();
  return false;
}

void Postgres::Stop(int sig, std::chrono::milliseconds timeout) {
  if (!process_) return;
  process_->Stop(sig, timeout);
  process_.reset();
}

bool Postgres::Exited() { return process_ && !process_->Running(); }

std::string Postgres::Url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

void Postgres::EnsureDatabase(const std::string& name) const {
  pg::Connection c(Url("postgres"));
  auto found = c.Exec("SELECT 1 FROM pg_database WHERE datname = $1", {pg::Text(name)});
  if (found.Rows() == 0) c.Exec("CREATE DATABASE " + name);
}

}  // namespace ates::devstack
