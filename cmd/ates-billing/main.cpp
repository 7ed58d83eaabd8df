// ates-billing: prices, the ledger, billing cycles, payouts and their e-mails.
#include "ates/platform/daemon.hpp"
#include "billing_module.hpp"

int main(int argc, char** argv) {
  return ates::platform::RunDaemon<ates::billing::BillingModule>("ates-billing", argc, argv);
}
