#include "mailer.hpp"

#include <curl/curl.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "ates/platform/log.hpp"
#include "mail_format.hpp"
#include "smtp_security.hpp"

namespace ates::billing {
namespace {

constexpr std::string_view kDue =
    "SELECT e.payout_id, e.amount_cents, e.business_date::text, COALESCE(a.email, ''),"
    " COALESCE(a.full_name, ''), e.attempts"
    " FROM payout_emails e LEFT JOIN accounts_replica a ON a.id = e.account_id"
    " WHERE e.sent_at IS NULL AND e.next_attempt_at <= now() AND e.attempts < $1"
    " ORDER BY e.next_attempt_at LIMIT 50 FOR UPDATE OF e SKIP LOCKED";
constexpr std::string_view kSent =
    "UPDATE payout_emails SET sent_at = now(), attempts = attempts + 1, last_error = NULL"
    " WHERE payout_id = $1";
constexpr std::string_view kFailed =
    "UPDATE payout_emails SET attempts = attempts + 1, last_error = $2,"
    " next_attempt_at = now() + make_interval(secs => $3) WHERE payout_id = $1";
// A transient failure: later again, without spending an attempt.
constexpr std::string_view kRetryLater =
    "UPDATE payout_emails SET last_error = $2, next_attempt_at = now() + make_interval(secs => $3)"
    " WHERE payout_id = $1";

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

std::string FormatCents(int64_t cents) {
  bool negative = cents < 0;
  uint64_t abs = negative ? static_cast<uint64_t>(-(cents + 1)) + 1 : static_cast<uint64_t>(cents);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%llu.%02llu", negative ? "-" : "",
                static_cast<unsigned long long>(abs / 100),
                static_cast<unsigned long long>(abs % 100));
  return buf;
}

Mailer::Mailer(MailSettings settings, std::string conninfo, prometheus::Registry* registry)
    : settings_(std::move(settings)), conn_(std::move(conninfo)) {
  if (registry == nullptr) return;
  auto& sent = prometheus::BuildCounter()
                   .Name("ates_payout_emails_sent_total")
                   .Help("Payout e-mails delivered.")
                   .Register(*registry);
  sent_ = &sent.Add({});
  auto& failed = prometheus::BuildCounter()
                     .Name("ates_payout_emails_failed_total")
                     .Help(
                         "Payout e-mail deliveries that failed, by kind (transient failures"
                         " are retried for ever, permanent ones up to max_attempts).")
                     .Register(*registry);
  failed_transient_ = &failed.Add({{"kind", "transient"}});
  failed_permanent_ = &failed.Add({{"kind", "permanent"}});
  abandoned_ = &prometheus::BuildCounter()
                    .Name("ates_payout_emails_abandoned_total")
                    .Help("Payout e-mails given up after max_attempts permanent refusals.")
                    .Register(*registry)
                    .Add({});
}

Mailer::~Mailer() { Stop(); }

void Mailer::Start() {
  running_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Mailer::Stop() {
  if (!running_.exchange(false)) return;
  Notify();
  if (thread_.joinable()) thread_.join();
}

void Mailer::Notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  cv_.notify_one();
}

std::string Mailer::Compose(const MailSettings& s, const std::string& payout_id,
                            const std::string& to, const std::string& name,
                            const std::string& business_date, int64_t amount_cents,
                            std::chrono::system_clock::time_point date) {
  std::string amount = FormatCents(amount_cents);
  std::string m;
  m += "From: " + FormatMailbox("aTES Billing", s.from) + "\r\n";
  m += "To: " + FormatMailbox(name, to) + "\r\n";
  m += "Date: " + FormatMailDate(date) + "\r\n";
  m += "Subject: Your aTES payout for " + business_date + ": $" + amount + "\r\n";
  m += "Message-ID: <payout-" + payout_id + "@ates.local>\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "\r\n";
  std::string greeting_name = WithoutControls(name);
  m += "Hello" + (greeting_name.empty() ? std::string() : " " + greeting_name) + ",\r\n\r\n";
  m += "for business day " + business_date + " you were paid $" + amount + ".\r\n";
  m += "Payout id: " + payout_id + "\r\n\r\n-- aTES billing\r\n";
  return m;
}

void Mailer::Deliver(const std::string& payout_id, const std::string& to,
                     const std::string& message) {
  if (settings_.smtp_url.empty()) {
    std::filesystem::create_directories(settings_.dir);
    auto path = std::filesystem::path(settings_.dir) / ("payout-" + payout_id + ".eml");
    auto tmp = path;
    tmp += ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << message;
      if (!out) throw MailError("cannot write " + tmp.string(), /*permanent=*/false);
    }
    std::filesystem::rename(tmp, path);
    return;
  }
  SendOverSmtp(to, message);
}

