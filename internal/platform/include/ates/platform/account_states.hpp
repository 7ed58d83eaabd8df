#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ates/platform/pg.hpp"
#include "ates/platform/token.hpp"
#include "ates/platform/worker.hpp"

namespace ates::platform {

// One account as token revocation needs it.
struct AccountStateRow {
  std::string id;
  int64_t version = 0;
  bool active = true;
  double updated_at = 0;  // seconds since the epoch
};

// In memory, for every RPC: which accounts are deactivated and which version
// each is at, so a token issued for an older version (claim "ver") or for a
// deactivated account is refused without a database query per call. Refreshed
// about every second by an updated_at watermark, and at once on Poke() (after
// this daemon's replica applied account events).
class AccountStates final {
 public:
  // Rows whose updated_at is at or after `since` (seconds since the epoch).
  using Loader = std::function<std::vector<AccountStateRow>(double since)>;

  explicit AccountStates(Loader loader,
                         std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~AccountStates();

  // Starts the "account-states" worker; Stop() (or the destructor) joins it.
  void Start();
  void Stop();
  // Asks for a refresh now (from a replica handler's AfterCommit).
  void Poke();
  // Loads what changed since the watermark; throws what the loader throws.
  // Safe from any thread (ates-auth calls it right after an account change,
  // so the change's own RPC returns only once older tokens are refused).
  void Refresh();

  // Throws UNAUTHENTICATED when the token's account is deactivated or at a
  // newer version than the token. An account not known yet is let through.
  void CheckNotRevoked(const auth::Principal& who) const;

 private:
  struct State {
    int64_t version;
    bool active;
  };
  void Loop(Worker& worker, std::stop_token stop);

  Loader loader_;
  std::chrono::milliseconds interval_;
  mutable absl::Mutex mu_;
  std::unordered_map<std::string, State> states_ ABSL_GUARDED_BY(mu_);
  absl::Mutex refresh_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // one Refresh at a time
  double watermark_ ABSL_GUARDED_BY(refresh_mu_) = 0;
  int failures_ = 0;  // the worker's
  absl::Mutex worker_mu_;
  // Poke() wakes it from consumer and RPC threads while Start/Stop run.
  std::unique_ptr<Worker> worker_ ABSL_GUARDED_BY(worker_mu_);
};

// Loader over a query with the columns (id uuid, version bigint, active
// boolean, updated_at timestamptz) and the watermark as $1 (seconds since the
// epoch): ates-auth's own accounts table, the other daemons' accounts_replica.
AccountStates::Loader QueryAccountLoader(pg::Pool& db, std::string_view query);

}  // namespace ates::platform
