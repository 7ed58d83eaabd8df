#pragma once
// Reading accounts rows (by column name, from the queries in queries/) and
// writing their CUD events, shared by accounts.cpp and credentials.cpp.

#include <chrono>

#include "accounts.hpp"
#include "ates/platform/pg.hpp"

namespace ates::auth::rows {

// An account as the account SELECTs return it (id, login, full_name, email,
// role, active, version, created_at and updated_at as epoch seconds).
Account ReadAccount(const pg::Row& row);

// An account with its password hash (select_credentials_*.sql).
struct CredentialsRow {
  Account account;
  std::string password_hash;
  static CredentialsRow From(const pg::Row& row);
};

// version, active, role (select_account_standing.sql).
AccountStanding ReadStanding(const pg::Row& row);

// Microsecond precision, as PostgreSQL stores it.
std::chrono::system_clock::time_point Now();
// Writes accounts.account.updated with the account's full state to the outbox;
// returns the event id (a causation id for events that follow from it).
std::string WriteUpdatedEvent(pg::Transaction& tx, const Account& account);
// Writes accounts.account.created likewise, as a pipeline query.
pg::Query CreatedEventInsert(const Account& account);

}  // namespace ates::auth::rows
