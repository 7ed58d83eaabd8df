#include "ates/devstack/process.hpp"

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
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ates::devstack {
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

// Binds host:port (0: the kernel's pick); returns the bound port, -1 if taken.
int TryBind(const std::string& host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    close(fd);
    throw std::runtime_error("not an IPv4 address: " + host);
  }
  int one = 1;  // a port in TIME_WAIT counts as free
  if (port != 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
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

// The child's environment: the inherited one without the dropped prefixes and
// the overridden names, then the overrides.
std::vector<std::string> ChildEnvironment(const SpawnOptions& options) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool dropped = false;
    for (const auto& prefix : options.drop_env_prefixes) dropped |= entry.starts_with(prefix);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos && options.env.count(std::string(entry.substr(0, eq)))) {
      dropped = true;
    }
    if (!dropped) out.emplace_back(entry);
  }
  for (const auto& [k, v] : options.env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// The descriptors the child's stdout/stderr become, and the parent's read end
// of a pipe (-1 without one). Opened close-on-exec.
struct OutputFds {
  int child = -1;
  int parent = -1;
};

OutputFds OpenOutput(const SpawnOptions& options) {
  using Output = SpawnOptions::Output;
  if (options.output == Output::kInherit) return {};
  if (options.output == Output::kPipe) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    return {fds[1], fds[0]};
  }
  int fd = options.output_path.empty()
               ? open("/dev/null", O_WRONLY | O_CLOEXEC)
               : open(options.output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error("cannot open " + options.output_path + ": " + std::strerror(errno));
  }
  return {fd, -1};
}

// In the child, between fork and exec: async-signal-safe calls only.
[[noreturn]] void ExecChild(const SpawnOptions& options, pid_t parent, int null_in, int out_fd,
                            const std::string& binary, char** argv, char** envp) {
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
  if (out_fd >= 0) {
    dup2(out_fd, 1);
    dup2(out_fd, 2);
  }
  syscall(SYS_close_range, 3, ~0U, 0);
  if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(124);
  execve(binary.c_str(), argv, envp);
  _exit(127);
}

}  // namespace

std::unique_ptr<Process> Process::Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) throw std::invalid_argument("Spawn: empty argv");
  // Everything the child needs is prepared here: after fork() in a
  // multi-threaded process only async-signal-safe calls are allowed.
  std::string binary = ResolveBinary(options.argv[0]);
  std::vector<std::string> env_strings = ChildEnvironment(options);
  std::vector<char*> envp = Pointers(env_strings);
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv = Pointers(args);
  OutputFds out = OpenOutput(options);
  int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecChild(options, parent, null_in, out.child, binary, argv.data(), envp.data());
  int fork_errno = errno;
  if (out.child >= 0) close(out.child);
  close(null_in);
  if (pid < 0) {
    if (out.parent >= 0) close(out.parent);
    throw std::runtime_error(std::string("fork: ") + std::strerror(fork_errno));
  }
  return std::unique_ptr<Process>(new Process(pid, out.parent));
}

Process::~Process() {
  if (!exit_code_) {
    kill(pid_, SIGKILL);
    Reap(true);
  }
  if (output_fd_ >= 0) close(output_fd_);
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
  static std::mutex mu;
  static std::set<int> given;
  std::lock_guard lock(mu);
  for (int attempt = 0; attempt < 50; ++attempt) {
    int port = TryBind("127.0.0.1", 0);
    if (port < 0) throw std::runtime_error("bind failed");
    if (given.insert(port).second) return port;
  }
  throw std::runtime_error("no free port");
}

bool PortFree(const std::string& host, int port) { return TryBind(host, port) > 0; }

}  // namespace ates::devstack
