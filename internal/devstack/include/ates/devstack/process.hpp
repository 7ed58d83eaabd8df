#pragma once

// The one fork/exec of the project's tooling: `make run` (ates-devstack), the
// benchmarks and the tests start every process through Process::Spawn.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ates::devstack {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is a path or a name looked up in PATH
  // Added to the inherited environment, from which every variable starting
  // with one of `drop_env_prefixes` is removed first (by default every ATES_*
  // variable, so that a developer's shell cannot leak into a test).
  std::map<std::string, std::string> env;
  std::string output_path;  // stdout and stderr are appended here; "" = /dev/null
  std::string cwd;
  std::optional<uid_t> uid;  // drop to this user (and gid) before exec
  std::optional<gid_t> gid;
  std::vector<std::string> drop_env_prefixes{"ATES_"};
  // Where stdout and stderr go instead of output_path: this process's own
  // (kInherit), or a pipe read through Process::output_fd() (kPipe).
  enum class Output { kFile, kInherit, kPipe };
  Output output = Output::kFile;
};

// A child process that dies with its parent: it gets SIGKILL through
// PR_SET_PDEATHSIG when the thread that spawned it ends, so a crashed or killed
// parent leaves nothing running. It runs in its own process group, so a Ctrl-C
// in the terminal reaches only the parent. Killed on destruction if still alive.
class Process final {
 public:
  static std::unique_ptr<Process> Spawn(const SpawnOptions& options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  void Signal(int sig);
  // Waits for the exit; returns the exit code, 128+signal when killed, or
  // nullopt on timeout (the process keeps running).
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Signals, waits up to `timeout`, then SIGKILLs. Returns what Wait returns.
  int Stop(int sig, std::chrono::milliseconds timeout);
  std::optional<int> exit_code() const { return exit_code_; }
  // The read end of the output pipe (Output::kPipe), else -1. Owned here.
  int output_fd() const { return output_fd_; }

 private:
  Process(pid_t pid, int output_fd) : pid_(pid), output_fd_(output_fd) {}
  bool Reap(bool block);

  pid_t pid_;
  int output_fd_;
  std::optional<int> exit_code_;
};

// Runs a command to completion; returns its exit code (128+signal when killed).
int RunCommand(const SpawnOptions& options, std::chrono::milliseconds timeout);

// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, close).
// Never the same port twice in one process.
int FreePort();
// True when nothing listens on host:port (a bind succeeds).
bool PortFree(const std::string& host, int port);

}  // namespace ates::devstack
