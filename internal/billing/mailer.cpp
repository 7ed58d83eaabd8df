#include "mailer.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "ates/platform/log.hpp"
#include "billing/queries.hpp"
#include "mail_format.hpp"
#include "smtp_sender.hpp"

namespace ates::billing {
namespace {

// A payout e-mail due now (select_due_emails.sql).
struct DueEmailRow {
  std::string payout_id;
  int64_t amount_cents = 0;
  std::string business_date;
  std::string email;  // "" while the accounts replica has not seen the account
  std::string full_name;
  int attempts = 0;
  static DueEmailRow From(const pg::Row& row) {
    return {row.String("payout_id"),     row.Int("amount_cents"),
            row.String("business_date"), row.String("email"),
            row.String("full_name"),     static_cast<int>(row.Int("attempts"))};
  }
};

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
  pending_ = &prometheus::BuildGauge()
                  .Name("ates_payout_emails_pending")
                  .Help(
                      "Payout e-mails not sent yet that will still be tried (due now or"
                      " waiting for their next attempt).")
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
    tx.Exec(sql::kMarkEmailRetryLater, {pg::Text(id), pg::Text(e.what()), pg::Int(delay)});
    log::Warn("payout e-mail not delivered, will retry",
              {{"payout_id", id}, {"error", e.what()}, {"retry_in_s", std::to_string(delay)}});
    return;
  }
  if (failed_permanent_) failed_permanent_->Increment();
  int delay = std::min(600, 2 << std::min(attempts, 8));
  tx.Exec(sql::kMarkEmailRefused, {pg::Text(id), pg::Text(e.what()), pg::Int(delay)});
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
  auto due = tx.Exec(sql::kSelectDueEmails, {pg::Int(settings_.max_attempts)});
  int sent = 0;
  for (int i = 0; i < due.Rows(); ++i) {
    auto email = DueEmailRow::From(due.At(i));
    const std::string& id = email.payout_id;
    const std::string& to = email.email;
    int attempts = email.attempts;
    try {
      // The accounts replica may not have the account yet: wait for it.
      if (to.empty()) throw MailError("e-mail address not known yet", /*permanent=*/false);
      Deliver(id, to,
              Compose(settings_, id, to, email.full_name, email.business_date, email.amount_cents,
                      std::chrono::system_clock::now()));
      tx.Exec(sql::kMarkEmailSent, {pg::Text(id)});
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

void Mailer::CountPending() {
  constexpr auto kEvery = std::chrono::seconds(5);
  auto now = std::chrono::steady_clock::now();
  if (pending_ == nullptr || now < next_count_) return;
  next_count_ = now + kEvery;
  auto rows = conn_.Exec(sql::kCountPendingEmails, {pg::Int(settings_.max_attempts)});
  pending_->Set(static_cast<double>(rows.At(0).Int("pending")));
}

void Mailer::Loop(platform::Worker& worker, std::stop_token stop) {
  while (!stop.stop_requested()) {
    int sent = 0;
    try {
      conn_.EnsureConnected();
      sent = SendDue();
      CountPending();
      if (sent > 0) log::Info("payout e-mails sent", {{"count", std::to_string(sent)}});
    } catch (const std::exception& e) {
      log::Warn("mailer failed, retrying", {{"error", e.what()}});
    }
    if (sent > 0) continue;
    if (!worker.SleepFor(settings_.poll_interval)) return;
  }
}

}  // namespace ates::billing
