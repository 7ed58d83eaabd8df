#pragma once

// The load generator's view of NATS: every billing.transaction.applied and
// billing.payout.made as ates-billing's relay publishes it to the BILLING
// stream (a plain subscription on the subjects: it sees each message as the
// stream receives it, without a consumer of its own), and the pending count
// of ates-billing's durable consumer on TASKS (its lag).

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "async_rpc.hpp"

typedef struct __natsConnection natsConnection;
typedef struct __natsSubscription natsSubscription;
typedef struct __jsCtx jsCtx;
typedef struct __natsMsg natsMsg;

namespace ates::bench::system {

struct Applied {
  std::string task_id;
  std::string account_id;
  int kind = 0;  // ates.events.billing.v1.TransactionKind
  Clock::time_point seen;
};

class BillingWatch final {
 public:
  using OnApplied = std::function<void(const Applied&)>;
  BillingWatch(const std::string& url, OnApplied on_applied);
  ~BillingWatch();

  // num_pending of durable `consumer` on `stream`; -1 when it cannot be read.
  // num_redelivered (pending messages delivered more than once) into *redelivered.
  int64_t Pending(const std::string& stream, const std::string& consumer,
                  int64_t* redelivered = nullptr);
  // Publishes schedule.billing_cycle.closed for `business_date` as
  // ates-scheduler would (its CloseBillingCycle refuses a day that is not
  // over yet by PostgreSQL's clock, and the benchmark closes today).
  void PublishDayClosed(const std::string& business_date);
  int64_t payouts() const { return payouts_.load(); }
  int64_t fees() const { return fees_.load(); }
  Clock::time_point last_fee() const {
    return Clock::time_point(Clock::duration(last_fee_.load()));
  }
  Clock::time_point last_payout() const {
    return Clock::time_point(Clock::duration(last_payout_.load()));
  }

 private:
  static void OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* self);
  void Handle(const char* subject, const char* data, int len);

  OnApplied on_applied_;
  natsConnection* conn_ = nullptr;
  natsSubscription* applied_ = nullptr;
  natsSubscription* payout_ = nullptr;
  jsCtx* js_ = nullptr;
  std::atomic<int64_t> payouts_{0};
  std::atomic<int64_t> fees_{0};
  std::atomic<Clock::rep> last_fee_{0};
  std::atomic<Clock::rep> last_payout_{0};
};

}  // namespace ates::bench::system
