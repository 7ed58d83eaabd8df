#pragma once

#include <string>
#include <string_view>

namespace ates::billing {

// How a connection to the mail server is protected.
enum class SmtpTls {
  kOpportunistic,     // smtp:// without credentials: STARTTLS when offered
  kStartTlsRequired,  // smtp:// with credentials: STARTTLS or no session at all
  kImplicit,          // smtps://: TLS from the first byte
};

struct SmtpTlsChoice {
  SmtpTls tls = SmtpTls::kOpportunistic;
  // Non-empty when the settings would send credentials in clear (or to an
  // unknown scheme): a configuration error, never retried.
  std::string error;
};

// Credentials are only ever sent over TLS: smtps://, or smtp:// with STARTTLS
// required.
SmtpTlsChoice ChooseSmtpTls(std::string_view smtp_url, bool has_credentials);

}  // namespace ates::billing
