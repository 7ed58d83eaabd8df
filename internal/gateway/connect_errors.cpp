#include "connect_errors.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>

#include <memory>

#include "google/rpc/status.pb.h"

namespace ates::gateway {
namespace {

struct CodeInfo {
  const char* name;
  int http_status;
};

CodeInfo InfoOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
      return {"canceled", 499};
    case grpc::StatusCode::INVALID_ARGUMENT:
      return {"invalid_argument", 400};
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return {"deadline_exceeded", 504};
    case grpc::StatusCode::NOT_FOUND:
      return {"not_found", 404};
    case grpc::StatusCode::ALREADY_EXISTS:
      return {"already_exists", 409};
    case grpc::StatusCode::PERMISSION_DENIED:
      return {"permission_denied", 403};
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return {"resource_exhausted", 429};
    case grpc::StatusCode::FAILED_PRECONDITION:
      return {"failed_precondition", 400};
    case grpc::StatusCode::ABORTED:
      return {"aborted", 409};
    case grpc::StatusCode::OUT_OF_RANGE:
      return {"out_of_range", 400};
    case grpc::StatusCode::UNIMPLEMENTED:
      return {"unimplemented", 501};
    case grpc::StatusCode::INTERNAL:
      return {"internal", 500};
    case grpc::StatusCode::UNAVAILABLE:
      return {"unavailable", 503};
    case grpc::StatusCode::DATA_LOSS:
      return {"data_loss", 500};
    case grpc::StatusCode::UNAUTHENTICATED:
      return {"unauthenticated", 401};
    default:
      return {"unknown", 500};
  }
}

// A JSON string literal (quotes included) of UTF-8 text.
std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      static const char* kHex = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// The detail's message as JSON when its type is in the generated pool, else "".
std::string DebugJson(const std::string& type, const std::string& value) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  const auto* descriptor = pool->FindMessageTypeByName(type);
  if (descriptor == nullptr) return "";
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor)->New());
  if (!message->ParseFromString(value)) return "";
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(*message, &json).ok()) return "";
  return json;
}

std::string DetailJson(const google::protobuf::Any& any) {
  const std::string& url = any.type_url();
  std::string type = url.substr(url.rfind('/') + 1);
  std::string out =
      "{\"type\":" + JsonString(type) + ",\"value\":" + JsonString(Base64NoPadding(any.value()));
  std::string debug = DebugJson(type, any.value());
  if (!debug.empty()) out += ",\"debug\":" + debug;
  return out + "}";
}

}  // namespace

const char* ConnectCodeName(grpc::StatusCode code) { return InfoOf(code).name; }

int ConnectHttpStatus(grpc::StatusCode code) { return InfoOf(code).http_status; }

std::string ConnectErrorBody(const grpc::Status& status) {
  std::string out = "{\"code\":" + JsonString(ConnectCodeName(status.error_code()));
  if (!status.error_message().empty()) out += ",\"message\":" + JsonString(status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details()) &&
      details.details_size() > 0) {
    out += ",\"details\":[";
    for (int i = 0; i < details.details_size(); ++i) {
      if (i > 0) out += ",";
      out += DetailJson(details.details(i));
    }
    out += "]";
  }
  return out + "}";
}

std::string Base64NoPadding(const std::string& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    for (int shift : {18, 12, 6}) out += kAlphabet[(n >> shift) & 63];
  }
  return out;
}

}  // namespace ates::gateway
