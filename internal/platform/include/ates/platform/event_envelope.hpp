#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ates/platform/events.hpp"

namespace ates::events {

// The domains of the process's registry (Registry::Global(), declared by the
// contracts library): the one table for streams, NATS permissions and the
// consumers' envelope check (ADR 15).
const std::vector<DomainOwner>& DomainOwners();

// The owner of the domain `subject` belongs to; nullptr for a subject outside
// the known domains.
const DomainOwner* OwnerOf(std::string_view subject);

// Why a message's envelope cannot be believed: its subject must equal its
// Ates-Event-Name and lie in a known domain, and Ates-Producer must name that
// domain's owner. "" when all three agree.
std::string EnvelopeMismatch(std::string_view subject, std::string_view name,
                             std::string_view producer);

}  // namespace ates::events
