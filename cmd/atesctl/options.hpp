#pragma once

// Global options of atesctl (output format, server addresses, token file,
// timeout) and how flags, ATES_* variables and defaults combine. Pure.

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "args.hpp"

namespace ates::ctl {

enum class Service { kAuth, kTasks, kBilling, kAnalytics, kScheduler };

struct ServiceInfo {
  Service service;
  const char* name;          // Also the global flag: --tasks ADDR.
  const char* env;           // ATES_TASKS_ADDR.
  const char* default_addr;  // Local `make run` default.
};

inline constexpr std::array<ServiceInfo, 5> kServices = {{
    {Service::kAuth, "auth", "ATES_AUTH_ADDR", "127.0.0.1:50051"},
    {Service::kTasks, "tasks", "ATES_TASKS_ADDR", "127.0.0.1:50052"},
    {Service::kBilling, "billing", "ATES_BILLING_ADDR", "127.0.0.1:50053"},
    {Service::kAnalytics, "analytics", "ATES_ANALYTICS_ADDR", "127.0.0.1:50054"},
    {Service::kScheduler, "scheduler", "ATES_SCHEDULER_ADDR", "127.0.0.1:50055"},
}};

const ServiceInfo& InfoOf(Service service);

enum class OutputFormat { kTable, kJson, kCsv };

struct Options {
  OutputFormat output = OutputFormat::kTable;
  std::array<std::string, kServices.size()> addresses;  // Indexed like kServices.
  std::string token_file;
  bool default_token_file = false;  // Its folder is atesctl's own (kept at 0700).
  std::chrono::milliseconds timeout{10'000};
  // TLS (PEM paths): plaintext while tls_ca is empty; the server must present
  // a certificate signed by tls_ca; tls_cert/tls_key for servers requiring mTLS.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_server_name;  // name expected in the certificate instead of the address's host
  // W3C trace context: every call of the command carries one traceparent, a
  // child of $TRACEPARENT when that is valid, else a new trace; --trace
  // prints its trace id on stderr (ADR 33).
  std::string parent_traceparent;
  bool print_trace = false;

  const std::string& Address(Service service) const {
    return addresses[static_cast<std::size_t>(service)];
  }
};

// Reads an environment variable; std::nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Flags shared by every command (-o, --auth..., --token-file, --timeout, --tls-*, -h).
std::vector<FlagSpec> GlobalFlags();

// Flag > ATES_* variable > default. Throws UsageError on malformed values.
Options ResolveOptions(const ParsedArgs& args, const EnvLookup& env);

// $XDG_CONFIG_HOME/ates/token, else $HOME/.config/ates/token; empty when
// neither variable is set.
std::string DefaultTokenFile(const EnvLookup& env);

}  // namespace ates::ctl
