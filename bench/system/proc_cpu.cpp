#include "proc_cpu.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ates::bench::system {
namespace {

namespace fs = std::filesystem;

// The fields of /proc/<pid>/stat after "pid (comm)": index 0 is the state
// (field 3 of proc(5)), so field N of proc(5) is at N - 3.
std::vector<std::string> StatFields(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> out;
  for (std::string f; rest >> f;) out.push_back(f);
  return out;
}

double Ticks(const std::vector<std::string>& f, size_t field) {
  return field - 3 < f.size() ? std::stod(f[field - 3]) : 0.0;
}

double TicksPerSecond() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

std::vector<pid_t> AllPids() {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) {
      out.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return out;
}

}  // namespace

double CpuSeconds(pid_t pid) {
  auto f = StatFields(pid);
  return (Ticks(f, 14) + Ticks(f, 15)) / TicksPerSecond();
}

double TreeCpuSeconds(pid_t root) {
  auto f = StatFields(root);
  double ticks = Ticks(f, 14) + Ticks(f, 15) + Ticks(f, 16) + Ticks(f, 17);
  for (pid_t p : AllPids()) {
    auto c = StatFields(p);
    if (c.size() > 1 && std::stol(c[1]) == root) ticks += Ticks(c, 14) + Ticks(c, 15);
  }
  return ticks / TicksPerSecond();
}

pid_t FindProcess(const std::string& program, const std::string& argument) {
  for (pid_t p : AllPids()) {
    std::ifstream in("/proc/" + std::to_string(p) + "/cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto first = cmd.substr(0, cmd.find('\0'));
    if (fs::path(first).filename() == program && cmd.find(argument) != std::string::npos) {
      return p;
    }
  }
  return -1;
}

}  // namespace ates::bench::system
