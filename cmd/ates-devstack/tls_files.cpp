#include "tls_files.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "ates/devstack/process.hpp"

namespace ates::devstack {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

int Run(std::vector<std::string> argv, bool quiet) {
  SpawnOptions o;
  o.argv = std::move(argv);
  o.drop_env_prefixes = {};  // ATES_TLS_DAYS reaches tls-certs.sh
  if (!quiet) o.output = SpawnOptions::Output::kInherit;
  return RunCommand(o, 60s);
}

bool Valid(const std::string& dir, const std::string& name) {
  std::string pem = dir + "/" + name + ".pem";
  return fs::exists(pem) && fs::file_size(pem) > 0 &&
         Run({"openssl", "x509", "-checkend", "86400", "-noout", "-in", pem}, true) == 0;
}

void Make(const Settings& s, std::vector<std::string> args) {
  args.insert(args.begin(), {s.root + "/scripts/tls-certs.sh", s.tls_dir()});
  if (Run(args, false) != 0) throw std::runtime_error("scripts/tls-certs.sh failed");
}

}  // namespace

void EnsureTlsFiles(const Settings& s) {
  const std::string dir = s.tls_dir();
  if (!Valid(dir, "ca")) {
    std::fprintf(stderr, "[run] making a local CA in %s\n", dir.c_str());
    fs::remove_all(dir);
    Make(s, {"ca", "ca"});
  }
  std::vector<std::string> sans{"IP:127.0.0.1", "DNS:localhost"};
  if (s.bind != "127.0.0.1" && s.bind != "0.0.0.0") sans.push_back("IP:" + s.bind);
  for (const auto& svc : s.services) {
    if (!Valid(dir, svc.program())) {
      std::vector<std::string> args{"server", svc.program(), "ca"};
      args.insert(args.end(), sans.begin(), sans.end());
      Make(s, args);
    }
    if (!Valid(dir, svc.program() + "-client"))
      Make(s, {"client", svc.program() + "-client", "ca"});
  }
  if (!Valid(dir, "atesctl")) Make(s, {"client", "atesctl", "ca"});
  chmod(dir.c_str(), 0700);
}

}  // namespace ates::devstack
