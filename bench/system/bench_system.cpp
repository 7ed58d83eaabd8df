// `make bench-system` (and the end of `make bench`): the whole system under a
// stepped load. Starts PostgreSQL, nats-server and the five daemons as `make
// run` does (stack.hpp), with the data in <build>/bench-system/run, runs the
// load generator (bench_system_loadgen, a process of its own) against them,
// then prints the goal table and draws <build>/bench-system/system.png with
// gnuplot when it is installed (the bench targets install gnuplot-nox).
// Knobs: the load generator's ATES_SYSTEM_* (loadgen/config.hpp) pass through;
// ATES_BENCH_KEEP=1 keeps the data folder and the logs.

#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ates/devstack/process.hpp"
#include "proc_cpu.hpp"
#include "report.hpp"
#include "stack.hpp"

#ifndef ATES_SOURCE_DIR
#error "ATES_SOURCE_DIR and ATES_BIN_DIR must be defined by the build"
#endif

namespace {

namespace fs = std::filesystem;
namespace sys = ates::bench::system;
using namespace std::chrono_literals;

std::string Pids(const sys::Stack& stack) {
  std::string out;
  for (const auto& svc : sys::Stack::Services()) {
    out += svc + "=" + std::to_string(stack.Pid(svc)) + " ";
  }
  return out + "postgres=" + std::to_string(stack.PostgresPid()) +
         " nats=" + std::to_string(stack.NatsPid());
}

int RunLoadgen(const sys::Stack& stack, const std::string& bin_dir, const std::string& out) {
  ates::devstack::SpawnOptions o;
  o.argv = {bin_dir + "/bench_system_loadgen"};
  o.drop_env_prefixes = {"ATES_SYSTEM_ADDR", "ATES_SYSTEM_PIDS"};
  o.env = {{"ATES_SYSTEM_ADDR_AUTH", stack.Address("auth")},
           {"ATES_SYSTEM_ADDR_TASKS", stack.Address("tasks")},
           {"ATES_SYSTEM_ADDR_BILLING", stack.Address("billing")},
           {"ATES_SYSTEM_ADMIN_LOGIN", "admin"},
           {"ATES_SYSTEM_ADMIN_PASSWORD", sys::Stack::kAdminPassword},
           {"ATES_SYSTEM_NATS_URL", stack.NatsUrl()},
           {"ATES_SYSTEM_RAW_PG_URL", stack.PgUrl("ates_bench_raw")},
           {"ATES_SYSTEM_TASKS_PG_URL", stack.PgUrl("ates_tasks")},
           {"ATES_SYSTEM_OUT", out},
           {"ATES_SYSTEM_PIDS", Pids(stack)},
           {"ATES_BENCH_RESULTS", out + "/results.tsv"}};
  o.output = ates::devstack::SpawnOptions::Output::kInherit;
  return ates::devstack::RunCommand(o, std::chrono::minutes(30));
}

// Latency and lag against the offered load, from the load generator's plot.tsv.
void Plot(const std::string& out) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    std::fprintf(stderr, "[system] gnuplot is not installed: no %s/system.png\n", out.c_str());
    return;
  }
  std::ofstream gp(out + "/system.gp");
  gp << "set terminal pngcairo size 1000,600\nset output '" << out << "/system.png'\n"
     << "set title 'aTES whole system: latency and lag against offered load'\n"
     << "set xlabel 'offered task lifecycles/s'\nset ylabel 'ms (log)'\nset y2label 'pending "
        "events'\n"
     << "set logscale y\nset ytics nomirror\nset y2tics\nset key top left\nset grid\n"
     << "plot '" << out << "/plot.tsv' using 1:4 with linespoints title 'p99 create -> fee', "
     << "'' using 1:3 with linespoints title 'p50 create -> fee', "
     << "'' using 1:5 with linespoints title 'p99 complete -> reward', "
     << "'' using 1:6 axes x1y2 with linespoints title 'billing lag on TASKS (max)', "
     << "250 with lines dashtype 2 title '250 ms goal'\n";
  gp.close();
  if (std::system(("gnuplot " + out + "/system.gp").c_str()) == 0) {
    std::printf("plot: %s/system.png\n", out.c_str());
  }
}

int Run(const std::string& build_dir) {
  const std::string out = build_dir + "/bench-system";
  fs::create_directories(out);
  fs::remove(out + "/results.tsv");
  sys::Stack stack({ATES_SOURCE_DIR, ATES_BIN_DIR, out + "/run"});
  stack.Start();
  stack.EnsureDatabase("ates_bench_raw");
  int rc = RunLoadgen(stack, build_dir + "/bench", out);
  stack.Stop();
  if (rc != 0) {
    std::fprintf(stderr, "[system] the load generator failed (%d); logs in %s/run/logs\n", rc,
                 out.c_str());
    return 1;
  }
  std::printf("\nresult: %s/result.json\n", out.c_str());
  Plot(out);
  ates::bench::PrintReport(out + "/results.tsv");
  if (std::getenv("ATES_BENCH_KEEP") == nullptr) fs::remove_all(out + "/run");
  return 0;
}

}  // namespace

int main() {
  // The children (servers, daemons, load generator) die with this thread.
  std::string self = fs::canonical("/proc/self/exe").string();
  std::string build_dir = fs::path(self).parent_path().parent_path().string();
  try {
    return Run(build_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[system] error: %s\n", e.what());
    return 1;
  }
}
