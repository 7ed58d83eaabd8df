#pragma once

// CPU time of processes from /proc/<pid>/stat (utime + stime), for the CPU
// cost per task lifecycle of each process of the stack.

#include <sys/types.h>

#include <string>

namespace ates::bench::system {

// utime + stime of `pid` in seconds (0 when it is gone).
double CpuSeconds(pid_t pid);
// A process and its children: its own time, the time of its reaped children
// (cutime + cstime) and that of its live children. For PostgreSQL: the
// postmaster and every backend, the ones that ended included.
double TreeCpuSeconds(pid_t root);
// The pid of a process whose command line has `program` as its first word's
// file name and contains `argument`; -1 when there is none.
pid_t FindProcess(const std::string& program, const std::string& argument);

}  // namespace ates::bench::system
