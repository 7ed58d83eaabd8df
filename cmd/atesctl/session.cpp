#include "session.hpp"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <iostream>

#include "ates/platform/tls_channel.hpp"
#include "ates/platform/trace_context.hpp"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace ates::ctl {
namespace {

// Field violations from google.rpc.BadRequest in the status details.
std::string Violations(const grpc::Status& status) {
  google::rpc::Status rich;
  if (status.error_details().empty() || !rich.ParseFromString(status.error_details())) return "";
  std::string lines;
  for (const auto& any : rich.details()) {
    google::rpc::BadRequest bad;
    if (!any.UnpackTo(&bad)) continue;
    for (const auto& v : bad.field_violations()) {
      lines += "\n  " + v.field() + ": " + v.description();
    }
  }
  return lines;
}

std::string Hint(grpc::StatusCode code, bool used_token) {
  if (code == grpc::StatusCode::UNAUTHENTICATED && used_token) {
    return "\n  (log in again: atesctl login)";
  }
  return "";
}

}  // namespace

void ThrowStatus(const grpc::Status& status, const std::string& target, bool used_token) {
  grpc::StatusCode code = status.error_code();
  std::string words = PlainWords(code);
  if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED) {
    words += " (" + target + ")";
  }
  throw CliError(ExitCodeFor(code), words + ": " + status.error_message() + Violations(status) +
                                        Hint(code, used_token));
}

Session::Session(Options options)
    : options_(std::move(options)),
      traceparent_(trace::ContinueOrStart(options_.parent_traceparent).Traceparent()) {
  if (options_.print_trace) {
    std::cerr << "atesctl: trace_id " << trace::Parse(traceparent_)->trace_id << "\n";
  }
}

std::shared_ptr<grpc::Channel> Session::Channel(Service service) {
  platform::ClientTls tls{options_.tls_ca, options_.tls_cert, options_.tls_key,
                          options_.tls_server_name};
  try {
    return platform::CreateClientChannel(options_.Address(service), tls);
  } catch (const std::runtime_error& e) {
    throw CliError(kExitUsage, e.what());
  }
}

void Session::Call(Service service, const std::function<grpc::Status(grpc::ClientContext*)>& rpc,
                   bool with_token) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + options_.timeout);
  if (with_token) ctx.AddMetadata("authorization", "Bearer " + Token());
  ctx.AddMetadata(trace::kTraceparentHeader, traceparent_);
  grpc::Status status = rpc(&ctx);
  if (status.ok()) return;
  const ServiceInfo& info = InfoOf(service);
  ThrowStatus(status, std::string("ates-") + info.name + " at " + options_.Address(service),
              with_token);
}

std::string Session::Token() {
  if (token_) return *token_;
  if (options_.token_file.empty()) {
    throw CliError(kExitUnauthenticated, "not logged in: HOME is not set; use --token-file");
  }
  token_ = ReadToken(options_.token_file);
  if (!token_) {
    throw CliError(kExitUnauthenticated,
                   "not logged in: no token in " + options_.token_file + " (run: atesctl login)");
  }
  return *token_;
}

void Session::Emit(const google::protobuf::Message& response,
                   const std::function<std::string()>& table,
                   const std::function<std::string()>& csv) {
  if (options_.output == OutputFormat::kCsv) {
    if (!csv) throw UsageError("-o csv is not available for this command");
    std::cout << csv() << std::flush;
    return;
  }
  if (!json()) {
    std::cout << table() << std::flush;
    return;
  }
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.always_print_primitive_fields = true;
  std::string text;
  auto status = google::protobuf::util::MessageToJsonString(response, &text, print);
  if (!status.ok()) throw CliError(kExitError, "cannot print JSON: " + status.ToString());
  std::cout << text << std::flush;
}

std::optional<std::int64_t> LimitOf(const ParsedArgs& args) {
  auto limit = args.Find("limit");
  if (!limit) return std::nullopt;
  return ParsePositive("--limit", *limit);
}

}  // namespace ates::ctl
