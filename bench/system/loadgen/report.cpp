#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>

#include "common.hpp"

namespace ates::bench::system {
namespace {

const std::vector<std::string> kProcesses = {"auth",      "tasks",    "billing", "analytics",
                                             "scheduler", "postgres", "nats"};
const std::vector<std::string> kMethods = {"CreateTask", "CompleteTask",     "ListTasks",
                                           "GetBalance", "ListTransactions", "ShuffleTasks"};

double Mean(const std::vector<int64_t>& v, size_t from, size_t to) {
  if (to <= from) return 0;
  return std::accumulate(v.begin() + from, v.begin() + to, 0.0) / static_cast<double>(to - from);
}

// CPU ms of `process` per lifecycle of the step.
double CpuMs(const StepStats& s, const std::string& process) {
  auto it = s.cpu_s.find(process);
  if (it == s.cpu_s.end() || s.lifecycles == 0) return 0;
  return it->second * 1000.0 / static_cast<double>(s.lifecycles);
}

double StackCpuMs(const StepStats& s) {
  double sum = 0;
  for (const auto& p : kProcesses) sum += CpuMs(s, p);
  return sum;
}

void PrintSteps(const std::vector<StepStats>& steps) {
  std::printf("\n%9s %9s %9s %11s %11s %13s %8s %6s %10s %12s\n", "offered/s", "created/s",
              "achieved", "p50 c->fee", "p99 c->fee", "p99 done->rew", "lag max", "grows",
              "sustained", "redelivered");
  for (const auto& s : steps) {
    Verdict v = Judge(s);
    double created = s.seconds > 0 ? static_cast<double>(s.creates) / s.seconds : 0;
    std::printf("%9.0f %9.1f %9.1f %8.0f ms %8.0f ms %10.0f ms %8lld %6s %10s %12lld\n", s.offered,
                created, v.achieved, v.p50_create_fee, v.p99_create_fee, v.p99_complete_reward,
                static_cast<long long>(v.lag_max), v.lag_grows ? "yes" : "no",
                v.sustained ? "yes" : "no", static_cast<long long>(s.redelivered_max));
  }
  std::printf("\nCPU ms per lifecycle (utime+stime from /proc; postgres = all its processes)\n");
  std::printf("%9s", "offered/s");
  for (const auto& p : kProcesses) std::printf(" %9s", p.c_str());
  std::printf(" %9s %9s\n", "stack", "loadgen");
  for (const auto& s : steps) {
    std::printf("%9.0f", s.offered);
    for (const auto& p : kProcesses) std::printf(" %9.2f", CpuMs(s, p));
    std::printf(" %9.2f %9.2f\n", StackCpuMs(s), CpuMs(s, "loadgen"));
  }
  std::printf("\nRPC latency p50 / p99 ms (errors)\n%9s", "offered/s");
  for (const auto& m : kMethods) std::printf(" %17s", m.c_str());
  std::printf("\n");
  for (const auto& s : steps) {
    std::printf("%9.0f", s.offered);
    for (const auto& m : kMethods) {
      auto it = s.rpc_ms.find(m);
      std::vector<double> v = it == s.rpc_ms.end() ? std::vector<double>{} : it->second;
      auto e = s.rpc_errors.count(m) ? s.rpc_errors.at(m) : 0;
      char cell[64];
      std::snprintf(cell, sizeof cell, "%.1f/%.1f%s", Percentile(v, 50), Percentile(v, 99),
                    e ? ("(" + std::to_string(e) + ")").c_str() : "");
      std::printf(" %17s", cell);
    }
    std::printf("\n");
  }
}

void Field(std::ofstream& o, const char* name, double v, bool comma = true) {
  o << "\"" << name << "\": " << v << (comma ? ", " : "");
}

void WriteStepJson(std::ofstream& o, const StepStats& s) {
  Verdict v = Judge(s);
  o << "    {";
  Field(o, "offered_per_s", s.offered);
  Field(o, "seconds", s.seconds);
  Field(o, "creates", static_cast<double>(s.creates));
  Field(o, "lifecycles", static_cast<double>(s.lifecycles));
  Field(o, "achieved_per_s", v.achieved);
  Field(o, "p50_create_to_fee_ms", v.p50_create_fee);
  Field(o, "p99_create_to_fee_ms", v.p99_create_fee);
  Field(o, "p99_complete_to_reward_ms", v.p99_complete_reward);
  Field(o, "lag_max", static_cast<double>(v.lag_max));
  Field(o, "redelivered_max", static_cast<double>(s.redelivered_max));
  o << "\"lag_grows\": " << (v.lag_grows ? "true" : "false") << ", ";
  o << "\"sustained\": " << (v.sustained ? "true" : "false")
    << ",\n      \"cpu_ms_per_lifecycle\": {";
  for (const auto& p : kProcesses) o << "\"" << p << "\": " << CpuMs(s, p) << ", ";
  o << "\"loadgen\": " << CpuMs(s, "loadgen") << "},\n      \"rpc_ms\": {";
  bool first = true;
  for (const auto& [m, ms] : s.rpc_ms) {
    o << (first ? "" : ", ") << "\"" << m << "\": {\"calls\": " << ms.size()
      << ", \"p50\": " << Percentile(ms, 50) << ", \"p99\": " << Percentile(ms, 99) << "}";
    first = false;
  }
  o << "}}";
}

void WriteJson(const Config& c, const std::vector<StepStats>& steps, const Calibration& cal,
               const Extras& x) {
  std::ofstream o(c.out_dir + "/result.json");
  o << "{\n  \"step_seconds\": " << c.step_seconds << ", \"workers\": " << c.workers
    << ", \"managers\": " << c.managers << ", \"reads_per_lifecycle\": " << c.reads << ",\n";
  o << "  \"load_average\": {\"start\": " << x.load_start << ", \"end\": " << x.load_end << "},\n";
  o << "  \"calibration\": {\"health_calls_per_s\": " << cal.health_calls_per_s
    << ", \"health_cpu_ms\": " << cal.health_cpu_s * 1000
    << ", \"raw_commits_per_s\": " << cal.commits_per_s
    << ", \"raw_commit_cpu_ms\": " << cal.commit_cpu_s * 1000 << "},\n";
  o << "  \"big_shuffle\": {\"tasks\": " << x.big.tasks << ", \"reply_s\": " << x.big.reply_s
    << ", \"click_to_every_fee_s\": " << x.big.all_fees_s << ", \"fees_seen\": " << x.big.fees_seen
    << "},\n";
  o << "  \"shuffle\": {\"tasks\": " << x.shuffle_tasks << ", \"reply_ms\": " << x.shuffle_ms
    << "},\n  \"day_close\": {\"payouts\": " << x.payouts << ", \"seconds\": " << x.close_seconds
    << "},\n  \"steps\": [\n";
  for (size_t i = 0; i < steps.size(); ++i) {
    WriteStepJson(o, steps[i]);
    o << (i + 1 < steps.size() ? ",\n" : "\n");
  }
  o << "  ]\n}\n";
}

void WritePlot(const Config& c, const std::vector<StepStats>& steps) {
  std::ofstream o(c.out_dir + "/plot.tsv");
  o << "# offered achieved p50_create_fee_ms p99_create_fee_ms p99_complete_reward_ms lag_max\n";
  for (const auto& s : steps) {
    Verdict v = Judge(s);
    o << s.offered << "\t" << v.achieved << "\t" << v.p50_create_fee << "\t" << v.p99_create_fee
      << "\t" << v.p99_complete_reward << "\t" << v.lag_max << "\n";
  }
}

}  // namespace

Verdict Judge(const StepStats& s) {
  Verdict v;
  v.achieved = s.seconds > 0 ? static_cast<double>(s.lifecycles) / s.seconds : 0;
  v.p50_create_fee = Percentile(s.create_fee_ms, 50);
  v.p99_create_fee = Percentile(s.create_fee_ms, 99);
  v.p99_complete_reward = Percentile(s.complete_reward_ms, 99);
  std::vector<int64_t> lag;
  for (auto l : s.lag) {
    if (l >= 0) lag.push_back(l);
  }
  v.lag_max = lag.empty() ? 0 : *std::max_element(lag.begin(), lag.end());
  size_t third = lag.size() / 3;
  double first = Mean(lag, 0, third), last = Mean(lag, lag.size() - third, lag.size());
  v.lag_grows = last > first + std::max(100.0, 0.25 * s.offered);
  v.sustained = !s.create_fee_ms.empty() && v.p99_create_fee <= 250 && !v.lag_grows &&
                v.achieved >= 0.9 * s.offered;
  return v;
}

void WriteReport(const Config& c, const std::vector<StepStats>& steps, const Calibration& cal,
                 const Extras& x) {
  PrintSteps(steps);
  std::printf(
      "\nsame run: Health/Check %.0f calls/s, %.3f ms CPU of ates-tasks each; raw "
      "PostgreSQL commit %.0f/s, %.3f ms CPU of PostgreSQL each\n",
      cal.health_calls_per_s, cal.health_cpu_s * 1000, cal.commits_per_s, cal.commit_cpu_s * 1000);
  std::printf(
      "last shuffle: %lld tasks, reply in %.0f ms; day close: %lld payouts, last seen "
      "%.2f s after the close\n",
      static_cast<long long>(x.shuffle_tasks), x.shuffle_ms, static_cast<long long>(x.payouts),
      x.close_seconds);
  std::printf("load average %.2f at the start, %.2f at the end\n", x.load_start, x.load_end);
  WriteJson(c, steps, cal, x);
  WritePlot(c, steps);
  const StepStats* best = nullptr;
  for (const auto& s : steps) {
    if (Judge(s).sustained) best = &s;
  }
  ates::bench::Settings settings;
  settings.results = c.results;
  ates::bench::Report(settings, "system_lifecycles",
                      "whole system: task lifecycles sustained (p99 create->fee <= 250 ms, "
                      "lag flat), highest step",
                      best ? best->lifecycles : 0, "lifecycles", best ? best->seconds : 1,
                      ates::bench::Goal::MinRate(1000, "lifecycles"));
  if (x.big.tasks > 0) {
    std::printf("big shuffle: %lld tasks, reply %.2f s, %lld fees seen\n",
                static_cast<long long>(x.big.tasks), x.big.reply_s,
                static_cast<long long>(x.big.fees_seen));
    ates::bench::Report(settings, "system_shuffle_fees",
                        "shuffle of " + ates::bench::Grouped(x.big.tasks) +
                            " open tasks: click -> every fee seen applied",
                        x.big.fees_seen, "fees", x.big.all_fees_s > 0 ? x.big.all_fees_s : 1e9,
                        ates::bench::Goal::MaxSeconds(8));
  }
}

}  // namespace ates::bench::system
