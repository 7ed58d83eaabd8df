#include "account_rows.hpp"

#include <google/protobuf/util/time_util.h>

#include "ates/contracts/catalogue.hpp"
#include "ates/events/accounts/v1/account_events.pb.h"
#include "ates/platform/events.hpp"
#include "ates/platform/outbox.hpp"
#include "ates/platform/timestamps.hpp"

namespace ates::auth::rows {
namespace {

using Clock = std::chrono::system_clock;
namespace ev = ::ates::events::accounts::v1;

void FillState(const Account& a, ev::AccountState* s) {
  s->set_account_id(a.id);
  s->set_login(a.login);
  s->set_full_name(a.full_name);
  s->set_email(a.email);
  s->set_role(static_cast<ates::common::v1::Role>(a.role));
  s->set_active(a.active);
  s->set_version(a.version);
  *s->mutable_updated_at() = platform::ToTimestamp(a.updated_at);
}

}  // namespace

Account ReadAccount(const pg::Row& row) {
  Account a;
  a.id = row.String("id");
  a.login = row.String("login");
  a.full_name = row.String("full_name");
  a.email = row.String("email");
  a.role = ParseRole(row.Text("role")).value_or(Role::kUnspecified);
  a.active = row.Bool("active");
  a.version = row.Int("version");
  a.created_at = platform::FromEpochText(row.Text("created_at"));
  a.updated_at = platform::FromEpochText(row.Text("updated_at"));
  return a;
}

CredentialsRow CredentialsRow::From(const pg::Row& row) {
  return {ReadAccount(row), row.String("password_hash")};
}

AccountStanding ReadStanding(const pg::Row& row) {
  return {row.Int("version"), row.Bool("active"),
          ParseRole(row.Text("role")).value_or(Role::kUnspecified)};
}

Clock::time_point Now() {
  return Clock::time_point(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()));
}

std::string WriteUpdatedEvent(pg::Transaction& tx, const Account& account) {
  ev::AccountUpdated updated;
  FillState(account, updated.mutable_account());
  auto event = contracts::Make(updated, account.id);
  event.occurred_at = account.updated_at;
  tx.Exec(platform::OutboxInsert(event));
  return event.id;
}

pg::Query CreatedEventInsert(const Account& account) {
  ev::AccountCreated created;
  FillState(account, created.mutable_account());
  auto event = contracts::Make(created, account.id);
  event.occurred_at = account.created_at;
  return platform::OutboxInsert(event);
}

}  // namespace ates::auth::rows
