#include "ates/platform/account_states.hpp"

#include "ates/platform/error.hpp"
#include "ates/platform/log.hpp"

namespace ates::platform {
namespace {

constexpr std::string_view kReplicaSince =
    "SELECT id::text, version, active, EXTRACT(EPOCH FROM updated_at)::float8"
    " FROM accounts_replica WHERE updated_at >= to_timestamp($1)";

// A transaction that set updated_at before the last refresh may commit after
// it: rows this much older than the newest seen are read again.
constexpr double kOverlapSeconds = 10;

}  // namespace

AccountStates::AccountStates(Loader loader, std::chrono::milliseconds interval)
    : loader_(std::move(loader)), interval_(interval) {}

AccountStates::~AccountStates() { Stop(); }

void AccountStates::Start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void AccountStates::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  wake_.notify_all();
  thread_.join();
}

void AccountStates::Poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  wake_.notify_all();
}

void AccountStates::Refresh() {
  std::lock_guard refreshing(refresh_mu_);
  double since = watermark_ > 0 ? watermark_ - kOverlapSeconds : 0;
  auto rows = loader_(since);
  std::lock_guard lock(mu_);
  for (const auto& row : rows) {
    states_[row.id] = State{row.version, row.active};
    watermark_ = std::max(watermark_, row.updated_at);
  }
}

void AccountStates::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    try {
      Refresh();
      if (failures_ > 0) log::Info("account states refreshed again", {});
      failures_ = 0;
    } catch (const std::exception& e) {
      if (failures_++ % 30 == 0) {
        log::Warn("cannot refresh account states (token revocation)",
                  {{"error", e.what()}, {"attempts", std::to_string(failures_)}});
      }
    }
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, stop, interval_, [this] { return poked_; });
    poked_ = false;
  }
}

void AccountStates::CheckNotRevoked(const auth::Principal& who) const {
  std::lock_guard lock(mu_);
  auto it = states_.find(who.account_id);
  if (it == states_.end()) return;
  if (!it->second.active) {
    throw Error(ErrorCode::kUnauthenticated,
                "token revoked: the account is deactivated; log in again");
  }
  if (it->second.version > who.account_version) {
    throw Error(ErrorCode::kUnauthenticated,
                "token revoked: the account changed after the token was issued; log in again");
  }
}

AccountStates::Loader QueryAccountLoader(pg::Pool& db, std::string_view query) {
  return [&db, query](double since) {
    auto rows = db.WithRetry(
        [&](pg::Connection& c) { return c.Exec(query, {pg::Text(std::to_string(since))}); });
    std::vector<AccountStateRow> out;
    out.reserve(rows.Rows());
    for (int i = 0; i < rows.Rows(); ++i) {
      out.push_back(
          {rows.String(i, 0), rows.Int(i, 1), rows.Bool(i, 2), std::stod(rows.String(i, 3))});
    }
    return out;
  };
}

AccountStates::Loader ReplicaAccountLoader(pg::Pool& db) {
  return QueryAccountLoader(db, kReplicaSince);
}

}  // namespace ates::platform
