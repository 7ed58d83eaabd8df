#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ates/events/tasks/v1/task_events.pb.h"
#include "ates/events/tasks/v2/task_events.pb.h"

namespace ates::contracts {

// An older version of an event that consumers still accept, and how it becomes
// the current one. The one place that knows the versions: EventRouter upcasts
// with it, so handlers only ever see current messages.
struct Upcaster {
  const google::protobuf::Descriptor* from;
  const google::protobuf::Descriptor* to;
  std::unique_ptr<google::protobuf::Message> (*convert)(const google::protobuf::Message& from);
};
const std::vector<Upcaster>& Upcasters();

// tasks.task.created v1 ("[UP-42] text" titles) as v2 (ADR 0007).
events::tasks::v2::TaskCreated UpcastTaskCreated(const events::tasks::v1::TaskCreated& v1);
// "[UP-42] Fix it" -> {"UP-42", "Fix it"}; a title without a leading key -> {"", title}.
std::pair<std::string, std::string> SplitLegacyTitle(std::string_view title);

}  // namespace ates::contracts
