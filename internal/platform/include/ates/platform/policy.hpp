#pragma once

#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ates/platform/token.hpp"

namespace google::protobuf {
class ServiceDescriptor;
}

namespace ates::platform {

// Who may call one RPC. Object-level rules (a worker sees only their own
// tasks) stay in the handlers; this is the door.
struct MethodPolicy {
  enum class Access { kPublic, kAuthenticated, kRoles };
  Access access = Access::kRoles;
  std::set<auth::Role> roles;  // for kRoles
  // Whether the request is a protobuf message whose strings are checked for
  // NUL bytes and UTF-8 (false for the platform's health service, which gRPC
  // serves from raw bytes).
  bool check_input = true;
};

// The policy of one gRPC service, built against its generated descriptor: a
// method name that the service does not have throws ConfigError at once, and
// Complete() throws when a method of the service has no entry.
class ServicePolicy final {
 public:
  explicit ServicePolicy(const google::protobuf::ServiceDescriptor* service);
  // For a generated gRPC service class (TaskService): its descriptor by name.
  template <class GrpcService>
  static ServicePolicy For() {
    return ServicePolicy(FindService(GrpcService::service_full_name()));
  }
  static const google::protobuf::ServiceDescriptor* FindService(const std::string& full_name);

  ServicePolicy& Public(const std::string& method);
  ServicePolicy& Authenticated(const std::string& method);
  ServicePolicy& Roles(const std::string& method, std::initializer_list<auth::Role> roles);
  // The service's requests are not protobuf messages the platform may inspect.
  ServicePolicy& SkipInputCheck();

  // Throws ConfigError naming every method of the service without an entry.
  void Complete() const;
  const std::string& service_name() const;
  // Entries keyed by the full method name as gRPC reports it: "/pkg.Svc/Method".
  const std::map<std::string, MethodPolicy>& entries() const { return entries_; }

 private:
  ServicePolicy& Add(const std::string& method, MethodPolicy policy);

  const google::protobuf::ServiceDescriptor* service_;
  std::map<std::string, MethodPolicy> entries_;
  bool check_input_ = true;
};

// Every method the server serves, keyed by its full method name. A call to a
// method that is not in the table is denied (deny by default).
class PolicyTable final {
 public:
  // Throws ConfigError when `policy` is incomplete or the service is already in.
  void Add(const ServicePolicy& policy);
  // nullptr when the method has no policy.
  const MethodPolicy* Find(const std::string& full_method) const;
  const std::map<std::string, MethodPolicy>& entries() const { return entries_; }
  bool HasService(const std::string& service_name) const { return services_.count(service_name); }

 private:
  std::map<std::string, MethodPolicy> entries_;
  std::set<std::string> services_;
};

// The platform's own services every daemon serves: health (public) and
// server reflection (public: it only describes the schema).
std::vector<ServicePolicy> PlatformServicePolicies();

}  // namespace ates::platform
