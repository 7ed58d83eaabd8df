// `make bench`: starts a private PostgreSQL 15 and nats-server (JetStream, file
// storage) on free ports in a temporary folder (internal/devstack, the launcher
// of `make run` and the tests), runs the benchmark programs next to this one
// against them, prints every figure and then the table of figures and goals
// (report.hpp), and stops and removes everything. Exits non-zero if a program
// fails; benchmarks never fail on speed.
//
// Knobs: ATES_BENCH_EVENTS (200000), ATES_BENCH_PG_BIN (/usr/lib/postgresql/15/bin),
// ATES_BENCH_KEEP=1 keeps the temporary folder (logs) after the run,
// ATES_BENCH_PROGRAMS="bench_raw_pg bench_services" runs only those programs
// (bench_services also reads ATES_BENCH_ONLY=create,shuffle,...),
// ATES_BENCH_PG_OPTS="-c shared_preload_libraries=pg_stat_statements" adds
// server options (for profiling; figures are meant with the defaults).

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ates/devstack/files.hpp"
#include "ates/devstack/nats_server.hpp"
#include "ates/devstack/postgres.hpp"
#include "ates/devstack/process.hpp"
#include "common.hpp"
#include "report.hpp"

namespace {

namespace fs = std::filesystem;
namespace devstack = ates::devstack;
using namespace std::chrono_literals;

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The database a program runs in.
std::string DatabaseOf(const std::string& program) {
  if (program.starts_with("bench_raw_")) return "ates_bench_raw";
  if (program == "bench_platform") return "ates_bench_platform";
  if (program == "bench_services") return "ates_bench_services";
  throw std::runtime_error("unknown benchmark program " + program);
}

// PostgreSQL with its normal durability (fsync, full_page_writes and
// synchronous commit on); only sizes are raised so that checkpoints do not
// dominate the run. initdb's --no-sync only skips flushing its own files.
devstack::PostgresOptions BenchPostgres(const std::string& work) {
  auto pg = devstack::ScratchPostgres(work + "/pg",
                                      {"fsync=on", "synchronous_commit=on", "shared_buffers=256MB",
                                       "max_wal_size=4GB", "checkpoint_timeout=15min"});
  pg.bin_dir = Env("ATES_BENCH_PG_BIN", pg.bin_dir);
  auto extra = Words(Env("ATES_BENCH_PG_OPTS", ""));
  for (size_t i = 0; i < extra.size(); ++i) {
    if (extra[i] == "-c" && i + 1 < extra.size()) pg.settings.push_back(extra[++i]);
  }
  return pg;
}

std::string FirstWordOfOutput(const std::vector<std::string>& argv, const std::string& work) {
  devstack::SpawnOptions o;
  o.argv = argv;
  o.output_path = work + "/version.txt";
  devstack::RunCommand(o, 10s);
  auto words = Words(devstack::ReadFile(o.output_path));
  return words.empty() ? "?" : words.back();
}

std::string LoadAverage() {
  auto words = Words(devstack::ReadFile("/proc/loadavg"));
  return words.empty() ? "?" : words[0];
}

// Runs the programs; returns the ones that failed.
std::vector<std::string> RunPrograms(const std::vector<std::string>& programs,
                                     const std::string& bin_dir, const devstack::Postgres& pg,
                                     const std::string& nats_url, const std::string& results) {
  std::vector<std::string> failed;
  for (const auto& program : programs) {
    std::printf("\n== %s ==\n", program.c_str());
    std::fflush(stdout);
    devstack::SpawnOptions o;
    o.argv = {bin_dir + "/" + program};
    o.drop_env_prefixes = {};  // ATES_BENCH_* reach the programs
    o.env = {{"ATES_BENCH_PG_URL", pg.Url(DatabaseOf(program))},
             {"ATES_BENCH_NATS_URL", nats_url},
             {"ATES_BENCH_RESULTS", results},
             {"ATES_BENCH_EVENTS", Env("ATES_BENCH_EVENTS", "200000")}};
    o.output = devstack::SpawnOptions::Output::kInherit;
    if (devstack::RunCommand(o, std::chrono::hours(3)) != 0) failed.push_back(program);
  }
  return failed;
}

int Run(const std::string& work, const std::string& bin_dir) {
  std::vector<std::string> programs = Words(
      Env("ATES_BENCH_PROGRAMS", "bench_raw_nats bench_raw_pg bench_platform bench_services"));
  for (const auto& p : programs) {
    DatabaseOf(p);
    if (access((bin_dir + "/" + p).c_str(), X_OK) != 0) {
      throw std::runtime_error(bin_dir + "/" + p + " is missing: build first (make build)");
    }
  }
  auto started = std::chrono::steady_clock::now();
  devstack::Postgres pg(BenchPostgres(work));
  devstack::ChownToPostgres(pg.account(), work);
  fs::create_directories(work + "/pg");
  devstack::ChownToPostgres(pg.account(), work + "/pg");
  pg.Init();
  pg.Start();
  std::fprintf(stderr, "[bench] PostgreSQL on 127.0.0.1:%d, data in %s/pg\n", pg.port(),
               work.c_str());
  for (const char* db : {"ates_bench_raw", "ates_bench_platform", "ates_bench_services"}) {
    pg.EnsureDatabase(db);
  }
  devstack::NatsServer nats(
      {.store_dir = work + "/nats", .port = devstack::FreePort(), .log_path = work + "/nats.log"});
  nats.Start();
  std::fprintf(stderr, "[bench] nats-server on %s, store in %s/nats\n", nats.url().c_str(),
               work.c_str());
  std::string results = work + "/results.tsv";
  std::string load_start = LoadAverage();
  auto failed = RunPrograms(programs, bin_dir, pg, nats.url(), results);
  std::printf(
      "\n== aTES benchmark: platform %s events of ~200 B, %u cores, PostgreSQL 15 (fsync on), "
      "nats-server %s ==\n",
      Env("ATES_BENCH_EVENTS", "200000").c_str(), std::thread::hardware_concurrency(),
      FirstWordOfOutput({"nats-server", "--version"}, work).c_str());
  // Everything shares the cores: other work on the machine lowers every figure alike.
  std::printf("load average %s at the start, %s at the end\n", load_start.c_str(),
              LoadAverage().c_str());
  ates::bench::PrintReport(results);
  std::fflush(stdout);
  auto secs =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  std::fprintf(stderr, "[bench] done in %lld s\n", static_cast<long long>(secs.count()));
  if (failed.empty()) return 0;
  std::string names;
  for (const auto& f : failed) names += " " + f;
  std::fprintf(stderr, "[bench] FAILED:%s (set ATES_BENCH_KEEP=1 to keep the logs in %s)\n",
               names.c_str(), work.c_str());
  return 1;
}

// Ctrl-C or SIGTERM: the scratch folder goes (unless kept) and the program ends;
// the servers and programs, its children, get SIGKILL as it exits.
void RemoveOnSignal(const std::string& work) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before any other thread starts
  std::thread([stop, work] {
    int sig = 0;
    sigwait(&stop, &sig);
    std::fprintf(stderr, "\n[bench] interrupted\n");
    std::error_code ec;
    if (Env("ATES_BENCH_KEEP", "0") != "1") fs::remove_all(work, ec);
    _exit(128 + sig);
  }).detach();
}

}  // namespace

int main() {
  std::string bin_dir = fs::path(fs::canonical("/proc/self/exe")).parent_path().string();
  std::string templ = "/tmp/ates-bench.XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  fs::permissions(templ, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
  RemoveOnSignal(templ);
  int rc = 1;
  try {
    rc = Run(templ, bin_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[bench] error: %s\n", e.what());
  }
  if (Env("ATES_BENCH_KEEP", "0") == "1") {
    std::fprintf(stderr, "[bench] kept %s\n", templ.c_str());
  } else {
    std::error_code ec;
    fs::remove_all(templ, ec);
  }
  return rc;
}
