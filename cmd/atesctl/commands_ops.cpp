// dlq list|replay: DeadLetterService, served by every daemon that consumes events.

#include <google/protobuf/util/json_util.h>

#include <iostream>

#include "ates/ops/v1/dead_letter_service.grpc.pb.h"
#include "commands.hpp"

namespace ates::ctl {
namespace {

namespace v1 = ates::ops::v1;

// The daemons with consumers, in the order their dead letters are shown.
const std::vector<std::string> kConsumingServices = {"tasks", "billing", "analytics"};

Service ServiceNamed(const std::string& name) {
  for (const auto& info : kServices) {
    if (name == info.name) return info.service;
  }
  throw UsageError("unknown service '" + name + "'");
}

// --service S, or every daemon that consumes events.
std::vector<std::string> ServicesOf(const ParsedArgs& args) {
  if (!args.Has("service")) return kConsumingServices;
  return {OneOf("--service", args.Get("service"), kConsumingServices)};
}

FlagSpec ServiceFlag() {
  return {"service", '\0', "NAME", "tasks, billing or analytics (default: all three)"};
}

std::string Json(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.always_print_primitive_fields = true;
  std::string text;
  auto status = google::protobuf::util::MessageToJsonString(m, &text, print);
  if (!status.ok()) throw CliError(kExitError, "cannot print JSON: " + status.ToString());
  return text;
}

// JSON: {"tasks": {...}, "billing": {...}}, one response per service.
void PrintJson(const std::vector<std::pair<std::string, std::string>>& per_service) {
  std::cout << "{";
  for (size_t i = 0; i < per_service.size(); ++i) {
    std::cout << (i ? ",\n" : "\n") << "\"" << per_service[i].first
              << "\": " << per_service[i].second;
  }
  std::cout << "}\n" << std::flush;
}

int List(Session& session, const ParsedArgs& args) {
  Table t({{"SERVICE"},
           {"ID", Table::Align::kRight},
           {"CONSUMER"},
           {"EVENT"},
           {"EVENT ID"},
           {"ATTEMPTS", Table::Align::kRight},
           {"PARKED"},
           {"REASON"}});
  std::vector<std::pair<std::string, std::string>> json;
  for (const auto& name : ServicesOf(args)) {
    Service service = ServiceNamed(name);
    auto stub = v1::DeadLetterService::NewStub(session.Channel(service));
    auto all = ListAll<v1::ListDeadLettersRequest, v1::ListDeadLettersResponse>(
        session, service, v1::ListDeadLettersRequest{}, LimitOf(args),
        [&](grpc::ClientContext* ctx, const auto& req, auto* page) {
          return stub->ListDeadLetters(ctx, req, page);
        },
        [](auto& r) -> auto& { return *r.mutable_dead_letters(); });
    for (const auto& d : all.dead_letters()) {
      t.AddRow({name, std::to_string(d.id()), d.consumer(),
                d.event_name() + " v" + d.event_version(), d.event_id(),
                std::to_string(d.attempts()), FormatUnixTime(d.dead_lettered_at().seconds()),
                d.reason()});
    }
    json.emplace_back(name, Json(all));
  }
  if (session.json()) {
    PrintJson(json);
  } else {
    std::cout << t.Render() << std::flush;
  }
  return kExitOk;
}

std::string OutcomeName(v1::ReplayOutcome outcome) {
  switch (outcome) {
    case v1::REPLAY_OUTCOME_APPLIED:
      return "applied";
    case v1::REPLAY_OUTCOME_ALREADY_APPLIED:
      return "already applied";
    case v1::REPLAY_OUTCOME_FAILED:
      return "failed";
    case v1::REPLAY_OUTCOME_NOT_FOUND:
      return "not found";
    default:
      return "unspecified";
  }
}

int Replay(Session& session, const ParsedArgs& args) {
  const bool all = args.Has("all");
  const std::string id_text = args.Positional(0);
  if (all == !id_text.empty()) throw UsageError("give a dead letter ID or --all");
  if (!all && !args.Has("service")) {
    throw UsageError("an ID is one daemon's: name it with --service");
  }
  v1::ReplayDeadLettersRequest req;
  if (all) {
    req.set_all(true);
  } else {
    req.add_ids(ParsePositive("ID", id_text));
  }
  Table t({{"SERVICE"}, {"ID", Table::Align::kRight}, {"EVENT ID"}, {"OUTCOME"}, {"REASON"}});
  std::vector<std::pair<std::string, std::string>> json;
  int code = kExitOk;
  for (const auto& name : ServicesOf(args)) {
    Service service = ServiceNamed(name);
    auto stub = v1::DeadLetterService::NewStub(session.Channel(service));
    v1::ReplayDeadLettersResponse resp;
    session.Call(service, [&](grpc::ClientContext* ctx) {
      return stub->ReplayDeadLetters(ctx, req, &resp);
    });
    for (const auto& r : resp.results()) {
      t.AddRow({name, std::to_string(r.id()), r.event_id(), OutcomeName(r.outcome()), r.reason()});
      if (r.outcome() == v1::REPLAY_OUTCOME_FAILED) code = kExitConflict;
      if (r.outcome() == v1::REPLAY_OUTCOME_NOT_FOUND && code == kExitOk) code = kExitNotFound;
    }
    json.emplace_back(name, Json(resp));
  }
  if (session.json()) {
    PrintJson(json);
  } else {
    std::cout << t.Render() << std::flush;
  }
  if (code == kExitConflict) std::cerr << "atesctl: some events were refused again\n";
  if (code == kExitNotFound) std::cerr << "atesctl: no such dead letter waiting for a replay\n";
  return code;
}

}  // namespace

std::vector<Command> OpsCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {{.path = {"dlq", "list"},
        .summary = "List the events the consumers refused (dead letters), with why (admin).",
        .flags = {ServiceFlag(), LimitFlag()},
        .example = "atesctl dlq list --service billing"},
       List});
  commands.push_back(
      {{.path = {"dlq", "replay"},
        .summary = "Apply dead letters again through their consumer's inbox (admin).",
        .flags = {ServiceFlag(), {"all", '\0', "", "every dead letter not yet replayed"}},
        .positionals = {{"ID", false, "a dead letter's id from `dlq list` (needs --service)"}},
        .example = "atesctl dlq replay --service billing 42",
        .details = "An event the inbox has already applied is not applied again. Exit code 8 "
                   "when an event is refused again (the dead letter stays), 5 when no such "
                   "dead letter waits."},
       Replay});
  return commands;
}

}  // namespace ates::ctl
