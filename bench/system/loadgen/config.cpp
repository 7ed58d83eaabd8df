#include "config.hpp"

#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace ates::bench::system {
namespace {

std::string Env(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string Required(const char* name) {
  auto v = Env(name);
  if (v.empty()) throw std::runtime_error(std::string(name) + " is not set (run bench_system)");
  return v;
}

double Number(const char* name, double fallback) {
  auto v = Env(name);
  return v.empty() ? fallback : std::stod(v);
}

}  // namespace

Config LoadConfig() {
  Config c;
  std::istringstream rates(Env("ATES_SYSTEM_RATES", "50 100 200 400 800 1200"));
  for (double r; rates >> r;) c.rates.push_back(r);
  c.step_seconds = Number("ATES_SYSTEM_STEP_SECONDS", c.step_seconds);
  c.workers = static_cast<int>(Number("ATES_SYSTEM_WORKERS", c.workers));
  c.managers = static_cast<int>(Number("ATES_SYSTEM_MANAGERS", c.managers));
  c.reads = Number("ATES_SYSTEM_READS", c.reads);
  c.shuffle_seconds = Number("ATES_SYSTEM_SHUFFLE_SECONDS", c.shuffle_seconds);
  c.channels = static_cast<int>(Number("ATES_SYSTEM_CHANNELS", c.channels));
  c.queues = static_cast<int>(Number("ATES_SYSTEM_QUEUES", c.queues));
  c.max_in_flight = static_cast<int>(Number("ATES_SYSTEM_MAX_IN_FLIGHT", c.max_in_flight));
  c.calibrate_seconds = Number("ATES_SYSTEM_CALIBRATE_SECONDS", c.calibrate_seconds);
  c.auth = Required("ATES_SYSTEM_ADDR_AUTH");
  c.tasks = Required("ATES_SYSTEM_ADDR_TASKS");
  c.billing = Required("ATES_SYSTEM_ADDR_BILLING");
  c.admin_login = Required("ATES_SYSTEM_ADMIN_LOGIN");
  c.admin_password = Required("ATES_SYSTEM_ADMIN_PASSWORD");
  c.nats_url = Required("ATES_SYSTEM_NATS_URL");
  c.raw_pg_url = Required("ATES_SYSTEM_RAW_PG_URL");
  c.tasks_pg_url = Required("ATES_SYSTEM_TASKS_PG_URL");
  c.big_shuffle = static_cast<int64_t>(Number("ATES_SYSTEM_BIG_SHUFFLE", 100000));
  c.out_dir = Required("ATES_SYSTEM_OUT");
  c.results = Env("ATES_BENCH_RESULTS");
  std::istringstream pids(Required("ATES_SYSTEM_PIDS"));
  for (std::string kv; pids >> kv;) {
    auto eq = kv.find('=');
    if (eq != std::string::npos) c.pids[kv.substr(0, eq)] = std::stoi(kv.substr(eq + 1));
  }
  return c;
}

}  // namespace ates::bench::system
