// The load generator of `make bench-system` (run by bench/system/bench_system,
// which starts the stack and passes its addresses and process ids): accounts of
// every role, then the mix at each offered rate for a fixed time, a shuffle
// every ATES_SYSTEM_SHUFFLE_SECONDS, the day closed at the end; see config.hpp
// for the knobs and docs/adr/0027-system-benchmark.md for what is measured.

#include <cstdio>
#include <ctime>
#include <thread>

#include "../proc_cpu.hpp"
#include "big_shuffle.hpp"
#include "billing_watch.hpp"
#include "common.hpp"
#include "config.hpp"
#include "load.hpp"
#include "report.hpp"

namespace ates::bench::system {
namespace {

using namespace std::chrono_literals;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::map<std::string, double> SampleCpu(const Config& c) {
  std::map<std::string, double> out;
  for (const auto& [name, pid] : c.pids) {
    out[name] = name == "postgres" ? TreeCpuSeconds(pid) : CpuSeconds(pid);
  }
  out["loadgen"] = CpuSeconds(getpid());
  return out;
}

std::map<std::string, double> Minus(std::map<std::string, double> a,
                                    const std::map<std::string, double>& b) {
  for (auto& [k, v] : a) v -= b.count(k) ? b.at(k) : 0;
  return a;
}

double LoadAverage() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : 0;
}

// Health/Check on ates-tasks with many calls in flight: ates-tasks' CPU per
// call; raw single-row commits on 4 connections: PostgreSQL's CPU per commit.
Calibration Calibrate(const Config& c, Load& load) {
  Calibration cal;
  std::atomic<int64_t> done{0};
  auto cpu0 = SampleCpu(c);
  auto t0 = Clock::now();
  int64_t issued = 0;
  while (Since(t0) < c.calibrate_seconds) {
    while (issued - done.load() < 64) {
      load.Health([&] { ++done; });
      ++issued;
    }
    std::this_thread::sleep_for(200us);
  }
  while (done.load() < issued) std::this_thread::sleep_for(1ms);
  double secs = Since(t0);
  auto cpu = Minus(SampleCpu(c), cpu0);
  cal.health_calls_per_s = done / secs;
  cal.health_cpu_s = cpu["tasks"] / static_cast<double>(done);
  cpu0 = SampleCpu(c);
  auto run = ates::bench::SingleRowCommits(
      c.raw_pg_url, 4, std::chrono::milliseconds(static_cast<int64_t>(c.calibrate_seconds * 1000)));
  // Its backends end with their connections: once the postmaster has reaped
  // them their time is in its cutime/cstime; before that it is in neither.
  std::this_thread::sleep_for(1s);
  cpu = Minus(SampleCpu(c), cpu0);
  cal.commits_per_s = run.commits / run.seconds;
  cal.commit_cpu_s = cpu["postgres"] / static_cast<double>(std::max<int64_t>(1, run.commits));
  return cal;
}

// Offers `rate` lifecycles/s for the step's time: CreateTask calls paced
// evenly, reads alongside; completions follow the fees (Load::OnApplied).
void RunStep(const Config& c, Load& load, Stats& stats, double rate,
             Clock::time_point& next_shuffle, Extras& x) {
  stats.BeginStep(rate);
  auto cpu0 = SampleCpu(c);
  auto t0 = Clock::now();
  int64_t creates = 0, reads = 0;
  while (Since(t0) < c.step_seconds) {
    double due = rate * Since(t0);
    while (creates < due && load.in_flight() < c.max_in_flight) {
      load.CreateTask();
      ++creates;
      for (; reads < c.reads * creates; ++reads) load.Read();
    }
    if (Clock::now() >= next_shuffle) {
      load.Shuffle([&x](double ms, int64_t n) {
        x.shuffle_ms = ms;
        x.shuffle_tasks = n;
      });
      next_shuffle += std::chrono::milliseconds(static_cast<int64_t>(c.shuffle_seconds * 1000));
    }
    std::this_thread::sleep_for(2ms);
  }
  stats.EndStep(Since(t0), Minus(SampleCpu(c), cpu0));
  std::fprintf(stderr, "[loadgen] %.0f/s offered: %lld created, %zu lifecycles open\n", rate,
               static_cast<long long>(creates), load.lifecycles().open());
}

// Waits until nothing new arrives for `quiet` (or `limit` passes); returns
// the time of the last arrival reported by `last`.
template <class Last>
Clock::time_point WaitQuiet(Last last, std::chrono::seconds quiet, std::chrono::seconds limit) {
  auto start = Clock::now();
  while (Clock::now() - start < limit) {
    auto l = last();
    if (l > start && Clock::now() - l > quiet) return l;
    if (l <= start && Clock::now() - start > quiet * 3) return l;
    std::this_thread::sleep_for(100ms);
  }
  return last();
}

std::string TodayUtc() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

void CloseDay(BillingWatch& watch, Extras& x) {
  auto t0 = Clock::now();
  int64_t before = watch.payouts();
  watch.PublishDayClosed(TodayUtc());
  auto last = WaitQuiet([&] { return watch.last_payout(); }, 3s, 60s);
  x.payouts = watch.payouts() - before;
  x.close_seconds = x.payouts > 0 ? std::chrono::duration<double>(last - t0).count() : -1;
}

int Run() {
  Config c = LoadConfig();
  Extras x;
  x.load_start = LoadAverage();
  auto auth = grpc::CreateChannel(c.auth, grpc::InsecureChannelCredentials());
  People people = CreatePeople(auth, c.admin_login, c.admin_password, c.workers, c.managers);
  std::fprintf(stderr, "[loadgen] %zu workers, %zu managers, %zu accountants logged in\n",
               people.workers.size(), people.managers.size(), people.accountants.size());
  std::this_thread::sleep_for(3s);  // the accounts reach ates-tasks' and ates-billing's replicas
  Stats stats;
  Load load({c.auth, c.tasks, c.billing}, c.channels, c.queues, people, stats);
  BillingWatch watch(c.nats_url, [&load](const Applied& a) { load.OnApplied(a); });
  Calibration cal = Calibrate(c, load);
  std::atomic<bool> sampling{true};
  std::thread lag([&] {
    while (sampling) {
      int64_t redelivered = 0;
      int64_t pending = watch.Pending("TASKS", "billing_tasks", &redelivered);
      stats.Lag(pending, redelivered);
      std::this_thread::sleep_for(250ms);
    }
  });
  auto next_shuffle =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(c.shuffle_seconds * 1000));
  for (double rate : c.rates) RunStep(c, load, stats, rate, next_shuffle, x);
  sampling = false;
  lag.join();
  WaitQuiet([&] { return watch.last_fee(); }, 2s, 30s);
  CloseDay(watch, x);  // before the big shuffle, whose fees put every worker in debt
  if (c.big_shuffle > 0) x.big = RunBigShuffle(c.tasks_pg_url, c.big_shuffle, load, watch);
  x.load_end = LoadAverage();
  WriteReport(c, stats.Steps(), cal, x);
  return 0;
}

}  // namespace
}  // namespace ates::bench::system

int main() {
  try {
    return ates::bench::system::Run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[loadgen] error: %s\n", e.what());
    return 1;
  }
}
