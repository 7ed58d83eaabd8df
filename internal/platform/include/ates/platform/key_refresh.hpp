#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>

#include <chrono>
#include <functional>
#include <memory>

#include "ates/platform/token.hpp"
#include "ates/platform/worker.hpp"

namespace ates::platform {

// Keeps the token verifier's keys current, so keys rotated in ates-auth are
// known before they are used: asks `loader` every `interval`, and every
// second while no key is loaded yet. Refresh() may also be called from RPC
// threads (an unknown key id); one load runs at a time.
class KeyRefresher final {
 public:
  using Loader = std::function<auth::TokenVerifier::PublicKeys()>;

  KeyRefresher(auth::TokenVerifier& verifier, std::chrono::milliseconds interval);
  ~KeyRefresher();

  // Where keys come from; none (the default): nothing to refresh.
  void SetLoader(Loader loader);
  bool enabled() const { return static_cast<bool>(loader_); }
  // True once a key is loaded, or when there is no loader.
  bool HaveKeys() const;
  // Loads once; a failure is logged (the first and every 30th) and kept.
  void Refresh();
  // Starts the "key-refresh" worker; Stop() (or the destructor) joins it.
  void Start();
  void Stop();

 private:
  void Loop(Worker& worker, std::stop_token stop);

  auth::TokenVerifier& verifier_;
  std::chrono::milliseconds interval_;
  Loader loader_;  // set before Start() and before the server serves
  absl::Mutex mu_;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;  // consecutive failed loads
  std::unique_ptr<Worker> worker_;  // the runtime's startup phase starts it, shutdown stops it
};

}  // namespace ates::platform
