#pragma once
// Helpers of the end-to-end tests that the integration support does not have:
// running a CLI with standard input and separate stdout/stderr, a plain HTTP
// GET (for /metrics), a Prometheus text-format checker, and calendar periods.

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ates::test::e2e {

struct CliResult {
  int exit_code = -1;  // 128+signal when killed, -1 when it could not run
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with `stdin_text` on its standard input. The
// environment is this process's minus every ATES_* variable, plus `env`.
CliResult RunCli(const std::vector<std::string>& argv, const std::string& stdin_text,
                 const std::map<std::string, std::string>& env,
                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

struct HttpResponse {
  int status = 0;                              // 0 when the request failed
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;
};

// GET http://host:port/path over HTTP/1.0 (no keep-alive, no chunking).
HttpResponse HttpGet(const std::string& host_port, const std::string& path,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The Prometheus text exposition format (version 0.0.4), checked line by line.
struct PromCheck {
  std::vector<std::string> errors;           // empty = valid
  std::map<std::string, std::string> types;  // family -> counter|gauge|...
  std::set<std::string> helped;              // families with a HELP line
  std::map<std::string, int> samples;        // sample name -> count
  // sample name -> every (labels text, value) seen
  std::map<std::string, std::vector<std::pair<std::string, double>>> values;
  // Sum of the values of samples named `name` (all label sets).
  double Sum(const std::string& name) const;
};
PromCheck CheckPrometheusText(const std::string& text);

// Absolute path of `name` in PATH, "" when absent.
std::string FindInPath(const std::string& name);

// "YYYY-MM-DD" helpers (proleptic Gregorian, UTC).
std::string UtcDate(std::chrono::system_clock::time_point t);
std::string UtcDateOfSeconds(int64_t unix_seconds);
std::string Rfc3339Utc(std::chrono::system_clock::time_point t);
std::string ShiftDate(const std::string& date, int days);
// [Monday, Sunday] of the ISO week containing `date`.
std::pair<std::string, std::string> IsoWeekOf(const std::string& date);
// [first, last] day of the calendar month containing `date`.
std::pair<std::string, std::string> MonthOf(const std::string& date);

}  // namespace ates::test::e2e
