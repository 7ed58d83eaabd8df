#include "smtp_sender.hpp"

#include <curl/curl.h>

#include <cstring>

#include "ates/platform/log.hpp"
#include "smtp_security.hpp"

namespace ates::billing {
namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  size_t left = up->data->size() - up->offset;
  size_t n = std::min(left, size * count);
  std::memcpy(buffer, up->data->data() + up->offset, n);
  up->offset += n;
  return n;
}

}  // namespace

void SendOverSmtp(const MailSettings& settings, const std::string& to, const std::string& message) {
  auto tls = ChooseSmtpTls(settings.smtp_url, !settings.smtp_user.empty());
  if (!tls.error.empty()) {
    log::Error("payout e-mail not sent: mail configuration", {{"error", tls.error}});
    throw MailError(tls.error, /*permanent=*/true);
  }
  CURL* curl = curl_easy_init();
  if (!curl) throw MailError("curl init failed", /*permanent=*/false);
  Upload up{&message};
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
  std::string from = "<" + settings.from + ">";
  curl_easy_setopt(curl, CURLOPT_URL, settings.smtp_url.c_str());
  // With credentials, a server without STARTTLS ends the session before AUTH.
  curl_easy_setopt(curl, CURLOPT_USE_SSL,
                   tls.tls == SmtpTls::kOpportunistic ? CURLUSESSL_TRY : CURLUSESSL_ALL);
  if (!settings.smtp_user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, settings.smtp_user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, settings.smtp_password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &up);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(curl);
  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (rc == CURLE_OK) return;
  if (rc == CURLE_USE_SSL_FAILED) {
    std::string error = "smtp: the mail server at " + settings.smtp_url +
                        " offers no STARTTLS; credentials are never sent in clear (use a server"
                        " with STARTTLS or an smtps:// URL)";
    log::Error("payout e-mail not sent: mail configuration", {{"error", error}});
    throw MailError(error, /*permanent=*/true);
  }
  // Only the server's own 5xx refusal is final; anything else (no connection,
  // a timeout, a 4xx "try later") is retried without counting.
  bool permanent = reply >= 500 || rc == CURLE_LOGIN_DENIED;
  throw MailError(std::string("smtp: ") + curl_easy_strerror(rc) +
                      (reply ? " (reply " + std::to_string(reply) + ")" : ""),
                  permanent);
}

}  // namespace ates::billing
