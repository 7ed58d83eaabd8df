#pragma once

#include <string_view>
#include <vector>

#include "ates/platform/error.hpp"

namespace google::protobuf {
class Message;
}

namespace ates::platform {

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code
// points above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// One violation per string field, at any depth, that holds a NUL byte or is
// not UTF-8: no request may smuggle either into the database, logs or events.
std::vector<FieldViolation> TextViolations(const google::protobuf::Message& message);

}  // namespace ates::platform
