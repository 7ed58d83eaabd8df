#include "support/e2e_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace ates::test::e2e {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

CliResult RunCli(const std::vector<std::string>& argv, const std::string& stdin_text,
                 const std::map<std::string, std::string>& env, std::chrono::milliseconds timeout) {
  CliResult result;
  if (argv.empty()) throw std::invalid_argument("RunCli: empty argv");
  // Everything the child needs is built before fork().
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("ATES_")) continue;
    auto eq = entry.find('=');
    if (eq != std::string_view::npos && env.count(std::string(entry.substr(0, eq)))) continue;
    env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);

  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  // The input is small (a password): it fits the pipe buffer.
  signal(SIGPIPE, SIG_IGN);
  if (!stdin_text.empty()) {
    ssize_t n = write(in[1], stdin_text.data(), stdin_text.size());
    (void)n;
  }
  close(in[1]);
  auto deadline = Clock::now() + timeout;
  bool out_open = true, err_open = true;
  char buf[8192];
  while ((out_open || err_open) && RemainingMs(deadline) > 0) {
    pollfd fds[2];
    int nfds = 0;
    if (out_open) fds[nfds++] = {out[0], POLLIN, 0};
    if (err_open) fds[nfds++] = {err[0], POLLIN, 0};
    int rc = poll(fds, nfds, RemainingMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;
    for (int i = 0; i < nfds; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      bool is_out = fds[i].fd == out[0];
      if (n <= 0) {
        (is_out ? out_open : err_open) = false;
      } else {
        (is_out ? result.out : result.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  close(out[0]);
  close(err[0]);
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (RemainingMs(deadline) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    usleep(10000);
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

HttpResponse HttpGet(const std::string& host_port, const std::string& path,
                     std::chrono::milliseconds timeout) {
  HttpResponse resp;
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    resp.error = "bad address " + host_port;
    return resp;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  if (inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    resp.error = "bad host " + host_port;
    return resp;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    resp.error = "socket failed";
    return resp;
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    resp.error = std::string("connect: ") + std::strerror(errno);
    close(fd);
    return resp;
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + host_port +
                    "\r\nAccept: text/plain\r\nConnection: close\r\n\r\n";
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    resp.error = "send failed";
    close(fd);
    return resp;
  }
  std::string raw;
  char buf[16384];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos) {
    resp.error = "no HTTP header in " + std::to_string(raw.size()) + " bytes";
    return resp;
  }
  std::istringstream head(raw.substr(0, end));
  std::string status_line;
  std::getline(head, status_line);
  std::istringstream sl(status_line);
  std::string version;
  sl >> version >> resp.status;
  std::string line;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto c = line.find(':');
    if (c == std::string::npos) continue;
    std::string name = line.substr(0, c);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string value = line.substr(c + 1);
    value.erase(0, value.find_first_not_of(' '));
    resp.headers[name] = value;
  }
  resp.body = raw.substr(end + 4);
  return resp;
}

// ---- Prometheus text format ---------------------------------------------------------

namespace {

bool IsNameStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }
bool IsLabelStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsLabelChar(char c) { return IsLabelStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

bool ValidMetricName(std::string_view s) {
  if (s.empty() || !IsNameStart(s[0])) return false;
  for (char c : s) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

// A number as Go's strconv.ParseFloat (what Prometheus parses values with)
// reads it: decimal or exponent notation, or Inf/Infinity/NaN in any case.
bool ParseValue(const std::string& s, double* out) {
  std::string lower;
  for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  std::string_view body = lower;
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity") {
    *out = negative ? -INFINITY : INFINITY;
    return true;
  }
  if (lower == "nan") {
    *out = NAN;
    return true;
  }
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
          c == '+' || c == '-')) {
      return false;
    }
  }
  char* end = nullptr;
  errno = 0;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && errno == 0;
}

// The family a sample name belongs to, given the declared types.
std::string FamilyOf(const std::string& sample, const std::map<std::string, std::string>& types) {
  if (types.count(sample)) return sample;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string_view sv(sample);
    if (sv.ends_with(suffix)) {
      std::string base(sv.substr(0, sv.size() - std::strlen(suffix)));
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
  }
  return "";
}

}  // namespace

double PromCheck::Sum(const std::string& name) const {
  double sum = 0;
  auto it = values.find(name);
  if (it == values.end()) return 0;
  for (const auto& [labels, v] : it->second) sum += v;
  return sum;
}

PromCheck CheckPrometheusText(const std::string& text) {
  PromCheck r;
  auto fail = [&](int n, const std::string& why, const std::string& line) {
    r.errors.push_back("line " + std::to_string(n) + ": " + why + ": '" + line + "'");
  };
  if (!text.empty() && text.back() != '\n') r.errors.push_back("does not end with a newline");
  std::set<std::string> families_with_samples;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream ls(line.substr(1));
      std::string keyword, name;
      ls >> keyword;
      if (keyword != "HELP" && keyword != "TYPE") continue;  // a plain comment
      if (!(ls >> name) || !ValidMetricName(name)) {
        fail(n, "bad metric name in " + keyword, line);
        continue;
      }
      if (keyword == "HELP") {
        if (!r.helped.insert(name).second) fail(n, "second HELP for " + name, line);
        continue;
      }
      std::string type, extra;
      ls >> type;
      if (ls >> extra) fail(n, "text after the type", line);
      static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                   "untyped"};
      if (!kTypes.count(type)) fail(n, "unknown type '" + type + "'", line);
      if (r.types.count(name)) fail(n, "second TYPE for " + name, line);
      if (families_with_samples.count(name)) fail(n, "TYPE after samples of " + name, line);
      r.types[name] = type;
      continue;
    }
    // name{label="value",...} value [timestamp]
    size_t i = 0;
    while (i < line.size() && IsNameChar(line[i])) ++i;
    std::string name = line.substr(0, i);
    if (!ValidMetricName(name)) {
      fail(n, "bad metric name", line);
      continue;
    }
    std::string labels;
    bool ok = true;
    if (i < line.size() && line[i] == '{') {
      size_t start = i;
      ++i;
      std::set<std::string> seen;
      while (ok && i < line.size() && line[i] != '}') {
        size_t ls = i;
        if (!IsLabelStart(line[i])) {
          ok = false;
          break;
        }
        while (i < line.size() && IsLabelChar(line[i])) ++i;
        std::string label = line.substr(ls, i - ls);
        if (!seen.insert(label).second) ok = false;
        if (i >= line.size() || line[i] != '=') {
          ok = false;
          break;
        }
        ++i;
        if (i >= line.size() || line[i] != '"') {
          ok = false;
          break;
        }
        ++i;
        bool closed = false;
        while (i < line.size()) {
          if (line[i] == '\\') {
            if (i + 1 >= line.size() ||
                (line[i + 1] != '\\' && line[i + 1] != '"' && line[i + 1] != 'n')) {
              ok = false;
              break;
            }
            i += 2;
            continue;
          }
          if (line[i] == '"') {
            closed = true;
            ++i;
            break;
          }
          ++i;
        }
        if (!closed) ok = false;
        if (!ok) break;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (!ok || i >= line.size() || line[i] != '}') {
        fail(n, "malformed labels", line);
        continue;
      }
      ++i;
      labels = line.substr(start, i - start);
    }
    if (i >= line.size() || line[i] != ' ') {
      fail(n, "no space before the value", line);
      continue;
    }
    std::istringstream rest(line.substr(i + 1));
    std::string value_text, ts_text, extra;
    rest >> value_text >> ts_text >> extra;
    double value = 0;
    if (!ParseValue(value_text, &value)) {
      fail(n, "bad value '" + value_text + "'", line);
      continue;
    }
    if (!ts_text.empty()) {
      char* end = nullptr;
      std::strtoll(ts_text.c_str(), &end, 10);
      if (end != ts_text.c_str() + ts_text.size()) fail(n, "bad timestamp", line);
    }
    if (!extra.empty()) fail(n, "text after the timestamp", line);
    std::string family = FamilyOf(name, r.types);
    families_with_samples.insert(family.empty() ? name : family);
    if (!family.empty()) {
      families_with_samples.insert(family);
      const auto& type = r.types[family];
      if (type == "counter" && !(value >= 0)) fail(n, "negative or NaN counter", line);
      if (type == "histogram" && name == family + "_bucket" &&
          labels.find("le=\"") == std::string::npos) {
        fail(n, "histogram bucket without le", line);
      }
    }
    ++r.samples[name];
    r.values[name].emplace_back(labels, value);
  }
  return r;
}

