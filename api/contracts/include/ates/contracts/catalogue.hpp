#pragma once

#include <array>
#include <string>
#include <string_view>
#include <tuple>

#include "ates/events/accounts/v1/account_events.pb.h"
#include "ates/events/billing/v1/billing_events.pb.h"
#include "ates/events/schedule/v1/schedule_events.pb.h"
#include "ates/events/tasks/v1/task_events.pb.h"
#include "ates/events/tasks/v2/task_events.pb.h"
#include "ates/platform/events.hpp"

namespace ates::contracts {

// One event of the system: its body is a T, its name (= NATS subject,
// `<domain>.<entity>.<event>`) and version travel in the headers, and its
// outbox rows name the aggregate it belongs to.
template <class T>
struct EventSpec {
  using Message = T;
  std::string_view name;
  int version;
  std::string_view aggregate_type;
};

// The catalogue: every event, declared once. A message type appears at most
// once (Spec<T>() would not compile otherwise); the platform's registry, the
// producers' Make and the consumers' routing are all read from here.
inline constexpr std::tuple kEvents{
    EventSpec<events::accounts::v1::AccountCreated>{"accounts.account.created", 1, "account"},
    EventSpec<events::accounts::v1::AccountUpdated>{"accounts.account.updated", 1, "account"},
    EventSpec<events::accounts::v1::AccountRoleChanged>{"accounts.account.role_changed", 1,
                                                        "account"},
    EventSpec<events::tasks::v1::TaskCreated>{"tasks.task.created", 1, "task"},
    EventSpec<events::tasks::v2::TaskCreated>{"tasks.task.created", 2, "task"},
    EventSpec<events::tasks::v1::TaskAssigned>{"tasks.task.assigned", 1, "task"},
    EventSpec<events::tasks::v1::TaskCompleted>{"tasks.task.completed", 1, "task"},
    EventSpec<events::billing::v1::TaskPriced>{"billing.task.priced", 1, "task"},
    EventSpec<events::billing::v1::TransactionApplied>{"billing.transaction.applied", 1, "account"},
    EventSpec<events::billing::v1::PayoutMade>{"billing.payout.made", 1, "account"},
    EventSpec<events::schedule::v1::BillingCycleClosed>{"schedule.billing_cycle.closed", 1,
                                                        "billing_cycle"},
};

// Who alone publishes each domain's subjects (stream, NATS permissions and the
// consumers' envelope check, ADR 15).
inline constexpr std::array kDomains{
    events::DomainOwner{"accounts", "ACCOUNTS", "ates-auth"},
    events::DomainOwner{"tasks", "TASKS", "ates-tasks"},
    events::DomainOwner{"billing", "BILLING", "ates-billing"},
    events::DomainOwner{"schedule", "SCHEDULE", "ates-scheduler"},
};

// The catalogue entry of message T; a T outside the catalogue does not compile.
template <class T>
constexpr const EventSpec<T>& Spec() {
  return std::get<EventSpec<T>>(kEvents);
}

// The catalogue as the platform's registry (installed as the process's
// registry before main() runs, see catalogue.cpp).
const events::Registry& Catalogue();

// The id of business day `business_date`'s schedule.billing_cycle.closed:
// derived from the date, so every producer of the same fact (scheduler
// replicas, retries, billing closing an earlier day first) gets the same id.
std::string BillingCycleClosedId(std::string_view business_date);

// An event for the outbox: name, version and aggregate type from the catalogue.
template <class T>
events::OutgoingEvent Make(const T& body, std::string aggregate_id) {
  constexpr const EventSpec<T>& spec = Spec<T>();
  return events::Wrap(spec.name, spec.version, body, std::string(spec.aggregate_type),
                      std::move(aggregate_id));
}

}  // namespace ates::contracts
