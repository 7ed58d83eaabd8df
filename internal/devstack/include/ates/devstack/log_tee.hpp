#pragma once

#include <fstream>
#include <string>
#include <thread>

namespace ates::devstack {

// Copies a child's output from a pipe to a log file as it is, and to stderr
// with every line prefixed (e.g. "[tasks] "), until the pipe's end of file (the
// child exited). The destructor waits for that end.
class LogTee final {
 public:
  LogTee(int fd, const std::string& log_path, std::string prefix);
  ~LogTee();
  LogTee(const LogTee&) = delete;
  LogTee& operator=(const LogTee&) = delete;

 private:
  void Copy(int fd);

  std::ofstream log_;
  std::string prefix_;
  std::jthread thread_;  // last: started after the members it uses
};

}  // namespace ates::devstack
