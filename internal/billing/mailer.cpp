#include "mailer.hpp"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "ates/platform/log.hpp"
#include "mail_format.hpp"
#include "smtp_sender.hpp"

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
  absl::MutexLock lock(&worker_mu_);
  if (worker_) return;
  worker_ = std::make_unique<platform::Worker>(
      "mailer", [this](platform::Worker& w, std::stop_token s) { Loop(w, s); });
}

void Mailer::Stop() {
  std::unique_ptr<platform::Worker> worker;
  {
    absl::MutexLock lock(&worker_mu_);
    worker = std::move(worker_);
  }
  worker.reset();  // joins outside the lock, which Notify() takes
}

void Mailer::Notify() {
  absl::MutexLock lock(&worker_mu_);
  if (worker_) worker_->Wake();
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
  SendOverSmtp(settings_, to, message);
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

void Mailer::Loop(platform::Worker& worker, std::stop_token stop) {
  while (!stop.stop_requested()) {
    int sent = 0;
    try {
      conn_.EnsureConnected();
      sent = SendDue();
      if (sent > 0) log::Info("payout e-mails sent", {{"count", std::to_string(sent)}});
    } catch (const std::exception& e) {
      log::Warn("mailer failed, retrying", {{"error", e.what()}});
    }
    if (sent > 0) continue;
    if (!worker.SleepFor(settings_.poll_interval)) return;
  }
}

}  // namespace ates::billing
