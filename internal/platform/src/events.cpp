#include "ates/platform/events.hpp"

#include <google/protobuf/message.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>

#include "ates/platform/error.hpp"
#include "ates/platform/trace_context.hpp"

namespace ates::events {

namespace {

Registry& ProcessRegistry() {
  static Registry registry;
  return registry;
}

}  // namespace

const Registry& Registry::Global() { return ProcessRegistry(); }

void Registry::InstallGlobal(Registry registry) { ProcessRegistry() = std::move(registry); }

void Registry::Register(std::string name, int version, const google::protobuf::Message& prototype) {
  types_.push_back(EventType{std::move(name), version, &prototype});
}

const EventType* Registry::Find(std::string_view name, int version) const {
  for (const auto& t : types_) {
    if (t.name == name && t.version == version) return &t;
  }
  return nullptr;
}

std::unique_ptr<google::protobuf::Message> Registry::Decode(std::string_view name, int version,
                                                            std::string_view payload,
                                                            std::string* reason) const {
  const EventType* type = Find(name, version);
  if (type == nullptr) {
    if (reason) *reason = "unknown event " + std::string(name) + " v" + std::to_string(version);
    return nullptr;
  }
  std::unique_ptr<google::protobuf::Message> msg(type->prototype->New());
  if (!msg->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    if (reason) {
      *reason = "undecodable body for " + std::string(name) + " v" + std::to_string(version);
    }
    return nullptr;
  }
  return msg;
}

std::string StreamFor(std::string_view subject) {
  auto dot = subject.find('.');
  std::string stream(subject.substr(0, dot));
  std::transform(stream.begin(), stream.end(), stream.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return stream;
}

OutgoingEvent Make(std::string_view name, int version, const google::protobuf::Message& body,
                   std::string aggregate_type, std::string aggregate_id) {
  const EventType* type = Registry::Global().Find(name, version);
  if (type == nullptr) {
    throw Error(ErrorCode::kInternal, "event " + std::string(name) + " v" +
                                          std::to_string(version) + " is not registered");
  }
  if (type->prototype->GetDescriptor() != body.GetDescriptor()) {
    throw Error(ErrorCode::kInternal, "event " + std::string(name) + " v" +
                                          std::to_string(version) + " must be a " +
                                          type->prototype->GetDescriptor()->full_name());
  }
  return Wrap(name, version, body, std::move(aggregate_type), std::move(aggregate_id));
}

OutgoingEvent Wrap(std::string_view name, int version, const google::protobuf::Message& body,
                   std::string aggregate_type, std::string aggregate_id) {
  OutgoingEvent e;
  e.id = NewUuid();
  e.name = std::string(name);
  e.version = version;
  e.aggregate_type = std::move(aggregate_type);
  e.aggregate_id = std::move(aggregate_id);
  e.payload = body.SerializeAsString();
  e.occurred_at = std::chrono::system_clock::now();
  if (const auto* trace = trace::Current()) e.traceparent = trace->Traceparent();
  return e;
}

namespace {

// The 16 bytes of a UUID in its lower-case text form (8-4-4-4-12).
std::string UuidText(const unsigned char* b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

}  // namespace

std::string NewUuid() {
  // Random bytes come from the OS in blocks (one getrandom call per 32 ids,
  // not one per id: producers make thousands per batch).
  thread_local unsigned char pool[512];
  thread_local size_t used = sizeof pool;
  if (used == sizeof pool) {
    randombytes_buf(pool, sizeof pool);
    used = 0;
  }
  unsigned char b[16];
  std::memcpy(b, pool + used, sizeof b);
  sodium_memzero(pool + used, sizeof b);
  used += sizeof b;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0f));
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3f));
  return UuidText(b);
}

std::string NameUuid(std::string_view name) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(name.data()), name.size());
  unsigned char* b = digest;
  b[6] = static_cast<unsigned char>(0x80 | (b[6] & 0x0f));  // version 8: custom
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3f));
  return UuidText(b);
}

bool IsUuid(std::string_view t) {
  if (t.size() != 36) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (t[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(t[i]))) {
      return false;
    }
  }
  return true;
}

std::string FormatTimestamp(std::chrono::system_clock::time_point tp) {
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(micros % 1'000'000));
  return buf;
}

}  // namespace ates::events
