#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "ates/platform/pg.hpp"

namespace ates::billing {

struct MailSettings {
  std::string smtp_url;  // e.g. smtp://mail:25; empty: write .eml files to `dir`
  std::string smtp_user;
  std::string smtp_password;
  std::string from = "billing@ates.local";
  std::string dir = ".run/mail";
  std::chrono::milliseconds poll_interval{1000};
  int max_attempts = 20;
};

// Sends the payout e-mails queued in payout_emails (the notification outbox),
// retrying with back-off. Replicas share the queue (FOR UPDATE SKIP LOCKED).
// A row is marked sent only after delivery; files are named by payout id and
// SMTP messages carry it as Message-ID, so a retry after a crash between
// sending and marking is recognisable as the same e-mail.
class Mailer final {
 public:
  Mailer(MailSettings settings, std::string conninfo);
  ~Mailer();
  void Start();
  void Stop();
  void Notify();

  // Builds the RFC 5322 message (public for tests).
  static std::string Compose(const MailSettings& s, const std::string& payout_id,
                             const std::string& to, const std::string& name,
                             const std::string& business_date, int64_t amount_cents);

 private:
  void Run();
  int SendDue();
  void Deliver(const std::string& payout_id, const std::string& to, const std::string& message);

  MailSettings settings_;
  pg::Connection conn_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
};

std::string FormatCents(int64_t cents);  // 12345 -> "123.45", -5 -> "-0.05"

}  // namespace ates::billing
