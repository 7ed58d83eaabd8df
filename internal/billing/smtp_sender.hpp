#pragma once

#include <string>

#include "mailer.hpp"

namespace ates::billing {

// Sends one message to `to` through settings.smtp_url (libcurl). Credentials
// go only over TLS (smtp_security.hpp). Throws MailError: permanent for a 5xx
// refusal, a login refused or a configuration that would send credentials in
// clear; transient for anything else.
void SendOverSmtp(const MailSettings& settings, const std::string& to, const std::string& message);

}  // namespace ates::billing
