// ates-devstack (`make run`): the local stack in one program. PostgreSQL 15 and
// nats-server with their data in the data folder (.run/), the five databases,
// every daemon binary that has been built, and a first admin; Ctrl-C drains the
// daemons and stops the servers; the next run reuses the data. Installs
// nothing (`make deps` does). See Usage() in settings.cpp and ADR 0023.

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "ates/devstack/process.hpp"
#include "banner.hpp"
#include "daemons.hpp"
#include "secrets.hpp"
#include "servers.hpp"
#include "settings.hpp"
#include "tls_files.hpp"

namespace {

namespace fs = std::filesystem;
using namespace ates::devstack;

void Say(const std::string& text) { std::fprintf(stderr, "[run] %s\n", text.c_str()); }

bool InPath(const std::string& name) {
  std::stringstream dirs(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

void CheckTools(const Settings& s) {
  if (access((s.pg_bin + "/initdb").c_str(), X_OK) != 0 ||
      access((s.pg_bin + "/postgres").c_str(), X_OK) != 0) {
    throw std::runtime_error("PostgreSQL 15 server tools not found in " + s.pg_bin +
                             " (run 'make deps', or set ATES_RUN_PG_BIN)");
  }
  if (!InPath("nats-server")) throw std::runtime_error("nats-server not found (run 'make deps')");
  if (s.tls && !InPath("openssl")) {
    throw std::runtime_error("openssl not found (run 'make deps'); needed by ATES_RUN_TLS=1");
  }
  for (const auto& svc : s.services) {
    std::string config = s.config_dir + "/" + svc.program() + ".yaml";
    if (!svc.binary.empty() && !fs::exists(config))
      throw std::runtime_error(config + " is missing");
  }
  if (!s.gateway.binary.empty() && !fs::exists(s.config_dir + "/ates-gateway.yaml")) {
    throw std::runtime_error(s.config_dir + "/ates-gateway.yaml is missing");
  }
}

// Everything is checked before anything starts (PostgreSQL's port when it starts:
// a server of an earlier run on the data folder is stopped first).
void CheckPorts(const Settings& s) {
  auto require = [&](const std::string& host, int port, const std::string& what) {
    if (!PortFree(host == "0.0.0.0" ? "127.0.0.1" : host, port)) {
      throw std::runtime_error("port " + std::to_string(port) + " (" + what +
                               ") is already in use; stop that process or choose another port "
                               "with the ATES_RUN_* variables (see ates-devstack --help)");
    }
  };
  for (const auto& svc : s.services) {
    if (svc.binary.empty()) continue;
    require(s.bind, svc.grpc_port, svc.program() + " gRPC");
    require(s.bind, svc.metrics_port, svc.program() + " metrics");
  }
  if (!s.gateway.binary.empty()) {
    require(s.bind, s.gateway_http_port, "ates-gateway HTTP");
    require(s.bind, s.gateway.grpc_port, "ates-gateway gRPC");
    require(s.bind, s.gateway.metrics_port, "ates-gateway metrics");
  }
  require("127.0.0.1", s.nats_port, "nats-server");
  if (s.nats_monitor_port != 0) require("127.0.0.1", s.nats_monitor_port, "nats-server monitoring");
}

// One run per data folder: a second one must not adopt (and later stop) the
// servers of the first. The lock lasts as long as this process.
void LockRunDir(const Settings& s) {
  fs::create_directories(s.log_dir());
  chmod(s.run_dir.c_str(), 0755);
  int fd = open((s.run_dir + "/run.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
    throw std::runtime_error("another ates-devstack (make run) is already running with " +
                             s.run_dir + "; stop it first (Ctrl-C in its terminal)");
  }
}

// Until Ctrl-C (0), or until a daemon or server exits by itself (1): a broken
// start is not mistaken for a running system.
int Supervise(const sigset_t& stop, Daemons& daemons, Servers& servers) {
  for (;;) {
    timespec second{1, 0};
    if (sigtimedwait(&stop, nullptr, &second) > 0) return 0;
    std::string exited = daemons.Exited();
    if (exited.empty()) exited = servers.Exited();
    if (!exited.empty()) {
      Say(exited + "; stopping the rest");
      return 1;
    }
  }
}

int Run(const Settings& s, const sigset_t& stop) {
  CheckTools(s);
  LockRunDir(s);
  CheckPorts(s);
  Secrets secrets = LoadSecrets(s);
  if (s.tls) EnsureTlsFiles(s);
  Servers servers(s, secrets);
  servers.StartPostgres();
  servers.StartNats();
  Daemons daemons(s, secrets);
  daemons.Start();
  PrintBanner(s, secrets, servers.pg_data());
  int rc = Supervise(stop, daemons, servers);
  daemons.Stop();
  servers.Stop();
  Say("stopped; data kept in " + s.run_dir + " (remove it for a fresh start)");
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  // Blocked in every thread (children get an empty mask): Supervise() takes them.
  sigset_t stop;
  sigemptyset(&stop);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop, sig);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);
  try {
    return Run(LoadSettings(argc, argv), stop);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[run] error: %s\n", e.what());
    return 1;
  }
}
