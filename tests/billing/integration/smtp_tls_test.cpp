// Payout mail over SMTP (issue 10, item 9; ADR 16) against a plain-text SMTP
// server on a free loopback port that offers AUTH but no STARTTLS: with
// credentials nothing is sent and the error is permanent; without them the
// message is delivered.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <thread>
#include <vector>

#include "smtp_sender.hpp"

namespace ates::billing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// Answers one SMTP session per connection, never offering STARTTLS, and
// records every line the client sent.
class PlainSmtpServer final {
 public:
  PlainSmtpServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 4);
    thread_ = std::thread([this] { Serve(); });
  }
  ~PlainSmtpServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  void Serve() {
    for (;;) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      Session(c);
      close(c);
    }
  }
  void Say(int c, const std::string& text) { (void)!write(c, text.data(), text.size()); }
  void Session(int c) {
    Say(c, "220 plain.test ESMTP\r\n");
    std::string buffer;
    bool in_data = false;
    char chunk[4096];
    ssize_t n;
    while ((n = read(c, chunk, sizeof chunk)) > 0) {
      buffer.append(chunk, static_cast<size_t>(n));
      size_t eol;
      while ((eol = buffer.find("\r\n")) != std::string::npos) {
        std::string line = buffer.substr(0, eol);
        buffer.erase(0, eol + 2);
        {
          std::lock_guard lock(mu_);
          lines_.push_back(line);
        }
        if (in_data) {
          if (line == ".") {
            in_data = false;
            Say(c, "250 queued\r\n");
          }
          continue;
        }
        if (line.rfind("EHLO", 0) == 0) {
          Say(c, "250-plain.test\r\n250 AUTH PLAIN LOGIN\r\n");
        } else if (line.rfind("DATA", 0) == 0) {
          in_data = true;
          Say(c, "354 go ahead\r\n");
        } else if (line.rfind("QUIT", 0) == 0) {
          Say(c, "221 bye\r\n");
          return;
        } else if (line.rfind("STARTTLS", 0) == 0) {
          Say(c, "502 not implemented\r\n");
        } else {
          Say(c, "250 ok\r\n");
        }
      }
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> lines_;
};

const std::string kMessage = "Subject: test\r\n\r\nhello\r\n";

bool AnyStartsWith(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const auto& l : lines) {
    if (l.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST(SmtpTls, CredentialsAreNeverSentToAServerWithoutStartTls) {
  PlainSmtpServer server;
  MailSettings s;
  s.smtp_url = server.url();
  s.smtp_user = "billing";
  s.smtp_password = "secret-password";
  try {
    SendOverSmtp(s, "popug@example.com", kMessage);
    FAIL() << "sent with credentials over a plain connection";
  } catch (const MailError& e) {
    EXPECT_TRUE(e.permanent()) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("STARTTLS"));
  }
  auto lines = server.lines();
  EXPECT_FALSE(AnyStartsWith(lines, "AUTH")) << "credentials went out in clear";
  EXPECT_FALSE(AnyStartsWith(lines, "MAIL FROM"));
  for (const auto& l : lines) EXPECT_THAT(l, Not(HasSubstr("secret-password")));
}

TEST(SmtpTls, WithoutCredentialsAPlainServerGetsTheMessage) {
  PlainSmtpServer server;
  MailSettings s;
  s.smtp_url = server.url();
  EXPECT_NO_THROW(SendOverSmtp(s, "popug@example.com", kMessage));
  auto lines = server.lines();
  EXPECT_TRUE(AnyStartsWith(lines, "MAIL FROM"));
  EXPECT_THAT(lines, Contains("hello"));
}

TEST(SmtpTls, CredentialsWithAnotherSchemeAreAPermanentConfigurationError) {
  MailSettings s;
  s.smtp_url = "http://127.0.0.1:1";
  s.smtp_user = "billing";
  try {
    SendOverSmtp(s, "popug@example.com", kMessage);
    FAIL() << "sent";
  } catch (const MailError& e) {
    EXPECT_TRUE(e.permanent());
    EXPECT_THAT(e.what(), HasSubstr("smtp:// or smtps://"));
  }
}

}  // namespace
}  // namespace ates::billing
