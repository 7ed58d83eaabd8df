#pragma once

#include <functional>

#include "ates/platform/consumer.hpp"

namespace ates::platform {

// Keeps accounts_replica up to date from accounts.account.created/updated. Any
// order, duplicates and replays give the newest version. Used by every service
// that needs to know accounts (tasks for assignment, billing for e-mails).
class AccountsReplicaHandler final : public EventHandler {
 public:
  explicit AccountsReplicaHandler(std::function<void()> on_change = {})
      : on_change_(std::move(on_change)) {}
  std::vector<std::pair<std::string, int>> Accepts() const override;
  void Apply(pg::Transaction& tx, const std::vector<const InboundEvent*>& events) override;
  void AfterCommit() override {
    if (on_change_) on_change_();
  }

 private:
  std::function<void()> on_change_;
};

const std::vector<pg::Migration>& AccountsReplicaMigrations();

}  // namespace ates::platform
