#include "ates/contracts/event_router.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <stdexcept>

#include "ates/contracts/upcasters.hpp"

namespace ates::contracts {
namespace {

// The catalogue's name and version of a message type.
std::pair<std::string, int> NameOf(const google::protobuf::Descriptor* type) {
  for (const auto& t : Catalogue().All()) {
    if (t.prototype->GetDescriptor() == type) return {t.name, t.version};
  }
  throw std::logic_error("EventRouter: " + type->full_name() + " is not in the catalogue");
}

}  // namespace

std::vector<std::pair<std::string, int>> EventRoutes::Accepts() const { return accepts_; }

void EventRoutes::AddRoute(const google::protobuf::Descriptor* type, Collect collect) {
  for (const auto& up : Upcasters()) {
    if (up.to != type) continue;
    routes_.push_back(Route{up.from, collect, &up});
    accepts_.push_back(NameOf(up.from));
  }
  routes_.push_back(Route{type, std::move(collect), nullptr});
  accepts_.push_back(NameOf(type));
}

void EventRoutes::Dispatch(void* batch, const platform::InboundEvent& event,
                           std::vector<std::unique_ptr<google::protobuf::Message>>& upcast) const {
  if (event.body == nullptr) {
    throw std::invalid_argument("event " + event.id + " reached its handler undecoded");
  }
  const auto* type = event.body->GetDescriptor();
  for (const auto& route : routes_) {
    if (route.type != type) continue;
    if (!route.collect) return;
    if (route.upcast == nullptr) return route.collect(batch, event, *event.body);
    upcast.push_back(route.upcast->convert(*event.body));
    return route.collect(batch, event, *upcast.back());
  }
  throw std::invalid_argument("no route for " + type->full_name() + " (event " + event.id + ")");
}

}  // namespace ates::contracts
