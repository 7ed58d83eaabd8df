#include "ates/platform/policy.hpp"

#include <google/protobuf/descriptor.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include "ates/platform/config.hpp"
#include "grpc/health/v1/health.pb.h"

namespace ates::platform {
namespace {

namespace gp = ::google::protobuf;

// A store the compiler must keep, so libgrpc++_reflection stays linked.
void (*volatile link_reflection)() = nullptr;

std::string FullMethod(const gp::ServiceDescriptor& service, const std::string& method) {
  return "/" + service.full_name() + "/" + method;
}

}  // namespace

const gp::ServiceDescriptor* ServicePolicy::FindService(const std::string& full_name) {
  const auto* service = gp::DescriptorPool::generated_pool()->FindServiceByName(full_name);
  if (service == nullptr) {
    throw ConfigError("access policy for unknown gRPC service '" + full_name + "'");
  }
  return service;
}

ServicePolicy::ServicePolicy(const gp::ServiceDescriptor* service) : service_(service) {
  if (service_ == nullptr) throw ConfigError("access policy without a service descriptor");
}

const std::string& ServicePolicy::service_name() const { return service_->full_name(); }

ServicePolicy& ServicePolicy::Add(const std::string& method, MethodPolicy policy) {
  if (service_->FindMethodByName(method) == nullptr) {
    throw ConfigError("access policy names method '" + method + "', which service " +
                      service_->full_name() + " does not have");
  }
  policy.check_input = check_input_;
  if (!entries_.emplace(FullMethod(*service_, method), std::move(policy)).second) {
    throw ConfigError("access policy names " + service_->full_name() + "/" + method + " twice");
  }
  return *this;
}

ServicePolicy& ServicePolicy::Public(const std::string& method) {
  return Add(method, {MethodPolicy::Access::kPublic, {}});
}

ServicePolicy& ServicePolicy::Authenticated(const std::string& method) {
  return Add(method, {MethodPolicy::Access::kAuthenticated, {}});
}

ServicePolicy& ServicePolicy::Roles(const std::string& method,
                                    std::initializer_list<auth::Role> roles) {
  if (roles.size() == 0) {
    throw ConfigError("access policy for " + service_->full_name() + "/" + method +
                      " allows no role: leave nobody in by omitting it? name roles");
  }
  return Add(method, {MethodPolicy::Access::kRoles, std::set<auth::Role>(roles)});
}

ServicePolicy& ServicePolicy::SkipInputCheck() {
  check_input_ = false;
  for (auto& [name, entry] : entries_) entry.check_input = false;
  return *this;
}

void ServicePolicy::Complete() const {
  std::string missing;
  for (int i = 0; i < service_->method_count(); ++i) {
    const auto& name = service_->method(i)->name();
    if (entries_.count(FullMethod(*service_, name))) continue;
    missing += (missing.empty() ? "" : ", ") + name;
  }
  if (!missing.empty()) {
    throw ConfigError("no access policy for " + service_->full_name() + " methods: " + missing);
  }
}

void PolicyTable::Add(const ServicePolicy& policy) {
  policy.Complete();
  if (!services_.insert(policy.service_name()).second) {
    throw ConfigError("access policy for service " + policy.service_name() + " given twice");
  }
  entries_.insert(policy.entries().begin(), policy.entries().end());
}

const MethodPolicy* PolicyTable::Find(const std::string& full_method) const {
  auto it = entries_.find(full_method);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<ServicePolicy> PlatformServicePolicies() {
  // Link the health and reflection schemas so their descriptors are in the
  // generated pool (also where no server is built, e.g. a unit test).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  link_reflection = &grpc::reflection::InitProtoReflectionServerBuilderPlugin;
  std::vector<ServicePolicy> out;
  // gRPC serves health from raw bytes, not from protobuf messages.
  out.push_back(ServicePolicy(ServicePolicy::FindService("grpc.health.v1.Health"))
                    .SkipInputCheck()
                    .Public("Check")
                    .Public("Watch"));
  // Reflection only describes the schema, which the protos publish anyway.
  out.push_back(
      ServicePolicy(ServicePolicy::FindService("grpc.reflection.v1alpha.ServerReflection"))
          .SkipInputCheck()
          .Public("ServerReflectionInfo"));
  return out;
}

}  // namespace ates::platform
