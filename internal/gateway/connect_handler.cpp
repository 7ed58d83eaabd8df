#include "connect_handler.hpp"

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cctype>

#include "ates/platform/trace_context.hpp"
#include "connect_errors.hpp"
#include "session_cookie.hpp"

namespace ates::gateway {
namespace {

using google::protobuf::Message;
using Clock = std::chrono::system_clock;

constexpr const char* kJson = "application/json";
constexpr const char* kProto = "application/proto";

std::unique_ptr<Message> NewMessage(const google::protobuf::Descriptor* type) {
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
}

// The media type without parameters ("application/json; charset=utf-8" -> "application/json").
std::string MediaType(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

// Connect-Timeout-Ms: a positive integer of at most 10 digits; -1 if malformed, 0 if absent.
long long TimeoutMs(const std::string& header) {
  if (header.empty()) return 0;
  if (header.size() > 10) return -1;
  for (char c : header) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
  }
  return std::stoll(header);
}

bool Decode(const std::string& body, bool json, Message& message) {
  if (!json) return message.ParseFromString(body);
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer client's fields, as protojson allows
  return google::protobuf::util::JsonStringToMessage(body, &message, options).ok();
}

}  // namespace

ConnectHandler::ConnectHandler(const MethodRoutes& routes, Upstreams& upstreams,
                               ConnectLimits limits)
    : routes_(routes), upstreams_(upstreams), limits_(limits) {}

HttpResponse ConnectHandler::Error(const grpc::Status& status) {
  HttpResponse r;
  r.status = ConnectHttpStatus(status.error_code());
  r.connect_code = ConnectCodeName(status.error_code());
  r.SetHeader("Content-Type", kJson);
  r.body = ConnectErrorBody(status);
  return r;
}

HttpResponse ConnectHandler::Handle(const HttpRequest& request, Clock::time_point arrived) const {
  const MethodRoute* route = routes_.Find(request.path);
  if (route == nullptr) {
    HttpResponse r = Error({grpc::StatusCode::UNIMPLEMENTED, "no method " + request.path});
    r.status = 404;  // Connect: an unknown procedure is a 404
    return r;
  }
  if (request.method != "POST") {
    HttpResponse r = Error({grpc::StatusCode::UNIMPLEMENTED, "Connect calls are POST"});
    r.status = 405;
    r.SetHeader("Allow", "POST");
    return r;
  }
  // A cross-site form cannot set this header: it is the CSRF guard.
  if (request.Header("connect-protocol-version") != "1") {
    return Error(
        {grpc::StatusCode::INVALID_ARGUMENT, "the Connect-Protocol-Version: 1 header is required"});
  }
  std::string media = MediaType(request.Header("content-type"));
  if (media != kJson && media != kProto) {
    HttpResponse r = Error({grpc::StatusCode::UNIMPLEMENTED,
                            "Content-Type must be application/json or application/proto"});
    r.status = 415;
    return r;
  }
  if (request.body.size() > limits_.max_body_bytes) {
    return Error({grpc::StatusCode::RESOURCE_EXHAUSTED, "request body too large"});
  }
  if (TimeoutMs(request.Header("connect-timeout-ms")) < 0) {
    return Error({grpc::StatusCode::INVALID_ARGUMENT, "malformed Connect-Timeout-Ms"});
  }
  return Forward(*route, request, media == kJson, Deadline(request, arrived));
}

Clock::time_point ConnectHandler::Deadline(const HttpRequest& request,
                                           Clock::time_point arrived) const {
  long long ms = TimeoutMs(request.Header("connect-timeout-ms"));
  auto timeout = ms > 0 ? std::min(std::chrono::milliseconds(ms), limits_.max_timeout)
                        : limits_.default_timeout;
  return arrived + timeout;
}

HttpResponse ConnectHandler::Forward(const MethodRoute& route, const HttpRequest& request,
                                     bool json, Clock::time_point deadline) const {
  auto message = NewMessage(route.method->input_type());
  if (!Decode(request.body, json, *message)) {
    return Error({grpc::StatusCode::INVALID_ARGUMENT, std::string("cannot decode the request as ") +
                                                          route.method->input_type()->full_name()});
  }
  if (Clock::now() >= deadline) {
    return Error({grpc::StatusCode::DEADLINE_EXCEEDED, "deadline passed before the call"});
  }
  UpstreamCall call;
  call.method_path = request.path;
  call.request = message->SerializeAsString();
  call.authorization = UpstreamAuthorization(request);
  call.deadline = deadline;
  // Only a valid one goes on: a bad header starts a new trace, never fails the call.
  if (trace::Parse(request.Header(trace::kTraceparentHeader))) {
    call.traceparent = request.Header(trace::kTraceparentHeader);
  }
  UpstreamReply reply = upstreams_.Call(route.upstream, call);
  HttpResponse response =
      reply.status.ok() ? Reply(route, reply.response, json) : Error(reply.status);
  // The caller learns the trace id to look for in the logs.
  if (!reply.traceparent.empty()) response.SetHeader("traceparent", reply.traceparent);
  return response;
}

HttpResponse ConnectHandler::Reply(const MethodRoute& route, const std::string& bytes,
                                   bool json) const {
  auto message = NewMessage(route.method->output_type());
  if (!message->ParseFromString(bytes)) {
    return Error({grpc::StatusCode::INTERNAL, "the upstream reply does not parse"});
  }
  HttpResponse r;
  r.connect_code = "ok";
  TakeSession(*message, r);
  r.SetHeader("Content-Type", json ? kJson : kProto);
  if (!json) {
    r.body = message->SerializeAsString();
    return r;
  }
  if (!google::protobuf::util::MessageToJsonString(*message, &r.body).ok()) {
    return Error({grpc::StatusCode::INTERNAL, "the upstream reply has no JSON form"});
  }
  return r;
}

void ConnectHandler::TakeSession(Message& reply, HttpResponse& response) const {
  const auto* type = reply.GetDescriptor();
  const auto* token_field = type->FindFieldByName("access_token");
  const auto* expires_field = type->FindFieldByName("expires_at");
  if (token_field == nullptr || expires_field == nullptr ||
      token_field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      expires_field->message_type() != google::protobuf::Timestamp::descriptor()) {
    return;
  }
  const auto* reflection = reply.GetReflection();
  std::string token = reflection->GetString(reply, token_field);
  if (token.empty()) return;
  google::protobuf::Timestamp expires;
  expires.CopyFrom(reflection->GetMessage(reply, expires_field));
  auto left = std::chrono::seconds(expires.seconds()) -
              std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch());
  response.SetHeader("Set-Cookie", SessionCookie(token, left, limits_.secure_cookies));
  // The page's script never sees the token.
  reflection->ClearField(&reply, token_field);
}

HttpResponse ConnectHandler::Logout() const {
  HttpResponse r;
  r.connect_code = "ok";
  r.SetHeader("Set-Cookie", ClearedSessionCookie(limits_.secure_cookies));
  r.SetHeader("Content-Type", kJson);
  r.body = "{}";
  return r;
}

}  // namespace ates::gateway
