#pragma once
// A small HTTP/1.1 client over libcurl for the gateway suites: one keep-alive
// connection per client, headers of the answer by lower-case name.

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace ates::test {

struct HttpAnswer {
  long status = 0;                                  // 0: the request failed (see error)
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;

  // The first value of `name` (lower case), or "".
  std::string Header(const std::string& name) const;
};

class HttpClient final {
 public:
  explicit HttpClient(std::string base_url);  // "http://127.0.0.1:PORT"
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpAnswer Get(const std::string& path, const std::vector<std::string>& headers = {});
  // `headers` as "Name: value" lines.
  HttpAnswer Post(const std::string& path, const std::string& body,
                  const std::vector<std::string>& headers);

 private:
  HttpAnswer Perform(const std::string& path, const std::vector<std::string>& headers);

  std::string base_url_;
  void* curl_;
};

// Sends `head` (request line and headers, CRLF-terminated, ending with an empty
// line), waits `pause`, sends `body`, and returns the raw answer (for requests
// a client library would not send: a late body, a raw path).
std::string RawExchange(int port, const std::string& head, std::chrono::milliseconds pause,
                        const std::string& body);

}  // namespace ates::test
