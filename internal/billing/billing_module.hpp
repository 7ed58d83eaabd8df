#pragma once

#include <memory>

#include "ates/contracts/accounts_replica.hpp"
#include "ates/platform/module.hpp"
#include "ates/platform/random.hpp"
#include "billing_grpc_service.hpp"
#include "billing_queries.hpp"
#include "ledger.hpp"
#include "mailer.hpp"
#include "reconciler.hpp"

namespace ates::billing {

// business_day.* and billing.* in config/ates-billing.yaml.
struct BillingSettings {
  std::string time_zone;
  int64_t random_seed = 0;
  std::string smtp_url;
  std::string smtp_user;
  std::string smtp_password;
  std::string mail_from;
  std::string mail_dir;
  std::chrono::milliseconds publish_grace{0};

  static const platform::ConfigSchema<BillingSettings>& Schema();
};

// ates-billing: prices, the double-entry ledger, billing cycles, payouts and
// their e-mails, and the reconciliation of TASKS with the ledger.
class BillingModule final : public platform::Module {
 public:
  void Declare(platform::ModuleBuilder& builder) override;
  std::vector<platform::ConfigKey> ConfigKeys() const override;

 private:
  void DeclareMailer(platform::ModuleBuilder& builder, const BillingSettings& s);

  std::unique_ptr<platform::RandomPicker> random_;
  std::unique_ptr<Mailer> mailer_;
  std::unique_ptr<LedgerHandler> ledger_;
  std::unique_ptr<BillingQueries> queries_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<BillingGrpcService> service_;
  contracts::AccountsReplica accounts_;
};

}  // namespace ates::billing
