#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ates::test {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is a path or a name looked up in PATH
  // Added to the inherited environment, from which every ATES_* variable is
  // removed first so that a developer's shell cannot leak into a test.
  std::map<std::string, std::string> env;
  std::string output_path;  // stdout and stderr are appended here; "" = /dev/null
  std::string cwd;
  std::optional<uid_t> uid;  // drop to this user (and gid) before exec
  std::optional<gid_t> gid;
};

// A child process that dies with the test binary: it gets SIGKILL through
// PR_SET_PDEATHSIG when the thread that spawned it ends, so a crashed or killed
// test leaves nothing running. Killed on destruction if still alive.
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

 private:
  explicit Process(pid_t pid) : pid_(pid) {}
  bool Reap(bool block);

  pid_t pid_;
  std::optional<int> exit_code_;
};

// Runs a command to completion; returns its exit code (128+signal when killed).
int RunCommand(const SpawnOptions& options, std::chrono::milliseconds timeout);

// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, close).
int FreePort();

std::string ReadFile(const std::string& path);
std::string Tail(const std::string& text, size_t max_bytes);

}  // namespace ates::test
