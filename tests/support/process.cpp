#include "support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ates::test {
namespace {

std::string ResolveBinary(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (const char* extra : {":/usr/sbin", ":/sbin", ":/usr/local/sbin"}) dirs += extra;
  std::stringstream ss(dirs);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error("executable not found in PATH: " + name);
}

int BindEphemeral() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::unique_ptr<Process> Process::Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) throw std::invalid_argument("Spawn: empty argv");
  // Everything the child needs is prepared here: after fork() in a
  // multi-threaded process only async-signal-safe calls are allowed.
  std::string binary = ResolveBinary(options.argv[0]);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("ATES_")) continue;
    auto eq = entry.find('=');
    if (eq != std::string_view::npos && options.env.count(std::string(entry.substr(0, eq)))) {
      continue;
    }
    env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out_fd = options.output_path.empty() ? open("/dev/null", O_WRONLY | O_CLOEXEC)
                                           : open(options.output_path.c_str(),
                                                  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0) {
    throw std::runtime_error("cannot open " + options.output_path + ": " + std::strerror(errno));
  }
  int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(out_fd);
    close(null_in);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    setpgid(0, 0);
    if (options.gid) {
      gid_t g = *options.gid;
      if (setgroups(1, &g) != 0 || setgid(g) != 0) _exit(126);
    }
    if (options.uid && setuid(*options.uid) != 0) _exit(126);
    // After the credential change, which would clear it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(125);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(null_in, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    syscall(SYS_close_range, 3, ~0U, 0);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(124);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(out_fd);
  close(null_in);
  return std::unique_ptr<Process>(new Process(pid));
}

Process::~Process() {
  if (!exit_code_) {
    kill(pid_, SIGKILL);
    Reap(true);
  }
}

bool Process::Reap(bool block) {
  if (exit_code_) return true;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    exit_code_ = DecodeStatus(status);
    return true;
  }
  if (r < 0) {
    exit_code_ = -1;  // not our child any more
    return true;
  }
  return false;
}

bool Process::Running() { return !Reap(false); }

void Process::Signal(int sig) {
  if (!exit_code_) kill(pid_, sig);
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

int Process::Stop(int sig, std::chrono::milliseconds timeout) {
  Signal(sig);
  if (auto code = Wait(timeout)) return *code;
  kill(pid_, SIGKILL);
  Reap(true);
  return *exit_code_;
}

int RunCommand(const SpawnOptions& options, std::chrono::milliseconds timeout) {
  auto p = Process::Spawn(options);
  if (auto code = p->Wait(timeout)) return *code;
  return p->Stop(SIGKILL, std::chrono::seconds(5));
}

int FreePort() {
  // Never hand out the same port twice in one binary (the kernel may).
  static std::mutex mu;
  static std::set<int> given;
  std::lock_guard lock(mu);
  for (int attempt = 0; attempt < 50; ++attempt) {
    int port = BindEphemeral();
    if (given.insert(port).second) return port;
  }
  throw std::runtime_error("no free port");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Tail(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  return "...\n" + text.substr(text.size() - max_bytes);
}

}  // namespace ates::test
