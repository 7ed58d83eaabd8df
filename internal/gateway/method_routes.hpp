#pragma once

#include <google/protobuf/descriptor.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace ates::gateway {

// One public RPC reachable through the gateway.
struct MethodRoute {
  const google::protobuf::MethodDescriptor* method;
  size_t upstream;  // index into MethodRoutes::services()
};

// Every method of the five public services, found in the generated
// descriptor pool, keyed by its Connect path "/ates.tasks.v1.TaskService/CreateTask".
class MethodRoutes final {
 public:
  // The public services in upstream order: auth, tasks, billing, analytics, scheduler.
  static const std::vector<std::string>& ServiceNames();

  MethodRoutes();

  // Null for a path that names no public method.
  const MethodRoute* Find(const std::string& path) const;
  const std::unordered_map<std::string, MethodRoute>& all() const { return routes_; }

 private:
  std::unordered_map<std::string, MethodRoute> routes_;
};

}  // namespace ates::gateway
