#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "ates/contracts/event_router.hpp"
#include "ates/platform/module.hpp"

namespace ates::contracts {

// The newest state per account in a batch: one row per id in the upsert.
using AccountStates = std::map<std::string, const events::accounts::v1::AccountState*>;

// Keeps accounts_replica up to date from accounts.account.created/updated. Any
// order, duplicates and replays give the newest version. Used by every service
// that needs to know accounts (tasks for assignment, billing for e-mails).
class AccountsReplicaHandler final : public EventRouter<AccountStates> {
 public:
  explicit AccountsReplicaHandler(std::function<void()> on_change = {});
  void AfterCommit() override {
    if (on_change_) on_change_();
  }

 private:
  void Flush(pg::Transaction& tx, AccountStates& newest) override;

  std::function<void()> on_change_;
};

const std::vector<pg::Migration>& AccountsReplicaMigrations();

// The accounts replica of a service module: the accounts_replica table, its
// consumer of ACCOUNTS (consumers.accounts.*), and token revocation from it
// (ADR 17). A module keeps one as a member and declares it.
class AccountsReplica final {
 public:
  // `on_change` (may be empty) runs after each applied batch, before the
  // revocation view is poked.
  void Declare(platform::ModuleBuilder& builder, std::function<void()> on_change = {});

 private:
  std::unique_ptr<AccountsReplicaHandler> handler_;
};

}  // namespace ates::contracts