void Mailer::SendOverSmtp(const std::string& to, const std::string& message) {
  auto tls = ChooseSmtpTls(settings_.smtp_url, !settings_.smtp_user.empty());
  if (!tls.error.empty()) {
    log::Error("payout e-mail not sent: mail configuration", {{"error", tls.error}});
    throw MailError(tls.error, /*permanent=*/true);
  }
  CURL* curl = curl_easy_init();
  if (!curl) throw MailError("curl init failed", /*permanent=*/false);
  Upload up{&message};
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
  std::string from = "<" + settings_.from + ">";
  curl_easy_setopt(curl, CURLOPT_URL, settings_.smtp_url.c_str());
  // With credentials, a server without STARTTLS ends the session before AUTH.
  curl_easy_setopt(curl, CURLOPT_USE_SSL,
                   tls.tls == SmtpTls::kOpportunistic ? CURLUSESSL_TRY : CURLUSESSL_ALL);
  if (!settings_.smtp_user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.smtp_user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.smtp_password.c_str());
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
    std::string error = "smtp: the mail server at " + settings_.smtp_url +
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

void Mailer::CountFailure(const std::string& id, const MailError& e, int attempts,
                          pg::Transaction& tx) {
  if (!e.permanent()) {
    if (failed_transient_) failed_transient_->Increment();
    int delay = std::min(300, 2 << std::min(transient_streak_++, 8));
    tx.Exec(kRetryLater, {pg::Text(id), pg::Text(e.what()), pg::Int(delay)});
    log::Warn("payout e-mail not delivered, will retry",
              {{"payout_id", id}, {"error", e.what()}, {"retry_in_s", std::to_string(delay)}});
    return;
  }
  if (failed_permanent_) failed_permanent_->Increment();
  int delay = std::min(600, 2 << std::min(attempts, 8));
  tx.Exec(kFailed, {pg::Text(id), pg::Text(e.what()), pg::Int(delay)});
  if (attempts + 1 >= settings_.max_attempts) {
    if (abandoned_) abandoned_->Increment();
    log::Error(
        "payout e-mail abandoned after repeated refusals",
        {{"payout_id", id}, {"error", e.what()}, {"attempts", std::to_string(attempts + 1)}});
    return;
  }
  log::Warn("payout e-mail refused, will retry",
            {{"payout_id", id}, {"error", e.what()}, {"retry_in_s", std::to_string(delay)}});
}

int Mailer::SendDue() {
  pg::Transaction tx(conn_);
  auto due = tx.Exec(kDue, {pg::Int(settings_.max_attempts)});
  int sent = 0;
  for (int i = 0; i < due.Rows(); ++i) {
    std::string id = due.String(i, 0);
    std::string to = due.String(i, 3);
    int attempts = static_cast<int>(due.Int(i, 5));
    try {
      // The accounts replica may not have the account yet: wait for it.
      if (to.empty()) throw MailError("e-mail address not known yet", /*permanent=*/false);
      Deliver(id, to,
              Compose(settings_, id, to, due.String(i, 4), due.String(i, 2), due.Int(i, 1),
                      std::chrono::system_clock::now()));
      tx.Exec(kSent, {pg::Text(id)});
      ++sent;
      transient_streak_ = 0;
      if (sent_) sent_->Increment();
    } catch (const MailError& e) {
      CountFailure(id, e, attempts, tx);
    } catch (const std::filesystem::filesystem_error& e) {
      CountFailure(id, MailError(e.what(), /*permanent=*/false), attempts, tx);
    }
  }
  tx.Commit();
  return sent;
}

void Mailer::Run() {
  while (running_) {
    int sent = 0;
    try {
      conn_.EnsureConnected();
      sent = SendDue();
      if (sent > 0) log::Info("payout e-mails sent", {{"count", std::to_string(sent)}});
    } catch (const std::exception& e) {
      log::Warn("mailer failed, retrying", {{"error", e.what()}});
    }
    if (sent > 0) continue;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, settings_.poll_interval, [&] { return notified_ || !running_; });
    notified_ = false;
  }
}

}  // namespace ates::billing
