#include "ates/contracts/catalogue.hpp"

namespace ates::contracts {
namespace {

events::Registry BuildRegistry() {
  events::Registry registry;
  std::apply(
      [&](const auto&... spec) {
        (registry.Register(std::string(spec.name), spec.version,
                           std::remove_cvref_t<decltype(spec)>::Message::default_instance()),
         ...);
      },
      kEvents);
  for (const auto& owner : kDomains) registry.AddDomain(owner);
  return registry;
}

// Static initialisation, before main() and before any thread reads the
// process's registry. This file is linked whole (api/contracts/CMakeLists.txt),
// so every program that links the contracts knows the system's events.
const bool kInstalled = [] {
  events::Registry::InstallGlobal(BuildRegistry());
  return true;
}();

}  // namespace

const events::Registry& Catalogue() { return events::Registry::Global(); }

std::string BillingCycleClosedId(std::string_view business_date) {
  return events::NameUuid(std::string(Spec<events::schedule::v1::BillingCycleClosed>().name) + ":" +
                          std::string(business_date));
}

}  // namespace ates::contracts
