#pragma once
// The five real daemons (SystemUnderTest) and a real ates-gateway in front of
// them on free ports, with a small built web app in the stack's folder. Connect
// calls in JSON or binary, typed by the generated messages.

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "http_client.hpp"
#include "support/policy_helpers.hpp"

#ifndef ATES_GATEWAY_BIN
#error "ATES_GATEWAY_BIN must be defined by the build"
#endif

namespace ates::test {

enum class Encoding { kJson, kProto };
inline const char* Name(Encoding e) { return e == Encoding::kJson ? "json" : "proto"; }

// One Connect answer: HTTP status, Set-Cookie, and either the decoded reply or
// the Connect error body.
template <class Resp>
struct Connect {
  HttpAnswer http;
  Resp reply;
  bool ok() const { return http.status == 200; }
};

class Gateway final {
 public:
  Gateway(SystemUnderTest& system, std::map<std::string, std::string> env = {}) {
    auto& stack = TestStack::Get();
    web_root_ = stack.dir() + "/web-" + std::to_string(++counter_);
    std::filesystem::create_directories(web_root_ + "/assets");
    std::ofstream(web_root_ + "/index.html") << "<!doctype html><title>aTES test app</title>\n";
    std::ofstream(web_root_ + "/assets/app-1234.js") << "console.log('app');\n";
    std::ofstream(stack.dir() + "/secret.txt") << "not for the web\n";
    http_port_ = FreePort();
    DaemonOptions o;
    o.name = "ates-gateway-" + std::to_string(counter_);
    o.binary = ATES_GATEWAY_BIN;
    o.config = SourcePath("config/ates-gateway.yaml");
    o.env = {{"ATES_GATEWAY_LISTEN", "127.0.0.1:" + std::to_string(http_port_)},
             {"ATES_GATEWAY_WEB_ROOT", web_root_}};
    const char* names[] = {"auth", "tasks", "billing", "analytics", "scheduler"};
    for (const char* n : names) {
      o.env[std::string("ATES_GATEWAY_UPSTREAMS_") + Upper(n)] =
          system.daemons.at(std::string("ates-") + n)->target();
    }
    for (auto& [k, v] : env) o.env[k] = v;
    daemon_ = std::make_unique<Daemon>(std::move(o));
    daemon_->Start();
  }

  int http_port() const { return http_port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(http_port_); }
  Daemon& daemon() { return *daemon_; }

  // POST path with Connect-Protocol-Version: 1; `cookie` as the session, if any.
  template <class Resp, class Req>
  Connect<Resp> Call(const std::string& path, const Req& request, Encoding e,
                     const std::string& cookie = "") {
    HttpClient client(url());
    std::vector<std::string> headers = {"Connect-Protocol-Version: 1"};
    std::string body;
    if (e == Encoding::kJson) {
      headers.push_back("Content-Type: application/json");
      (void)google::protobuf::util::MessageToJsonString(request, &body);
    } else {
      headers.push_back("Content-Type: application/proto");
      body = request.SerializeAsString();
    }
    if (!cookie.empty()) headers.push_back("Cookie: ates_session=" + cookie);
    Connect<Resp> out;
    out.http = client.Post(path, body, headers);
    if (out.ok()) Decode(out.http.body, e, out.reply);
    return out;
  }

  // The session token a Set-Cookie header sets ("" when none).
  static std::string SessionOf(const HttpAnswer& a) {
    std::string c = a.Header("set-cookie");
    const std::string prefix = "ates_session=";
    if (c.rfind(prefix, 0) != 0) return "";
    return c.substr(prefix.size(), c.find(';') - prefix.size());
  }

 private:
  template <class Resp>
  static void Decode(const std::string& body, Encoding e, Resp& reply) {
    if (e == Encoding::kJson) {
      auto s = google::protobuf::util::JsonStringToMessage(body, &reply);
      ASSERT_TRUE(s.ok()) << "reply is not " << reply.GetTypeName() << " JSON: " << body;
    } else {
      ASSERT_TRUE(reply.ParseFromString(body)) << "reply is not a " << reply.GetTypeName();
    }
  }
  static std::string Upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }

  static inline int counter_ = 0;
  std::string web_root_;
  int http_port_ = 0;
  std::unique_ptr<Daemon> daemon_;
};

}  // namespace ates::test
