#include "ates/platform/event_envelope.hpp"

namespace ates::events {

const std::vector<DomainOwner>& DomainOwners() { return Registry::Global().Domains(); }

const DomainOwner* OwnerOf(std::string_view subject) {
  std::string_view domain = subject.substr(0, subject.find('.'));
  if (domain.size() == subject.size()) return nullptr;  // no '.': not an event subject
  for (const auto& owner : DomainOwners()) {
    if (owner.domain == domain) return &owner;
  }
  return nullptr;
}

std::string EnvelopeMismatch(std::string_view subject, std::string_view name,
                             std::string_view producer) {
  if (name != subject) {
    return "subject '" + std::string(subject) + "' differs from Ates-Event-Name '" +
           std::string(name) + "'";
  }
  const DomainOwner* owner = OwnerOf(subject);
  if (owner == nullptr) return "subject '" + std::string(subject) + "' is in no known domain";
  if (producer != owner->producer) {
    return "Ates-Producer '" + std::string(producer) + "' is not " + std::string(owner->producer) +
           ", the only publisher of " + std::string(owner->domain) + ".>";
  }
  return "";
}

}  // namespace ates::events
