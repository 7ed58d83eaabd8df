// The standard process_* metrics of this process, read from /proc at scrape time.
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "ates/platform/scrape_metrics.hpp"

namespace ates::platform {
namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double start_seconds_since_boot = 0;
  double virtual_bytes = 0;
  double resident_bytes = 0;
};

// /proc/self/stat: the fields after the command name "(...)", which may hold spaces.
ProcStat ReadProcStat() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  ProcStat stat;
  auto close = line.rfind(')');
  if (close == std::string::npos) return stat;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(rest), {}};
  // f[0] is field 3 (state): field n is f[n - 3].
  if (f.size() < 22) return stat;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  stat.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;  // utime + stime
  stat.start_seconds_since_boot = std::stod(f[19]) / ticks;          // starttime
  stat.virtual_bytes = std::stod(f[20]);                             // vsize
  stat.resident_bytes = std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE));
  return stat;
}

// Seconds since the epoch at boot ("btime" in /proc/stat).
double BootTime() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

double OpenFds() {
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return n > 0 ? n - 1 : 0;  // less the descriptor that reads the folder
}

double MaxFds() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<double>(limit.rlim_cur);
}

class ProcessCollector final : public prometheus::Collectable {
 public:
  ProcessCollector() : boot_time_(BootTime()) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    const ProcStat stat = ReadProcStat();
    prometheus::MetricFamily cpu{"process_cpu_seconds_total",
                                 "Total user and system CPU time spent in seconds.",
                                 prometheus::MetricType::Counter,
                                 {}};
    prometheus::ClientMetric cpu_sample;
    cpu_sample.counter.value = stat.cpu_seconds;
    cpu.metric.push_back(cpu_sample);
    return {
        cpu,
        GaugeSamples("process_resident_memory_bytes", "Resident memory size in bytes.",
                     {Sample(stat.resident_bytes)}),
        GaugeSamples("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                     {Sample(stat.virtual_bytes)}),
        GaugeSamples("process_open_fds", "Number of open file descriptors.", {Sample(OpenFds())}),
        GaugeSamples("process_max_fds", "Maximum number of open file descriptors.",
                     {Sample(MaxFds())}),
        GaugeSamples("process_start_time_seconds",
                     "Start time of the process since unix epoch in seconds.",
                     {Sample(boot_time_ + stat.start_seconds_since_boot)})};
  }

 private:
  double boot_time_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> ProcessMetrics() {
  return std::make_shared<ProcessCollector>();
}

prometheus::MetricFamily GaugeSamples(std::string name, std::string help,
                                      std::vector<prometheus::ClientMetric> samples) {
  return {std::move(name), std::move(help), prometheus::MetricType::Gauge, std::move(samples)};
}

prometheus::ClientMetric Sample(double value, std::vector<prometheus::ClientMetric::Label> labels) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  return m;
}

}  // namespace ates::platform
