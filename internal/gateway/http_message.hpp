#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ates::gateway {

// One HTTP request as the gateway's handlers see it: the whole body read.
struct HttpRequest {
  std::string method;    // "GET", "POST", ...
  std::string path;      // decoded path, no query string, dot segments removed
  std::string raw_path;  // decoded path as sent (dot segments kept), for refusing ".."
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  // The header's value, or "" when absent.
  const std::string& Header(const std::string& lower_name) const;
};

// The answer; HttpServer adds the security headers to every response.
struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The Connect code of an API answer ("ok", "invalid_argument", ...), for
  // metrics; "" for static files.
  std::string connect_code;

  void SetHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

}  // namespace ates::gateway
