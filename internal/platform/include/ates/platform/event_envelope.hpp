#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ates::events {

// Who alone publishes each domain's subjects: the stream, its subject prefix
// and the service whose NATS user may publish there and whose name its events
// carry in Ates-Producer. The one table for streams, NATS permissions and the
// consumers' envelope check (ADR 15).
struct DomainOwner {
  std::string_view domain;    // first subject token, e.g. "tasks"
  std::string_view stream;    // e.g. "TASKS"
  std::string_view producer;  // e.g. "ates-tasks"
};
const std::vector<DomainOwner>& DomainOwners();

// The owner of the domain `subject` belongs to; nullptr for a subject outside
// the four domains.
const DomainOwner* OwnerOf(std::string_view subject);

// Why a message's envelope cannot be believed: its subject must equal its
// Ates-Event-Name and lie in a known domain, and Ates-Producer must name that
// domain's owner. "" when all three agree.
std::string EnvelopeMismatch(std::string_view subject, std::string_view name,
                             std::string_view producer);

}  // namespace ates::events
