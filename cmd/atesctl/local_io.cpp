#include "local_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace ates::ctl {
namespace {

namespace fs = std::filesystem;

CliError IoError(const std::string& what, const std::string& path) {
  return CliError(kExitError, what + " " + path + ": " + std::strerror(errno));
}

std::string Trim(std::string text) {
  const char* kSpace = " \t\r\n";
  text.erase(text.find_last_not_of(kSpace) + 1);
  text.erase(0, text.find_first_not_of(kSpace));
  return text;
}

// Creates missing folders of `dir` with mode 0700. `tighten` also sets 0700 on
// an existing `dir` (atesctl's own folder, which holds only its secrets).
void EnsurePrivateDir(const fs::path& dir, bool tighten) {
  if (dir.empty()) return;
  fs::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      throw IoError("cannot create folder", partial.string());
    }
  }
  if (tighten && ::chmod(dir.c_str(), 0700) != 0) {
    throw IoError("cannot restrict folder", dir.string());
  }
}

void WriteAll(int fd, const std::string& data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError("cannot write", path);
    done += static_cast<std::size_t>(n);
  }
}

// Restores the terminal's echo flag when the prompt ends, even on error.
class EchoOff final {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    active_ = ::tcgetattr(fd_, &saved_) == 0;
    if (!active_) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(fd_, TCSAFLUSH, &quiet);
  }
  ~EchoOff() {
    if (active_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  bool active_ = false;
  termios saved_{};
};

}  // namespace

std::optional<std::string> ReadToken(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw IoError("cannot read token file", path);
  }
  std::string token;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) token.append(buf, static_cast<std::size_t>(n));
  }
  int read_errno = errno;
  ::close(fd);
  if (n < 0) {
    errno = read_errno;
    throw IoError("cannot read token file", path);
  }
  token = Trim(std::move(token));
  if (token.empty()) return std::nullopt;
  return token;
}

void WriteToken(const std::string& path, const std::string& token, bool own_folder) {
  EnsurePrivateDir(fs::path(path).parent_path(), own_folder);
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw IoError("cannot create", tmp);
  try {
    if (::fchmod(fd, 0600) != 0) throw IoError("cannot restrict", tmp);
    WriteAll(fd, token + "\n", tmp);
    if (::fsync(fd) != 0) throw IoError("cannot flush", tmp);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw IoError("cannot replace", path);
  }
}

bool RemoveToken(const std::string& path) {
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  throw IoError("cannot remove", path);
}

bool StdinIsTerminal() { return ::isatty(STDIN_FILENO) == 1; }

std::string ReadStdinLine(const std::string& what) {
  std::string line;
  if (!std::getline(std::cin, line)) {
    throw CliError(kExitUsage, "expected " + what + " on standard input, got end of input");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string Prompt(const std::string& prompt, bool secret) {
  std::cerr << prompt << std::flush;
  if (!secret) return ReadStdinLine("an answer");
  EchoOff quiet(STDIN_FILENO);
  return ReadStdinLine("a password");
}

}  // namespace ates::ctl
