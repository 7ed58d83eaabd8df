#include "smtp_security.hpp"

namespace ates::billing {

SmtpTlsChoice ChooseSmtpTls(std::string_view smtp_url, bool has_credentials) {
  auto scheme_end = smtp_url.find("://");
  std::string_view scheme =
      scheme_end == std::string_view::npos ? std::string_view() : smtp_url.substr(0, scheme_end);
  if (scheme == "smtps") return {SmtpTls::kImplicit, ""};
  if (scheme == "smtp") {
    return {has_credentials ? SmtpTls::kStartTlsRequired : SmtpTls::kOpportunistic, ""};
  }
  return {SmtpTls::kStartTlsRequired,
          "billing.mail.smtp_url must start with smtp:// or smtps://, got '" +
              std::string(smtp_url) + "'"};
}

}  // namespace ates::billing
