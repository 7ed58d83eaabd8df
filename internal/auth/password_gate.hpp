#pragma once

#include <optional>
#include <semaphore>

namespace ates::auth {

// Bounds how many Argon2 computations (19 MiB each) run at once, so memory
// stays bounded whatever arrives. Callers either get a permit at once or are
// told to come back (TryEnter); nothing queues while holding memory.
class PasswordGate final {
 public:
  explicit PasswordGate(int capacity) : capacity_(capacity), slots_(capacity) {}

  class Permit final {
   public:
    explicit Permit(PasswordGate* gate) : gate_(gate) {}
    Permit(Permit&& other) noexcept : gate_(other.gate_) { other.gate_ = nullptr; }
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    Permit& operator=(Permit&&) = delete;
    ~Permit() {
      if (gate_ != nullptr) gate_->slots_.release();
    }

   private:
    PasswordGate* gate_;
  };

  std::optional<Permit> TryEnter() {
    if (!slots_.try_acquire()) return std::nullopt;
    return Permit(this);
  }
  // Waits for a slot: for admin operations, whose callers are few and known.
  Permit Enter() {
    slots_.acquire();
    return Permit(this);
  }
  int capacity() const { return capacity_; }

 private:
  int capacity_;
  std::counting_semaphore<1 << 20> slots_;
};

}  // namespace ates::auth
