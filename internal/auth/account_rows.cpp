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

Account ReadAccount(const pg::Result& r, int row) {
  Account a;
  a.id = r.String(row, 0);
  a.login = r.String(row, 1);
  a.full_name = r.String(row, 2);
  a.email = r.String(row, 3);
  a.role = ParseRole(r.Text(row, 4)).value_or(Role::kUnspecified);
  a.active = r.Bool(row, 5);
  a.version = r.Int(row, 6);
  a.created_at = platform::FromEpochText(r.Text(row, 7));
  a.updated_at = platform::FromEpochText(r.Text(row, 8));
  return a;
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
