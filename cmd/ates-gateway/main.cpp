// ates-gateway: Connect (HTTP) front for browsers; serves the web app.
#include "ates/platform/daemon.hpp"
#include "gateway_module.hpp"

int main(int argc, char** argv) {
  return ates::platform::RunDaemon<ates::gateway::GatewayModule>("ates-gateway", argc, argv);
}
