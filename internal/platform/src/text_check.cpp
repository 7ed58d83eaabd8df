#include "ates/platform/text_check.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <string>

namespace ates::platform {
namespace {

namespace gp = ::google::protobuf;

// Length of the UTF-8 sequence starting at s[i], 0 when it is malformed.
size_t SequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  unsigned char d = b(i + 1);
  if (c == 0xE0 && d < 0xA0) return 0;  // overlong
  if (c == 0xED && d > 0x9F) return 0;  // surrogates
  if (c == 0xF0 && d < 0x90) return 0;  // overlong
  if (c == 0xF4 && d > 0x8F) return 0;  // above U+10FFFF
  return n;
}

std::string Describe(std::string_view value) {
  if (value.find('\0') != std::string_view::npos) return "must not contain NUL bytes";
  if (!IsValidUtf8(value)) return "must be valid UTF-8";
  return "";
}

void Walk(const gp::Message& message, const std::string& prefix, std::vector<FieldViolation>& out);

void CheckField(const gp::Message& message, const gp::FieldDescriptor& field,
                const std::string& path, std::vector<FieldViolation>& out) {
  const auto* r = message.GetReflection();
  if (field.is_repeated()) {
    int n = r->FieldSize(message, &field);
    for (int i = 0; i < n; ++i) {
      std::string item = path + "[" + std::to_string(i) + "]";
      if (field.type() == gp::FieldDescriptor::TYPE_STRING) {
        auto problem = Describe(r->GetRepeatedString(message, &field, i));
        if (!problem.empty()) out.push_back({item, problem});
      } else {
        Walk(r->GetRepeatedMessage(message, &field, i), item + ".", out);
      }
    }
    return;
  }
  if (field.type() == gp::FieldDescriptor::TYPE_STRING) {
    auto problem = Describe(r->GetString(message, &field));
    if (!problem.empty()) out.push_back({path, problem});
  } else {
    Walk(r->GetMessage(message, &field), path + ".", out);
  }
}

void Walk(const gp::Message& message, const std::string& prefix, std::vector<FieldViolation>& out) {
  std::vector<const gp::FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);  // only the fields that are set
  for (const auto* field : fields) {
    auto type = field->type();
    if (type != gp::FieldDescriptor::TYPE_STRING && type != gp::FieldDescriptor::TYPE_MESSAGE) {
      continue;
    }
    CheckField(message, *field, prefix + field->name(), out);
  }
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::vector<FieldViolation> TextViolations(const gp::Message& message) {
  std::vector<FieldViolation> out;
  Walk(message, "", out);
  return out;
}

}  // namespace ates::platform