std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// ---- dates ----------------------------------------------------------------------------

namespace {

std::chrono::sys_days ParseDay(const std::string& date) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (std::sscanf(date.c_str(), "%d-%u-%u", &y, &m, &d) != 3) {
    throw std::invalid_argument("bad date " + date);
  }
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) throw std::invalid_argument("bad date " + date);
  return std::chrono::sys_days{ymd};
}

std::string FormatDay(std::chrono::sys_days day) {
  std::chrono::year_month_day ymd{day};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace

std::string UtcDate(std::chrono::system_clock::time_point t) {
  return FormatDay(std::chrono::floor<std::chrono::days>(t));
}

std::string UtcDateOfSeconds(int64_t unix_seconds) {
  return UtcDate(std::chrono::system_clock::time_point{std::chrono::seconds{unix_seconds}});
}

std::string Rfc3339Utc(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto day = std::chrono::floor<std::chrono::days>(secs);
  std::chrono::hh_mm_ss hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", FormatDay(day).c_str(),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string ShiftDate(const std::string& date, int days) {
  return FormatDay(ParseDay(date) + std::chrono::days{days});
}

std::pair<std::string, std::string> IsoWeekOf(const std::string& date) {
  auto day = ParseDay(date);
  std::chrono::weekday wd{day};
  auto monday = day - std::chrono::days{wd.iso_encoding() - 1};
  return {FormatDay(monday), FormatDay(monday + std::chrono::days{6})};
}

std::pair<std::string, std::string> MonthOf(const std::string& date) {
  std::chrono::year_month_day ymd{ParseDay(date)};
  std::chrono::year_month_day first{ymd.year(), ymd.month(), std::chrono::day{1}};
  std::chrono::year_month_day_last last{ymd.year(), std::chrono::month_day_last{ymd.month()}};
  return {FormatDay(std::chrono::sys_days{first}), FormatDay(std::chrono::sys_days{last})};
}

}  // namespace ates::test::e2e
