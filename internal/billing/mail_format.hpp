#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace ates::billing {

// An RFC 5322 mailbox: `"Display Name" <addr>`. ASCII names become a
// quoted-string (backslash before `"` and `\`), names with other bytes an
// RFC 2047 encoded-word in UTF-8/base64 (split so no word passes 75
// characters); CR, LF and other control characters are dropped, so a name
// can never start a new header. An empty name gives `addr` alone.
std::string FormatMailbox(std::string_view display_name, std::string_view address);

// `text` without CR, LF and other control characters (for names in headers and body).
std::string WithoutControls(std::string_view text);

// The RFC 5322 date-time for a Date: header, in UTC: "Mon, 30 Nov 2026 08:05:09 +0000".
std::string FormatMailDate(std::chrono::system_clock::time_point when);

}  // namespace ates::billing
