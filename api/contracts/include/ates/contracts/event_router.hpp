#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
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

// An EventHandler typed by message. A handler says what it takes from each
// event with On<T>(collect) and writes its batch's statements in Flush; the
// router does the rest: Accepts() is what is registered (and the older versions
// the upcasters turn into it), Apply() upcasts in one place and hands each
// event to its collector, then calls Flush once. Names and versions are never
// compared by hand. Apply runs inside the consumer's transaction, one batch at
// a time (the consumer serialises it), so the collected batch is plain state.
class EventRouter : public platform::EventHandler {
 public:
  std::vector<std::pair<std::string, int>> Accepts() const final;
  void Apply(pg::Transaction& tx, const std::vector<const platform::InboundEvent*>& events) final;

 protected:
  // `collect(const platform::InboundEvent&, const T&)` for every T in a batch,
  // also for older versions upcast to T. References stay valid until Flush ends.
  template <class T, class F>
  void On(F collect) {
    AddRoute(T::descriptor(), [collect = std::move(collect)](const platform::InboundEvent& e,
                                                             const google::protobuf::Message& m) {
      collect(e, static_cast<const T&>(m));
    });
  }
  // Accepts T (so it is not dead-lettered) and does nothing with it.
  template <class T>
  void Ignore() {
    AddRoute(T::descriptor(), nullptr);
  }
  // Before a batch's first event (also a retried batch's): drop what an
  // earlier, failed attempt collected.
  virtual void BeginBatch() = 0;
  // The batch's statements, set-based: one per kind of change.
  virtual void Flush(pg::Transaction& tx) = 0;

 private:
  using Collect =
      std::function<void(const platform::InboundEvent&, const google::protobuf::Message&)>;
  struct Route {
    const google::protobuf::Descriptor* type;
    Collect collect;                   // empty: accepted and ignored
    const Upcaster* upcast = nullptr;  // set: `type` is older, upcast first
  };
  void AddRoute(const google::protobuf::Descriptor* type, Collect collect);
  void Dispatch(const platform::InboundEvent& event);

  std::vector<Route> routes_;
  std::vector<std::pair<std::string, int>> accepts_;
  // Upcast bodies of the batch being applied (handlers may keep references).
  std::vector<std::unique_ptr<google::protobuf::Message>> upcast_;
};

}  // namespace ates::contracts
