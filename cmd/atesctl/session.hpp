#pragma once

// One atesctl invocation's connection state: channels to the daemons, the
// access token, per-call deadlines, error reporting and output.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "args.hpp"
#include "format.hpp"
#include "local_io.hpp"
#include "options.hpp"

namespace google::protobuf {
class Message;
}

namespace ates::ctl {

inline constexpr std::int64_t kMaxPageSize = 500;

// Turns a failed status into a CliError carrying the exit code and the
// diagnostic text (plain words, server message, one line per bad field).
[[noreturn]] void ThrowStatus(const grpc::Status& status, const std::string& target,
                              bool used_token);

class Session final {
 public:
  explicit Session(Options options);

  const Options& options() const { return options_; }
  bool json() const { return options_.output == OutputFormat::kJson; }

  std::shared_ptr<grpc::Channel> Channel(Service service);

  // Runs one call with the deadline and, when `with_token`, the stored token;
  // throws CliError when it fails.
  void Call(Service service, const std::function<grpc::Status(grpc::ClientContext*)>& rpc,
            bool with_token = true);

  // The stored token; CliError (exit 3) when not logged in.
  std::string Token();

  // Prints the response as protobuf JSON, `table()` as text, or `csv()` for -o csv
  // (only commands whose spec says csv get here with -o csv).
  void Emit(const google::protobuf::Message& response, const std::function<std::string()>& table,
            const std::function<std::string()>& csv = nullptr);

 private:
  Options options_;
  std::string traceparent_;  // sent with every call
  std::optional<std::string> token_;
};

// Follows next_page_token until the last page or `limit` items. `rpc` sends one
// page request; `items` returns the response's repeated field.
template <typename Request, typename Response, typename Rpc, typename Items>
Response ListAll(Session& session, Service service, Request request,
                 std::optional<std::int64_t> limit, Rpc rpc, Items items) {
  Response all;
  while (true) {
    std::int64_t want = limit ? *limit - items(all).size() : kMaxPageSize;
    request.set_page_size(static_cast<std::int32_t>(std::min(want, kMaxPageSize)));
    Response page;
    session.Call(service, [&](grpc::ClientContext* ctx) { return rpc(ctx, request, &page); });
    items(all).MergeFrom(items(page));
    all.set_next_page_token(page.next_page_token());
    bool full = limit && items(all).size() >= *limit;
    // A token that repeats would loop forever: stop rather than trust it.
    if (full || page.next_page_token().empty() || page.next_page_token() == request.page_token()) {
      break;
    }
    request.set_page_token(page.next_page_token());
  }
  if (limit && items(all).size() > *limit) {
    items(all).DeleteSubrange(static_cast<int>(*limit),
                              items(all).size() - static_cast<int>(*limit));
  }
  return all;
}

// --limit N when given.
std::optional<std::int64_t> LimitOf(const ParsedArgs& args);

}  // namespace ates::ctl
