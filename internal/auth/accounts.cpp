#include "accounts.hpp"

#include <google/protobuf/util/time_util.h>

#include "account_rows.hpp"
#include "ates/contracts/catalogue.hpp"
#include "ates/events/accounts/v1/account_events.pb.h"
#include "ates/platform/error.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/outbox.hpp"
#include "ates/platform/page_token.hpp"
#include "auth/queries.hpp"
#include "passwords.hpp"

namespace ates::auth {
namespace {

namespace ev = ::ates::events::accounts::v1;

void WriteRoleChanged(pg::Transaction& tx, const Account& before, const Account& after,
                      const std::string& cause) {
  ev::AccountRoleChanged rc;
  rc.set_account_id(after.id);
  rc.set_old_role(static_cast<ates::common::v1::Role>(before.role));
  rc.set_new_role(static_cast<ates::common::v1::Role>(after.role));
  rc.set_version(after.version);
  *rc.mutable_changed_at() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::microseconds>(after.updated_at.time_since_epoch())
          .count());
  auto e = contracts::Make(rc, after.id);
  e.occurred_at = after.updated_at;
  e.causation_id = cause;
  tx.Exec(platform::OutboxInsert(e));
}

Account Patched(const Account& before, const AccountPatch& patch) {
  Account after = before;
  if (patch.role) after.role = *patch.role;
  if (patch.email) after.email = *patch.email;
  if (patch.full_name) after.full_name = *patch.full_name;
  if (patch.active) after.active = *patch.active;
  return after;
}

// An admin's own role and active flag are changed by another admin only, so
// that a token of a demoted or deactivated admin cannot restore its account.
void CheckNotOwnStanding(const Account& before, const Account& after,
                         const std::string& caller_id) {
  if (caller_id != before.id) return;
  if (after.role != before.role || after.active != before.active) {
    throw Error(ErrorCode::kPermissionDenied,
                "an admin cannot change their own role or active flag; ask another admin");
  }
}

}  // namespace

AccountService::AccountService(pg::Pool& db, AuthSettings settings, SigningKeyStore& keys,
                               std::function<void()> on_commit)
    : db_(db),
      settings_(std::move(settings)),
      keys_(keys),
      on_commit_(std::move(on_commit)),
      gate_(settings_.login_concurrency),
      throttle_(db, settings_.throttle) {}

Account AccountService::Create(const NewAccount& request) {
  Validate(request);
  Account a;
  a.id = events::NewUuid();
  a.login = request.login;
  a.full_name = request.full_name;
  a.email = request.email;
  a.role = request.role;
  a.active = true;
  a.version = 1;
  a.created_at = a.updated_at = rows::Now();
  std::string hash = Hash(request.password);
  try {
    // In a tracked transaction, not the pipeline's implicit one: a rerun after
    // a lost COMMIT reply would find its own login and answer "taken".
    db_.InTransaction([&](pg::Transaction& tx) {
      tx.ExecPipeline({{sql::kInsertAccount,
                        {pg::Text(a.id), pg::Text(a.login), pg::Text(a.full_name),
                         pg::Text(a.email), pg::Text(RoleName(a.role)), pg::Text(hash),
                         pg::Text(events::FormatTimestamp(a.created_at))}},
                       rows::CreatedEventInsert(a)});
    });
  } catch (const pg::PgError& e) {
    if (e.IsUniqueViolation()) {
      throw Error(ErrorCode::kAlreadyExists, "login '" + a.login + "' is taken");
    }
    throw;
  }
  on_commit_();
  log::Info("account created", {{"account_id", a.id}, {"role", std::string(RoleName(a.role))}});
  return a;
}

Account AccountService::Update(const AccountPatch& patch, const std::string& caller_id) {
  Validate(patch);
  Account after;
  bool changed = false;
  db_.InTransaction([&](pg::Transaction& tx) {
    auto r = tx.Exec(sql::kSelectAccountForUpdate, {pg::Text(patch.account_id)});
    if (r.Rows() == 0) throw Error(ErrorCode::kNotFound, "no account " + patch.account_id);
    Account before = rows::ReadAccount(r.At(0));
    after = Patched(before, patch);
    CheckNotOwnStanding(before, after, caller_id);
    changed = after.role != before.role || after.email != before.email ||
              after.full_name != before.full_name || after.active != before.active;
    if (!changed) return;  // nothing new: no version bump, no event
    after.updated_at = rows::Now();
    auto v = tx.Exec(sql::kUpdateAccount,
                     {pg::Text(after.id), pg::Text(RoleName(after.role)), pg::Text(after.email),
                      pg::Text(after.full_name), pg::Bool(after.active),
                      pg::Text(events::FormatTimestamp(after.updated_at))});
    after.version = v.Int(0, 0);
    auto cause = rows::WriteUpdatedEvent(tx, after);
    if (after.role != before.role) WriteRoleChanged(tx, before, after, cause);
  });
  if (changed) on_commit_();
  return after;
}

Account AccountService::Get(const std::string& account_id) {
  if (!events::IsUuid(account_id)) {
    throw Error(ErrorCode::kInvalidArgument, "account_id must be a UUID",
                {{"account_id", "must be an account id (UUID)"}});
  }
  auto r = db_.WithRetry(
      [&](pg::Connection& c) { return c.Exec(sql::kSelectAccount, {pg::Text(account_id)}); });
  if (r.Rows() == 0) throw Error(ErrorCode::kNotFound, "no account " + account_id);
  return rows::ReadAccount(r.At(0));
}

AccountPage AccountService::List(int page_size, const std::string& page_token) {
  auto page =
      platform::PageRequest::Read(page_size, page_token, platform::PageFilter("ListAccounts"));
  std::string after = page.cursor().value_or("00000000-0000-0000-0000-000000000000");
  if (!events::IsUuid(after)) platform::ThrowBadPageToken();
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(sql::kSelectAccountPage, {pg::Text(after), pg::Int(page.limit() + 1)});
  });
  AccountPage out;
  for (int i = 0; i < r.Rows() && i < page.limit(); ++i)
    out.accounts.push_back(rows::ReadAccount(r.At(i)));
  if (r.Rows() > page.limit()) out.next_page_token = page.NextToken(out.accounts.back().id);
  return out;
}

std::optional<AccountStanding> AccountService::Standing(const std::string& account_id) {
  if (!events::IsUuid(account_id)) return std::nullopt;
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(sql::kSelectAccountStanding, {pg::Text(account_id)});
  });
  if (r.Rows() == 0) return std::nullopt;
  return rows::ReadStanding(r.At(0));
}

bool AccountService::EnsureAdmin(const std::string& login, const std::string& password) {
  auto r = db_.WithRetry(
      [&](pg::Connection& c) { return c.Exec(sql::kSelectLoginExists, {pg::Text(login)}); });
  if (r.Rows() > 0) return false;
  NewAccount admin;
  admin.login = login;
  admin.full_name = "Administrator";
  admin.email = login + "@ates.local";
  admin.role = Role::kAdmin;
  admin.password = password;
  try {
    Create(admin);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kAlreadyExists) return false;  // another replica won
    throw;
  }
  return true;
}

}  // namespace ates::auth
