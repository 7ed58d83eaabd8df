#include "ates/devstack/nats_server.hpp"

#include <signal.h>

#include <stdexcept>
#include <thread>

#include "ates/devstack/files.hpp"
#include "ates/devstack/readiness.hpp"

namespace ates::devstack {

using namespace std::chrono_literals;

void NatsServer::Start() {
  if (process_) return;
  SpawnOptions o;
  o.argv = {"nats-server", "-js",         "-sd", options_.store_dir,
            "-a",          options_.host, "-p",  std::to_string(options_.port)};
  if (!options_.config_path.empty())
    o.argv.insert(o.argv.begin() + 1, {"-c", options_.config_path});
  if (options_.monitor_port != 0) {
    o.argv.push_back("-m");
    o.argv.push_back(std::to_string(options_.monitor_port));
  }
  o.output_path = options_.log_path;
  auto ready =
      options_.ready ? options_.ready : [port = options_.port] { return NatsGreets(port); };
  for (int attempt = 1;; ++attempt) {
    process_ = Process::Spawn(o);
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (process_->Running() && !ready() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    if (process_->Running() && ready()) return;
    process_->Stop(SIGKILL, 5s);
    process_.reset();
    if (attempt >= 3) {
      throw std::runtime_error("nats-server did not start:\n" +
                               Tail(ReadFile(o.output_path), 4000));
    }
    std::this_thread::sleep_for(500ms);
  }
}

int NatsServer::Stop(int sig, std::chrono::milliseconds timeout) {
  if (!process_) return 0;
  int rc = process_->Stop(sig, timeout);
  process_.reset();
  return rc;
}

std::string PermissionsVariable(const std::string& user) {
  std::string v;
  for (char c : user) v.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  return v + "_PERMISSIONS";
}

std::string NatsAuthConfig(const std::map<std::string, std::string>& passwords,
                           const std::string& unrestricted, const std::string& extra) {
  std::string conf =
      "include ./ates-permissions.conf\n"
      "authorization {\n  users = [\n";
  for (const auto& [user, password] : passwords) {
    conf += "    {user: \"" + user + "\", password: \"" + password + "\"";
    if (user != unrestricted) conf += ", permissions: $" + PermissionsVariable(user);
    conf += "}\n";
  }
  return conf + "  ]\n}\n" + extra;
}

}  // namespace ates::devstack
