#include "common.hpp"

#include <nats/nats.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace ates::bench {

Settings ParseSettings(int argc, char** argv) {
  Settings s;
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  s.pg_url = env("ATES_BENCH_PG_URL");
  s.nats_url = env("ATES_BENCH_NATS_URL");
  s.results = env("ATES_BENCH_RESULTS");
  if (auto n = env("ATES_BENCH_EVENTS"); !n.empty()) s.events = std::stoll(n);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view flag) -> const char* {
      if (arg.starts_with(flag) && arg.size() > flag.size() && arg[flag.size()] == '=') {
        return argv[i] + flag.size() + 1;
      }
      return nullptr;
    };
    if (auto v = value("--pg")) {
      s.pg_url = v;
    } else if (auto v = value("--nats")) {
      s.nats_url = v;
    } else if (auto v = value("--events")) {
      s.events = std::stoll(v);
    } else if (auto v = value("--results")) {
      s.results = v;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--pg=URL] [--nats=URL] [--events=N] [--results=FILE]\n"
                   "(or ATES_BENCH_PG_URL, ATES_BENCH_NATS_URL, ATES_BENCH_EVENTS, "
                   "ATES_BENCH_RESULTS)\n",
                   argv[0]);
      std::exit(2);
    }
  }
  if (s.events <= 0) throw std::runtime_error("--events must be positive");
  return s;
}

std::string Grouped(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return value < 0 ? "-" + out : out;
}

void Report(const Settings& s, std::string_view key, std::string_view label, int64_t count,
            std::string_view unit, double seconds) {
  auto rate = static_cast<int64_t>(seconds > 0 ? static_cast<double>(count) / seconds : 0);
  std::printf("%.*s: %s %.*s in %.2f s = %s %.*s/s\n", static_cast<int>(label.size()), label.data(),
              Grouped(count).c_str(), static_cast<int>(unit.size()), unit.data(), seconds,
              Grouped(rate).c_str(), static_cast<int>(unit.size()), unit.data());
  std::fflush(stdout);
  if (!s.results.empty()) {
    std::ofstream out(s.results, std::ios::app);
    out << key << '\t' << label << '\t' << count << '\t' << seconds << '\t' << rate << '\t' << unit
        << "/s\n";
  }
}

void Note(std::string_view text) {
  std::printf("  %.*s\n", static_cast<int>(text.size()), text.data());
  std::fflush(stdout);
}

void CheckNats(int status, std::string_view what) {
  if (status != NATS_OK) {
    throw std::runtime_error(std::string(what) + ": " +
                             natsStatus_GetText(static_cast<natsStatus>(status)) + " " +
                             nats_GetLastError(nullptr));
  }
}

std::string Payload(int64_t i, size_t size) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  std::string out(size, ' ');
  uint64_t x = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ULL + 1;
  for (size_t k = 0; k < size; ++k) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[k] = kAlphabet[x & 63];
  }
  return out;
}

}  // namespace ates::bench
