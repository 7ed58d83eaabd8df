#include "ates/platform/call_admission.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <mutex>
#include <optional>
#include <unordered_map>

#include "ates/platform/error.hpp"
#include "ates/platform/rpc_status.hpp"
#include "ates/platform/text_check.hpp"

namespace ates::platform {
namespace {

using grpc::experimental::InterceptionHookPoints;

// What the door decided for one call, until the call ends.
struct Decision {
  std::optional<auth::Principal> principal;
  std::optional<ates::Error> refusal;
  bool handler_ran = false;
};

// Decisions by call. A ServerContext carries no user data, so the handler
// finds its call's decision here by the context's address.
class Decisions final {
 public:
  static Decisions& Get() {
    static Decisions instance;
    return instance;
  }
  void Put(const void* call, Decision d) {
    std::lock_guard lock(mu_);
    by_call_[call] = std::move(d);
  }
  void Refuse(const void* call, ates::Error error) {
    std::lock_guard lock(mu_);
    auto& d = by_call_[call];
    if (!d.refusal) d.refusal = std::move(error);
  }
  // Marks the handler as run and returns a copy of the decision.
  std::optional<Decision> Enter(const void* call) {
    std::lock_guard lock(mu_);
    auto it = by_call_.find(call);
    if (it == by_call_.end()) return std::nullopt;
    it->second.handler_ran = true;
    return it->second;
  }
  std::optional<Decision> Find(const void* call) {
    std::lock_guard lock(mu_);
    auto it = by_call_.find(call);
    if (it == by_call_.end()) return std::nullopt;
    return it->second;
  }
  void Erase(const void* call) {
    std::lock_guard lock(mu_);
    by_call_.erase(call);
  }

 private:
  std::mutex mu_;
  std::unordered_map<const void*, Decision> by_call_;
};

std::string MethodName(const std::string& full_method) {
  return full_method.empty() || full_method[0] != '/' ? full_method : full_method.substr(1);
}

ates::Error Unparsable(const std::string& full_method) {
  const auto* method = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName([&] {
    auto name = MethodName(full_method);
    auto slash = name.rfind('/');
    return slash == std::string::npos ? name : name.replace(slash, 1, ".");
  }());
  std::string type = method ? method->input_type()->full_name() : "request";
  return ates::Error(
      ErrorCode::kInvalidArgument,
      "request is not a valid " + type + " (malformed bytes, or a string that is not UTF-8)");
}

class AdmissionInterceptor final : public grpc::experimental::Interceptor {
 public:
  AdmissionInterceptor(const PolicyTable& policies, const Authenticator& authenticator,
                       grpc::experimental::ServerRpcInfo* info)
      : policies_(policies),
        authenticator_(authenticator),
        call_(info->server_context()),
        method_(info->method() ? info->method() : "") {}
  ~AdmissionInterceptor() override { Decisions::Get().Erase(call_); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      Admit(methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      CheckInput(methods->GetRecvMessage());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      ExplainUnrunHandler(methods);
    }
    methods->Proceed();
  }

 private:
  void Admit(std::multimap<grpc::string_ref, grpc::string_ref>* metadata) {
    Decision d;
    policy_ = policies_.Find(method_);
    try {
      d.principal = Decide(metadata);
    } catch (const ates::Error& e) {
      d.refusal = e;
    }
    Decisions::Get().Put(call_, std::move(d));
  }

  auth::Principal Decide(std::multimap<grpc::string_ref, grpc::string_ref>* metadata) const {
    if (policy_ == nullptr) {
      throw ates::Error(ErrorCode::kPermissionDenied,
                        "method " + MethodName(method_) + " has no access policy: denied");
    }
    if (policy_->access == MethodPolicy::Access::kPublic) return {};
    std::optional<std::string_view> authorization;
    if (metadata != nullptr) {
      auto it = metadata->find("authorization");
      if (it != metadata->end()) authorization.emplace(it->second.data(), it->second.size());
    }
    auto principal = authenticator_.Authenticate(authorization);
    if (policy_->access == MethodPolicy::Access::kRoles && !policy_->roles.count(principal.role)) {
      throw ates::Error(ErrorCode::kPermissionDenied,
                        "role '" + std::string(auth::RoleName(principal.role)) + "' may not call " +
                            MethodName(method_));
    }
    return principal;
  }

  void CheckInput(void* message) {
    if (policy_ == nullptr || !policy_->check_input) return;
    if (message == nullptr) {
      unparsable_ = true;  // gRPC could not deserialize it: the handler will not run
      return;
    }
    auto violations = TextViolations(*static_cast<const google::protobuf::Message*>(message));
    if (violations.empty()) return;
    Decisions::Get().Refuse(call_, ates::Error(ErrorCode::kInvalidArgument,
                                               "request strings must be UTF-8 without NUL bytes",
                                               std::move(violations)));
  }

  // A handler that never ran (the request did not parse) would leave gRPC's
  // INTERNAL; the caller learns the real reason instead.
  void ExplainUnrunHandler(grpc::experimental::InterceptorBatchMethods* methods) {
    if (policy_ == nullptr || !policy_->check_input) return;
    auto d = Decisions::Get().Find(call_);
    if (!d || d->handler_ran) return;
    if (d->refusal) {
      methods->ModifySendStatus(ToStatus(*d->refusal));
    } else if (unparsable_) {
      methods->ModifySendStatus(ToStatus(Unparsable(method_)));
    }
  }

  const PolicyTable& policies_;
  const Authenticator& authenticator_;
  const void* call_;
  std::string method_;
  const MethodPolicy* policy_ = nullptr;
  bool unparsable_ = false;
};

class AdmissionFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  AdmissionFactory(const PolicyTable& policies, const Authenticator& authenticator)
      : policies_(policies), authenticator_(authenticator) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new AdmissionInterceptor(policies_, authenticator_, info);
  }

 private:
  const PolicyTable& policies_;
  const Authenticator& authenticator_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
CallAdmission::InterceptorFactory() {
  return std::make_unique<AdmissionFactory>(policies_, authenticator_);
}

auth::Principal AdmittedPrincipal(const grpc::ServerContext& ctx) {
  auto d = Decisions::Get().Enter(static_cast<const grpc::ServerContextBase*>(&ctx));
  if (!d) {
    throw ates::Error(ErrorCode::kPermissionDenied, "call not admitted (no access decision)");
  }
  if (d->refusal) throw *d->refusal;
  return d->principal.value_or(auth::Principal{});
}

AdmitCallForTest::AdmitCallForTest(const grpc::ServerContext& ctx, auth::Principal who)
    : call_(static_cast<const grpc::ServerContextBase*>(&ctx)) {
  Decision d;
  d.principal = std::move(who);
  Decisions::Get().Put(call_, std::move(d));
}

AdmitCallForTest::~AdmitCallForTest() { Decisions::Get().Erase(call_); }

}  // namespace ates::platform
