// ates-auth: accounts, credentials and token signing keys.
#include "ates/platform/daemon.hpp"
#include "auth_module.hpp"

int main(int argc, char** argv) {
  return ates::platform::RunDaemon<ates::auth::AuthModule>("ates-auth", argc, argv);
}
