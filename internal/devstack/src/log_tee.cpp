#include "ates/devstack/log_tee.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace ates::devstack {

LogTee::LogTee(int fd, const std::string& log_path, std::string prefix)
    : log_(log_path, std::ios::app),
      prefix_(std::move(prefix)),
      thread_([this, fd] { Copy(fd); }) {}

LogTee::~LogTee() = default;  // the jthread joins

void LogTee::Copy(int fd) {
  std::string pending;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    log_.write(buf, n);
    log_.flush();
    pending.append(buf, static_cast<size_t>(n));
    for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
      std::string line = prefix_ + pending.substr(0, nl + 1);
      std::fwrite(line.data(), 1, line.size(), stderr);
      pending.erase(0, nl + 1);
    }
  }
  if (!pending.empty()) std::fprintf(stderr, "%s%s\n", prefix_.c_str(), pending.c_str());
}

}  // namespace ates::devstack
