#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ates/contracts/catalogue.hpp"
#include "ates/platform/consumer.hpp"

namespace google::protobuf {
class Descriptor;
class Message;
}  // namespace google::protobuf

namespace ates::contracts {

struct Upcaster;

// The untyped half of EventRouter: routes by message descriptor, upcasting
// older versions (Upcasters()) before a route sees them.
class EventRoutes : public platform::EventHandler {
 public:
  std::vector<std::pair<std::string, int>> Accepts() const final;

 protected:
  using Collect = std::function<void(void* batch, const platform::InboundEvent&,
                                     const google::protobuf::Message&)>;
  // `collect` empty: accepted and ignored.
  void AddRoute(const google::protobuf::Descriptor* type, Collect collect);
  // Hands `event` to its route; bodies upcast for it are kept in `upcast`.
  void Dispatch(void* batch, const platform::InboundEvent& event,
                std::vector<std::unique_ptr<google::protobuf::Message>>& upcast) const;

 private:
  struct Route {
    const google::protobuf::Descriptor* type;
    Collect collect;
    const Upcaster* upcast = nullptr;  // set: `type` is older, upcast first
  };
  std::vector<Route> routes_;
  std::vector<std::pair<std::string, int>> accepts_;
};

// An EventHandler typed by message. A handler says what it takes from each
// event into its Batch with On<T>(collect) and writes the batch's statements
// in Flush; the router does the rest: Accepts() is what is registered (and the
// older versions the upcasters turn into it), Apply() upcasts in one place,
// hands each event to its collector, then calls Flush once. Names and versions
// are never compared by hand. The Batch lives on Apply's stack: one handler
// may serve several consumers (threads) at once.
template <class Batch>
class EventRouter : public EventRoutes {
 public:
  void Apply(pg::Transaction& tx, const std::vector<const platform::InboundEvent*>& events) final {
    Batch batch;
    std::vector<std::unique_ptr<google::protobuf::Message>> upcast;
    for (const auto* e : events) Dispatch(&batch, *e, upcast);
    Flush(tx, batch);
  }

 protected:
  // `collect(Batch&, const platform::InboundEvent&, const T&)` for every T in a
  // batch, also for older versions upcast to T. References stay valid until
  // Flush returns.
  template <class T, class F>
  void On(F collect) {
    AddRoute(T::descriptor(),
             [collect = std::move(collect)](void* batch, const platform::InboundEvent& e,
                                            const google::protobuf::Message& m) {
               collect(*static_cast<Batch*>(batch), e, static_cast<const T&>(m));
             });
  }
  // Accepts T (so it is not dead-lettered) and does nothing with it.
  template <class T>
  void Ignore() {
    AddRoute(T::descriptor(), nullptr);
  }
  // The batch's statements, set-based: one per kind of change.
  virtual void Flush(pg::Transaction& tx, Batch& batch) = 0;
};

}  // namespace ates::contracts
