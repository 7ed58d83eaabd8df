#pragma once

#include <string>

namespace ates::devstack {

std::string ReadFile(const std::string& path);
std::string Tail(const std::string& text, size_t max_bytes);
// Writes `text` to `path` with mode 0600 (created or replaced).
void WritePrivateFile(const std::string& path, const std::string& text);
// The first line of `path`, "" when it is missing or empty.
std::string FirstLine(const std::string& path);
// `length` random characters from [A-Za-z0-9] (/dev/urandom).
std::string RandomAlnum(size_t length);
// `bytes` random bytes in base64.
std::string RandomBase64(size_t bytes);

}  // namespace ates::devstack
