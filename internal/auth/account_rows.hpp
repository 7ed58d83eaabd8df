#pragma once
// Reading accounts rows and writing their CUD events, shared by accounts.cpp
// and credentials.cpp.

#include <chrono>

#include "accounts.hpp"
#include "ates/platform/pg.hpp"

namespace ates::auth::rows {

// Column list every account SELECT starts with, in ReadAccount's order.
#define ATES_ACCOUNT_COLUMNS                            \
  "id, login, full_name, email, role, active, version," \
  " EXTRACT(EPOCH FROM created_at)::float8, EXTRACT(EPOCH FROM updated_at)::float8"

Account ReadAccount(const pg::Result& r, int row);
// Microsecond precision, as PostgreSQL stores it.
std::chrono::system_clock::time_point Now();
// Writes accounts.account.updated with the account's full state to the outbox;
// returns the event id (a causation id for events that follow from it).
std::string WriteUpdatedEvent(pg::Transaction& tx, const Account& account);
// Writes accounts.account.created likewise, as a pipeline query.
pg::Query CreatedEventInsert(const Account& account);

}  // namespace ates::auth::rows
