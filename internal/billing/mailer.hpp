#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "ates/platform/pg.hpp"
#include "ates/platform/worker.hpp"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace ates::billing {

struct MailSettings {
  std::string smtp_url;  // e.g. smtp://mail:25; empty: write .eml files to `dir`
  // With a user, STARTTLS is required on smtp:// (smtps:// is TLS throughout):
  // credentials are never sent in clear.
  std::string smtp_user;
  std::string smtp_password;
  std::string from = "billing@ates.local";
  std::string dir = ".run/mail";
  std::chrono::milliseconds poll_interval{1000};
  int max_attempts = 20;  // permanent refusals before an e-mail is abandoned
};

// Why an e-mail was not delivered. Transient (the mail server unreachable, a
// timeout, a 4xx reply, the address not known yet) is retried for as long as it
// takes and never counts; permanent (a 5xx refusal) counts toward max_attempts.
class MailError final : public std::runtime_error {
 public:
  MailError(const std::string& what, bool permanent)
      : std::runtime_error(what), permanent_(permanent) {}
  bool permanent() const { return permanent_; }

 private:
  bool permanent_;
};

// Sends the payout e-mails queued in payout_emails (the notification outbox),
// retrying with back-off. Replicas share the queue (FOR UPDATE SKIP LOCKED).
// A row is marked sent only after delivery; files are named by payout id and
// SMTP messages carry it as Message-ID, so a retry after a crash between
// sending and marking is recognisable as the same e-mail.
class Mailer final {
 public:
  // `registry` (optional) gets the e-mail counters.
  Mailer(MailSettings settings, std::string conninfo, prometheus::Registry* registry = nullptr);
  ~Mailer();
  // Starts the "mailer" worker; Stop() (or the destructor) joins it.
  void Start();
  void Stop();
  // Sends due e-mails now (after a payout committed); safe from any thread.
  void Notify();

  // Builds the RFC 5322 message (public for tests); `date` is its Date: header.
  static std::string Compose(const MailSettings& s, const std::string& payout_id,
                             const std::string& to, const std::string& name,
                             const std::string& business_date, int64_t amount_cents,
                             std::chrono::system_clock::time_point date);

 private:
  void Loop(platform::Worker& worker, std::stop_token stop);
  int SendDue();
  // Sets ates_payout_emails_pending, at most every few seconds.
  void CountPending();
  void Deliver(const std::string& payout_id, const std::string& to, const std::string& message);
  void CountFailure(const std::string& payout_id, const MailError& e, int attempts,
                    pg::Transaction& tx);

  MailSettings settings_;
  pg::Connection conn_;       // the worker's
  int transient_streak_ = 0;  // transient failures in a row (the worker's)
  absl::Mutex worker_mu_;
  // Notify() wakes it from consumer threads while Start/Stop run.
  std::unique_ptr<platform::Worker> worker_ ABSL_GUARDED_BY(worker_mu_);
  prometheus::Counter* sent_ = nullptr;
  prometheus::Counter* failed_transient_ = nullptr;
  prometheus::Counter* failed_permanent_ = nullptr;
  prometheus::Counter* abandoned_ = nullptr;
  prometheus::Gauge* pending_ = nullptr;
  std::chrono::steady_clock::time_point next_count_{};  // the worker's
};

std::string FormatCents(int64_t cents);  // 12345 -> "123.45", -5 -> "-0.05"

}  // namespace ates::billing
