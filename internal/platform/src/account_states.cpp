#include "ates/platform/account_states.hpp"

#include "ates/platform/error.hpp"
#include "ates/platform/log.hpp"

namespace ates::platform {
namespace {

// A transaction that set updated_at before the last refresh may commit after
// it: rows this much older than the newest seen are read again.
constexpr double kOverlapSeconds = 10;

}  // namespace

AccountStates::AccountStates(Loader loader, std::chrono::milliseconds interval)
    : loader_(std::move(loader)), interval_(interval) {}

AccountStates::~AccountStates() { Stop(); }

void AccountStates::Start() {
  absl::MutexLock lock(&worker_mu_);
  if (worker_) return;
  worker_ = std::make_unique<Worker>("account-states",
                                     [this](Worker& w, std::stop_token s) { Loop(w, s); });
}

void AccountStates::Stop() {
  std::unique_ptr<Worker> worker;
  {
    absl::MutexLock lock(&worker_mu_);
    worker = std::move(worker_);
  }
  worker.reset();  // joins outside the lock: the loop never takes worker_mu_, Poke() may
}

void AccountStates::Poke() {
  absl::MutexLock lock(&worker_mu_);
  if (worker_) worker_->Wake();
}

void AccountStates::Refresh() {
  absl::MutexLock refreshing(&refresh_mu_);
  double since = watermark_ > 0 ? watermark_ - kOverlapSeconds : 0;
  auto rows = loader_(since);
  absl::MutexLock lock(&mu_);
  for (const auto& row : rows) {
    states_[row.id] = State{row.version, row.active};
    watermark_ = std::max(watermark_, row.updated_at);
  }
}

void AccountStates::Loop(Worker& worker, std::stop_token stop) {
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
    if (!worker.SleepFor(interval_)) return;
  }
}

void AccountStates::CheckNotRevoked(const auth::Principal& who) const {
  absl::MutexLock lock(&mu_);
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

}  // namespace ates::platform
