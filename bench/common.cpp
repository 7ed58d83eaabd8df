#include "common.hpp"

#include <nats/nats.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ates/platform/events.hpp"
#include "ates/platform/pg.hpp"

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

Goal Goal::MinRate(double per_second, std::string_view unit, std::vector<std::string> versus) {
  return {Kind::kMinRate, per_second,
          ">= " + Grouped(static_cast<int64_t>(per_second)) + " " + std::string(unit) + "/s",
          std::move(versus)};
}

Goal Goal::MaxSeconds(double seconds, std::vector<std::string> versus) {
  char text[32];
  std::snprintf(text, sizeof text, "<= %g s", seconds);
  return {Kind::kMaxSeconds, seconds, text, std::move(versus)};
}

Goal Goal::Versus(std::vector<std::string> versus) {
  return {Kind::kNone, 0, "", std::move(versus)};
}

bool Goal::Met(double rate, double seconds) const {
  switch (kind) {
    case Kind::kMinRate:
      return rate >= value;
    case Kind::kMaxSeconds:
      return seconds <= value;
    case Kind::kNone:
      break;
  }
  return true;
}

namespace {

std::string Joined(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ",") + k;
  return out;
}

}  // namespace

void Report(const Settings& s, std::string_view key, std::string_view label, int64_t count,
            std::string_view unit, double seconds, const Goal& goal) {
  auto rate = static_cast<int64_t>(seconds > 0 ? static_cast<double>(count) / seconds : 0);
  std::printf("%.*s: %s %.*s in %.2f s = %s %.*s/s\n", static_cast<int>(label.size()), label.data(),
              Grouped(count).c_str(), static_cast<int>(unit.size()), unit.data(), seconds,
              Grouped(rate).c_str(), static_cast<int>(unit.size()), unit.data());
  if (goal.kind != Goal::Kind::kNone) {
    std::printf("  goal %s: %s\n", goal.text.c_str(),
                goal.Met(static_cast<double>(rate), seconds) ? "met" : "MISSED");
  }
  std::fflush(stdout);
  if (!s.results.empty()) {
    std::ofstream out(s.results, std::ios::app);
    out << key << '\t' << label << '\t' << count << '\t' << seconds << '\t' << rate << '\t' << unit
        << "/s\t" << static_cast<int>(goal.kind) << '\t' << goal.value << '\t' << goal.text << '\t'
        << Joined(goal.versus) << "\n";
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

namespace {
constexpr std::string_view kCommitsSetup =
    "SET client_min_messages = warning;"
    "DROP TABLE IF EXISTS bench_raw_commits;"
    "CREATE TABLE bench_raw_commits ("
    " seq bigserial PRIMARY KEY, event_id uuid NOT NULL, payload bytea NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())";
constexpr std::string_view kCommitsInsert =
    "INSERT INTO bench_raw_commits (event_id, payload) VALUES ($1, $2)";
}  // namespace

CommitRun SingleRowCommits(const std::string& pg_url, int connections,
                           std::chrono::milliseconds duration) {
  pg::Connection setup(pg_url);
  setup.Exec(kCommitsSetup);
  std::vector<std::string> ids, payloads;
  for (int64_t i = 0; i < 4096; ++i) {
    ids.push_back(events::NewUuid());
    payloads.push_back(Payload(i));
  }
  std::vector<std::unique_ptr<pg::Connection>> conns;
  for (int k = 0; k < connections; ++k) {
    conns.push_back(std::make_unique<pg::Connection>(pg_url));
    conns.back()->EnsureConnected();
  }
  std::atomic<bool> failed{false};
  std::atomic<int64_t> commits{0};
  std::string error;
  std::mutex error_mu;
  Stopwatch sw;
  const auto deadline = std::chrono::steady_clock::now() + duration;
  std::vector<std::thread> threads;
  for (int k = 0; k < connections; ++k) {
    threads.emplace_back([&, k] {
      try {
        for (size_t row = k; std::chrono::steady_clock::now() < deadline && !failed;
             row += connections) {
          size_t i = row % ids.size();
          conns[k]->Exec(kCommitsInsert, {pg::Text(ids[i]), pg::Bytes(payloads[i])});
          ++commits;
        }
      } catch (const std::exception& e) {
        failed = true;
        std::lock_guard lock(error_mu);
        error = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  CommitRun run{commits.load(), sw.Seconds()};
  if (failed) throw std::runtime_error("single-row commits: " + error);
  int64_t stored = setup.Exec("SELECT count(*) FROM bench_raw_commits").Int(0, 0);
  if (stored != run.commits) {
    throw std::runtime_error("bench_raw_commits holds " + std::to_string(stored) +
                             " rows, expected " + std::to_string(run.commits));
  }
  setup.Exec("DROP TABLE bench_raw_commits");
  return run;
}

}  // namespace ates::bench
