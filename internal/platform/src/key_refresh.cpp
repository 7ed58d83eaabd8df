#include "ates/platform/key_refresh.hpp"

#include <stdexcept>
#include <string>

#include "ates/platform/log.hpp"

namespace ates::platform {
namespace {

// While no key is loaded, every RPC that needs a token answers UNAVAILABLE.
constexpr std::chrono::milliseconds kRetryWithoutKeys{1000};

}  // namespace

KeyRefresher::KeyRefresher(auth::TokenVerifier& verifier, std::chrono::milliseconds interval)
    : verifier_(verifier), interval_(interval) {}

KeyRefresher::~KeyRefresher() { Stop(); }

void KeyRefresher::SetLoader(Loader loader) { loader_ = std::move(loader); }

bool KeyRefresher::HaveKeys() const { return !loader_ || verifier_.KeyCount() > 0; }

void KeyRefresher::Refresh() {
  if (!loader_) return;
  absl::MutexLock lock(&mu_);
  try {
    auto keys = loader_();
    if (keys.empty()) throw std::runtime_error("no keys returned");
    for (const auto& kid : verifier_.MergeKeys(std::move(keys))) {
      log::Info("verification key dropped after its grace period", {{"kid", kid}});
    }
    if (failures_ > 0) {
      log::Info("verification keys loaded", {{"keys", std::to_string(verifier_.KeyCount())},
                                             {"failed_attempts", std::to_string(failures_)}});
    }
    failures_ = 0;
  } catch (const std::exception& e) {
    // Retried every second while no key is loaded: log the first failure and
    // then every 30th, not each one.
    if (failures_++ % 30 == 0) {
      log::Warn("cannot refresh verification keys",
                {{"error", e.what()}, {"attempts", std::to_string(failures_)}});
    }
  }
}

void KeyRefresher::Start() {
  if (!loader_ || worker_) return;
  worker_ = std::make_unique<Worker>("key-refresh",
                                     [this](Worker& w, std::stop_token stop) { Loop(w, stop); });
}

void KeyRefresher::Stop() { worker_.reset(); }

void KeyRefresher::Loop(Worker& worker, std::stop_token stop) {
  while (!stop.stop_requested()) {
    if (!worker.SleepFor(HaveKeys() ? interval_ : kRetryWithoutKeys)) return;
    Refresh();
  }
}

}  // namespace ates::platform
