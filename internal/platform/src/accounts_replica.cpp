#include "ates/platform/accounts_replica.hpp"

#include <map>

#include "ates/events/accounts/v1/account_events.pb.h"
#include "ates/platform/token.hpp"

const std::vector<ates::pg::Migration>& AccountsReplicaMigrationList();

namespace ates::platform {
namespace {

namespace acc = ::ates::events::accounts::v1;

constexpr std::string_view kUpsert =
    "INSERT INTO accounts_replica (id, login, full_name, email, role, active, version)"
    " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
    " $6::boolean[], $7::bigint[])"
    " ON CONFLICT (id) DO UPDATE SET login = EXCLUDED.login, full_name = EXCLUDED.full_name,"
    " email = EXCLUDED.email, role = EXCLUDED.role, active = EXCLUDED.active,"
    " version = EXCLUDED.version, updated_at = now()"
    " WHERE accounts_replica.version < EXCLUDED.version";

}  // namespace

const std::vector<pg::Migration>& AccountsReplicaMigrations() {
  return AccountsReplicaMigrationList();
}

std::vector<std::pair<std::string, int>> AccountsReplicaHandler::Accepts() const {
  return {{"accounts.account.created", 1},
          {"accounts.account.updated", 1},
          {"accounts.account.role_changed", 1}};
}

void AccountsReplicaHandler::Apply(pg::Transaction& tx,
                                   const std::vector<const InboundEvent*>& events) {
  // The newest state per account in this batch: one row per id in the upsert.
  std::map<std::string, const acc::AccountState*> newest;
  for (const InboundEvent* e : events) {
    const acc::AccountState* state = nullptr;
    if (e->name == "accounts.account.created") {
      state = &e->As<acc::AccountCreated>().account();
    } else if (e->name == "accounts.account.updated") {
      state = &e->As<acc::AccountUpdated>().account();
    } else {
      continue;  // role_changed: the updated event carries the full state
    }
    if (state->account_id().empty()) continue;
    auto& slot = newest[state->account_id()];
    if (slot == nullptr || slot->version() < state->version()) slot = state;
  }
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
  tx.Exec(kUpsert,
          {pg::TextArray(ids), pg::TextArray(logins), pg::TextArray(names), pg::TextArray(emails),
           pg::TextArray(roles), pg::TextArray(actives), pg::IntArray(versions)});
}

}  // namespace ates::platform
