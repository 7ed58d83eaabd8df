// contracts::EventRouter and the catalogue (ADR 0021): Accepts() from what is
// registered, v1 task.created upcast once before the handler, Make by type.
// Pure: the transaction is never begun (Flush runs no statement).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ates/contracts/catalogue.hpp"
#include "ates/contracts/event_router.hpp"
#include "ates/platform/event_envelope.hpp"

namespace ates::contracts {
namespace {

namespace t1 = ::ates::events::tasks::v1;
namespace t2 = ::ates::events::tasks::v2;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

using Seen = std::vector<std::string>;

class Recorder final : public EventRouter<Seen> {
 public:
  Recorder() {
    On<t2::TaskCreated>([](Seen& seen, const platform::InboundEvent& e, const t2::TaskCreated& c) {
      seen.push_back(e.id + ":" + c.jira_id() + "|" + c.title());
    });
    Ignore<t1::TaskAssigned>();
  }
  std::vector<Seen> flushed;

 private:
  void Flush(pg::Transaction&, Seen& seen) override { flushed.push_back(seen); }
};

platform::InboundEvent Event(std::string id, const google::protobuf::Message& body) {
  platform::InboundEvent e;
  e.id = std::move(id);
  e.body.reset(body.New());
  e.body->CopyFrom(body);
  return e;
}

TEST(EventRouter, AcceptsWhatIsRegisteredAndTheVersionsUpcastToIt) {
  Recorder r;
  EXPECT_THAT(r.Accepts(),
              UnorderedElementsAre(Pair("tasks.task.created", 1), Pair("tasks.task.created", 2),
                                   Pair("tasks.task.assigned", 1)));
}

TEST(EventRouter, HandlersSeeV1TaskCreatedAsV2AndIgnoredEventsNotAtAll) {
  Recorder r;
  t1::TaskCreated v1;
  v1.set_title("[UP-1] Old");
  t2::TaskCreated v2;
  v2.set_title("New");
  v2.set_jira_id("UP-2");
  t1::TaskAssigned assigned;
  auto a = Event("a", v1), b = Event("b", v2), c = Event("c", assigned);
  pg::Connection never_opened("");
  pg::Transaction tx(never_opened);
  r.Apply(tx, {&a, &b, &c});
  r.Apply(tx, {&b});  // a new batch starts empty
  ASSERT_EQ(r.flushed.size(), 2u);
  EXPECT_THAT(r.flushed[0], ElementsAre("a:UP-1|Old", "b:UP-2|New"));
  EXPECT_THAT(r.flushed[1], ElementsAre("b:UP-2|New"));
}

TEST(Catalogue, MakeTakesNameVersionAndAggregateFromTheMessageType) {
  t1::TaskAssigned assigned;
  assigned.set_task_id("t-1");
  auto e = Make(assigned, "t-1");
  EXPECT_EQ(e.name, "tasks.task.assigned");
  EXPECT_EQ(e.version, 1);
  EXPECT_EQ(e.aggregate_type, "task");
  EXPECT_EQ(e.aggregate_id, "t-1");
  EXPECT_EQ(e.payload, assigned.SerializeAsString());
  EXPECT_EQ(Make(t2::TaskCreated{}, "x").version, 2);
}

TEST(Catalogue, IsTheProcessRegistryWithEveryEventAndDomain) {
  EXPECT_EQ(Catalogue().All().size(), std::tuple_size_v<decltype(kEvents)>);
  ASSERT_NE(Catalogue().Find("schedule.billing_cycle.closed", 1), nullptr);
  EXPECT_EQ(events::DomainOwners().size(), kDomains.size());
  EXPECT_EQ(BillingCycleClosedId("2026-11-25"),
            events::NameUuid("schedule.billing_cycle.closed:2026-11-25"));
}

}  // namespace
}  // namespace ates::contracts
