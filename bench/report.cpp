#include "report.hpp"

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "common.hpp"

namespace ates::bench {
namespace {

struct Row {
  std::string key, label, unit;
  int64_t count = 0, rate = 0;
  double seconds = 0;
  Goal goal;
};

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, sep)) out.push_back(part);
  if (!text.empty() && text.back() == sep) out.emplace_back();
  return out;
}

std::vector<Row> ReadRows(const std::string& path) {
  std::vector<Row> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto f = Split(line, '\t');
    if (f.size() < 10) continue;
    Row r{f[0], f[1], f[5], std::stoll(f[2]), std::stoll(f[4]), std::stod(f[3]), {}};
    r.goal.kind = static_cast<Goal::Kind>(std::stoi(f[6]));
    r.goal.value = std::stod(f[7]);
    r.goal.text = f[8];
    if (!f[9].empty()) r.goal.versus = Split(f[9], ',');
    rows.push_back(std::move(r));
  }
  return rows;
}

void PrintTable(const std::vector<Row>& rows) {
  std::printf("%-64s %10s %8s %14s\n", "figure", "count", "seconds", "rate");
  for (const auto& r : rows) {
    std::printf("%-64s %10s %8.2f %14s %s\n", r.label.c_str(), Grouped(r.count).c_str(), r.seconds,
                Grouped(r.rate).c_str(), r.unit.c_str());
  }
  std::printf("\n");
}

// "= 45% of jetstream async publish (200 B, unique MsgId) 123,000 msg/s, ..."
std::string Shares(const Row& r, const std::map<std::string, const Row*>& by_key) {
  std::string out;
  for (const auto& key : r.goal.versus) {
    auto it = by_key.find(key);
    if (it == by_key.end() || it->second->rate <= 0) continue;
    const Row& base = *it->second;
    char share[32];
    std::snprintf(share, sizeof share, "%.0f%%",
                  100.0 * static_cast<double>(r.rate) / static_cast<double>(base.rate));
    out += std::string(out.empty() ? " = " : ", ") + share + " of " + base.key + " (" +
           Grouped(base.rate) + " " + base.unit + ")";
  }
  return out;
}

}  // namespace

int PrintReport(const std::string& path) {
  auto rows = ReadRows(path);
  PrintTable(rows);
  std::map<std::string, const Row*> by_key;
  for (const auto& r : rows) by_key[r.key] = &r;
  int met = 0, missed = 0;
  for (const auto& r : rows) {
    if (r.goal.kind == Goal::Kind::kNone && r.goal.versus.empty()) continue;
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f s", r.seconds);
    std::string figure =
        r.goal.kind == Goal::Kind::kMaxSeconds ? seconds : Grouped(r.rate) + " " + r.unit;
    std::string verdict;
    if (r.goal.kind != Goal::Kind::kNone) {
      bool ok = r.goal.Met(static_cast<double>(r.rate), r.seconds);
      (ok ? met : missed)++;
      verdict = "  (goal " + r.goal.text + ": " + (ok ? "met" : "MISSED") + ")";
    }
    std::printf("%-20s %s%s%s\n", r.key.c_str(), figure.c_str(), Shares(r, by_key).c_str(),
                verdict.c_str());
  }
  std::printf("\ngoals: %d met, %d missed\n", met, missed);
  return missed;
}

}  // namespace ates::bench
