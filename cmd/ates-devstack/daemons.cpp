#include "daemons.hpp"

#include <signal.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace ates::devstack {
namespace {

using namespace std::chrono_literals;

void Say(const std::string& text) { std::fprintf(stderr, "[run] %s\n", text.c_str()); }

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// gRPC over TLS (ATES_RUN_TLS=1): the daemon's server certificate, and either
// the client CA (ates-auth requires client certificates) or the client
// certificate the daemon shows ates-auth.
void AddTls(const Settings& s, const Service& svc, DaemonOptions& o) {
  const std::string dir = s.tls_dir() + "/";
  o.env["ATES_GRPC_TLS_CERT"] = dir + svc.program() + ".pem";
  o.env["ATES_GRPC_TLS_KEY"] = dir + svc.program() + ".key";
  if (svc.name == "auth") {
    o.env["ATES_GRPC_TLS_CLIENT_CA"] = dir + "ca.pem";
  } else {
    o.env["ATES_AUTH_TLS_CA"] = dir + "ca.pem";
    o.env["ATES_AUTH_TLS_CERT"] = dir + svc.program() + "-client.pem";
    o.env["ATES_AUTH_TLS_KEY"] = dir + svc.program() + "-client.key";
  }
  // The readiness check calls as atesctl does.
  o.tls = {dir + "ca.pem", dir + "atesctl.pem", dir + "atesctl.key", ""};
}

}  // namespace

DaemonOptions Daemons::OptionsFor(const Service& svc) const {
  const Settings& s = settings_;
  DaemonOptions o;
  o.name = svc.program();
  o.binary = svc.binary;
  o.config = s.config_dir + "/" + svc.program() + ".yaml";
  o.ready_timeout = 120s;
  // Variables that are ates-devstack's own do not reach the daemons, whose
  // config loader maps ATES_* to config keys.
  o.drop_env_prefixes = {"ATES_RUN_", "ATES_ADMIN_LOGIN", "ATES_ADMIN_PASSWORD"};
  o.echo_prefix = "[" + svc.name + "] ";
  o.env = {{"ATES_DATABASE_URL",
            "postgresql://postgres@127.0.0.1:" + std::to_string(s.pg_port) + "/ates_" + svc.name},
           {"ATES_NATS_URL", "nats://127.0.0.1:" + std::to_string(s.nats_port)},
           {"ATES_NATS_PASSWORD_FILE", s.nats_password_dir() + "/" + svc.program()},
           {"ATES_GRPC_LISTEN", s.bind + ":" + std::to_string(svc.grpc_port)},
           {"ATES_ADMIN_LISTEN", s.bind + ":" + std::to_string(svc.metrics_port)}};
  if (svc.name == "auth") {
    o.env["ATES_BOOTSTRAP_ADMIN_LOGIN"] = s.admin_login;
    o.env["ATES_BOOTSTRAP_ADMIN_PASSWORD"] = secrets_.admin_password;
    o.env["ATES_AUTH_KEY_ENCRYPTION_KEY"] = secrets_.key_encryption_key;
  } else {
    // Where the other daemons fetch the token-verification keys.
    o.env["ATES_AUTH_KEYS_URL"] = "127.0.0.1:" + std::to_string(s.services.front().grpc_port);
  }
  if (svc.name == "billing" && std::getenv("ATES_BILLING_MAIL_DIR") == nullptr) {
    o.env["ATES_BILLING_MAIL_DIR"] = s.run_dir + "/mail";  // the mail spool
  }
  if (s.tls) AddTls(s, svc, o);
  return o;
}

DaemonOptions Daemons::GatewayOptions() const {
  const Settings& s = settings_;
  DaemonOptions o;
  o.name = s.gateway.program();
  o.binary = s.gateway.binary;
  o.config = s.config_dir + "/" + o.name + ".yaml";
  o.ready_timeout = 60s;
  o.drop_env_prefixes = {"ATES_RUN_", "ATES_ADMIN_LOGIN", "ATES_ADMIN_PASSWORD"};
  o.echo_prefix = "[gateway] ";
  o.env = {{"ATES_GRPC_LISTEN", s.bind + ":" + std::to_string(s.gateway.grpc_port)},
           {"ATES_ADMIN_LISTEN", s.bind + ":" + std::to_string(s.gateway.metrics_port)},
           {"ATES_GATEWAY_LISTEN", s.bind + ":" + std::to_string(s.gateway_http_port)},
           {"ATES_GATEWAY_WEB_ROOT", s.web_root}};
  for (const auto& svc : s.services) {
    o.env["ATES_GATEWAY_UPSTREAMS_" + Upper(svc.name)] =
        "127.0.0.1:" + std::to_string(svc.grpc_port);
  }
  if (s.tls) {
    // The daemons' CA, and atesctl's client certificate for ates-auth's mTLS.
    const std::string dir = s.tls_dir() + "/";
    o.env["ATES_GATEWAY_UPSTREAM_TLS_CA"] = dir + "ca.pem";
    o.env["ATES_GATEWAY_UPSTREAM_TLS_CERT"] = dir + "atesctl.pem";
    o.env["ATES_GATEWAY_UPSTREAM_TLS_KEY"] = dir + "atesctl.key";
  }
  return o;
}

void Daemons::Launch(const Service& svc, DaemonOptions options, const std::string& what) {
  std::string log = settings_.log_dir() + "/" + svc.name + ".log";
  auto daemon = std::make_unique<Daemon>(std::move(options),
                                         [log, root = settings_.root](const std::string&) {
                                           return DaemonPlace{log, root};
                                         });
  daemon->Start();
  Say("started " + svc.program() + " (pid " + std::to_string(daemon->pid()) + "): " + what +
      ", metrics http://" + settings_.bind + ":" + std::to_string(svc.metrics_port) +
      "/metrics, log " + log);
  running_.push_back(std::move(daemon));
}

void Daemons::Start() {
  for (const auto& svc : settings_.services) {
    if (svc.binary.empty()) continue;
    Launch(svc, OptionsFor(svc), "gRPC " + settings_.bind + ":" + std::to_string(svc.grpc_port));
  }
  // Last: it forwards to the others.
  if (!settings_.gateway.binary.empty()) {
    Launch(settings_.gateway, GatewayOptions(),
           "http://" + settings_.bind + ":" + std::to_string(settings_.gateway_http_port));
  }
}

void Daemons::Stop() {
  if (running_.empty()) return;
  std::string names;
  for (auto& d : running_) {
    names += " " + d->name();
    d->Signal(SIGTERM);
  }
  Say("stopping daemons:" + names);
  for (auto& d : running_) {
    if (!d->WaitExit(std::chrono::seconds(settings_.stop_timeout_s))) {
      Say(d->name() + " did not stop within " + std::to_string(settings_.stop_timeout_s) +
          "s: killing it");
      d->Kill();
    }
  }
  running_.clear();
}

std::string Daemons::Exited() {
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    auto code = (*it)->WaitExit(std::chrono::milliseconds(0));
    if (!code) continue;
    std::string what = (*it)->name() + " exited with status " + std::to_string(*code) +
                       " (log: " + (*it)->log_path() + ")";
    running_.erase(it);
    return what;
  }
  return "";
}

}  // namespace ates::devstack
