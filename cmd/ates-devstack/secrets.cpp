#include "secrets.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "ates/devstack/files.hpp"

namespace ates::devstack {
namespace {

namespace fs = std::filesystem;

// The first line of `path`; when it is missing or empty, `make()` is stored there first.
template <class Make>
std::string Stored(const std::string& path, Make&& make) {
  std::string value = FirstLine(path);
  if (value.empty()) {
    value = make();
    WritePrivateFile(path, value + "\n");
  }
  chmod(path.c_str(), 0600);
  return value;
}

std::string AdminPassword(const std::string& run_dir) {
  std::string path = run_dir + "/admin-password";
  const char* given = std::getenv("ATES_ADMIN_PASSWORD");
  if (given != nullptr && *given != '\0') {
    if (!fs::exists(path)) WritePrivateFile(path, std::string(given) + "\n");
    chmod(path.c_str(), 0600);
    return given;
  }
  return Stored(path, [] { return RandomAlnum(20); });
}

std::string KeyEncryptionKey(const std::string& run_dir) {
  const char* given = std::getenv("ATES_AUTH_KEY_ENCRYPTION_KEY");
  if (given != nullptr && *given != '\0') return given;
  return Stored(run_dir + "/auth-key-encryption-key", [] { return RandomBase64(32); });
}

}  // namespace

Secrets LoadSecrets(const Settings& settings) {
  Secrets out;
  out.admin_password = AdminPassword(settings.run_dir);
  out.key_encryption_key = KeyEncryptionKey(settings.run_dir);
  fs::create_directories(settings.nats_password_dir());
  chmod(settings.nats_password_dir().c_str(), 0700);
  for (const auto& svc : settings.services) {
    out.nats_passwords[svc.program()] =
        Stored(settings.nats_password_dir() + "/" + svc.program(), [] { return RandomAlnum(32); });
  }
  return out;
}

}  // namespace ates::devstack
