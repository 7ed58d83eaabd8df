#include "ates/contracts/accounts_replica.hpp"

#include "ates/contracts/queries.hpp"
#include "ates/platform/token.hpp"

const std::vector<ates::pg::Migration>& AccountsReplicaMigrationList();

namespace ates::contracts {

namespace acc = ::ates::events::accounts::v1;

namespace {

void Keep(AccountStates& newest, const acc::AccountState& state) {
  if (state.account_id().empty()) return;
  auto& slot = newest[state.account_id()];
  if (slot == nullptr || slot->version() < state.version()) slot = &state;
}

}  // namespace

const std::vector<pg::Migration>& AccountsReplicaMigrations() {
  return AccountsReplicaMigrationList();
}

AccountsReplicaHandler::AccountsReplicaHandler(std::function<void()> on_change)
    : on_change_(std::move(on_change)) {
  On<acc::AccountCreated>([](AccountStates& b, const platform::InboundEvent&,
                             const acc::AccountCreated& e) { Keep(b, e.account()); });
  On<acc::AccountUpdated>([](AccountStates& b, const platform::InboundEvent&,
                             const acc::AccountUpdated& e) { Keep(b, e.account()); });
  // The updated event that goes with it carries the full state.
  Ignore<acc::AccountRoleChanged>();
}

void AccountsReplicaHandler::Flush(pg::Transaction& tx, AccountStates& newest) {
  if (newest.empty()) return;
  std::vector<std::string> ids, logins, names, emails, roles, actives;
  std::vector<int64_t> versions;
  for (const auto& [id, s] : newest) {
    ids.push_back(id);
    logins.push_back(s->login());
    names.push_back(s->full_name());
    emails.push_back(s->email());
    roles.emplace_back(auth::RoleName(static_cast<auth::Role>(s->role())));
    actives.push_back(s->active() ? "t" : "f");
    versions.push_back(s->version());
  }
  tx.Exec(sql::kUpsertAccountsReplica,
          {pg::TextArray(ids), pg::TextArray(logins), pg::TextArray(names), pg::TextArray(emails),
           pg::TextArray(roles), pg::TextArray(actives), pg::IntArray(versions)});
}

void AccountsReplica::Declare(platform::ModuleBuilder& builder, std::function<void()> on_change) {
  builder.Migrations(AccountsReplicaMigrations());
  auto& states = builder.RevokeTokensFrom(
      platform::QueryAccountLoader(builder.db(), sql::kReplicaAccountsSince));
  handler_ = std::make_unique<AccountsReplicaHandler>([on_change = std::move(on_change), &states] {
    if (on_change) on_change();
    states.Poke();
  });
  builder.Consume("accounts", "ACCOUNTS", *handler_);
}

}  // namespace ates::contracts
