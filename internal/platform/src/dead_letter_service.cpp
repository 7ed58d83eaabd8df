#include "ates/platform/dead_letter_service.hpp"

#include <google/protobuf/util/time_util.h>

#include <charconv>

#include "ates/platform/page_token.hpp"
#include "ates/platform/queries.hpp"
#include "ates/platform/rpc_status.hpp"

namespace ates::platform {
namespace {

namespace v1 = ops::v1;

// Replay --all takes at most this many per call (an operator runs it again).
constexpr int kMaxReplayAll = 10000;

// A row of dead_letter_list_waiting.sql as the API shows it.
void ReadWaiting(const pg::Row& row, v1::DeadLetter& d) {
  d.set_id(row.Int("id"));
  d.set_consumer(row.String("consumer"));
  d.set_event_id(row.String("event_id"));
  d.set_subject(row.String("subject"));
  d.set_event_name(row.String("event_type"));
  d.set_event_version(row.String("event_version"));
  d.set_stream_sequence(static_cast<uint64_t>(row.Int("stream_seq")));
  d.set_attempts(static_cast<int32_t>(row.Int("deliveries")));
  d.set_reason(row.String("reason"));
  *d.mutable_dead_lettered_at() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      static_cast<int64_t>(std::stod(row.String("created_at_s")) * 1e6));
}

// The dead letter id a page starts after (0 on the first page).
int64_t PageStart(const PageRequest& page) {
  if (!page.cursor()) return 0;
  const std::string& cursor = *page.cursor();
  int64_t after = 0;
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), after);
  if (ec != std::errc() || end != cursor.data() + cursor.size() || after < 0) ThrowBadPageToken();
  return after;
}

v1::ReplayOutcome ToProto(ReplayOutcome::Kind kind) {
  switch (kind) {
    case ReplayOutcome::Kind::kApplied:
      return v1::REPLAY_OUTCOME_APPLIED;
    case ReplayOutcome::Kind::kAlreadyApplied:
      return v1::REPLAY_OUTCOME_ALREADY_APPLIED;
    case ReplayOutcome::Kind::kFailed:
      return v1::REPLAY_OUTCOME_FAILED;
    case ReplayOutcome::Kind::kNotFound:
      return v1::REPLAY_OUTCOME_NOT_FOUND;
  }
  return v1::REPLAY_OUTCOME_UNSPECIFIED;
}

}  // namespace

DeadLetterGrpcService::DeadLetterGrpcService(pg::Pool& db, FindConsumer find)
    : db_(db), find_(std::move(find)) {}

ServicePolicy DeadLetterGrpcService::Policy() {
  return ServicePolicy::For<ops::v1::DeadLetterService>()
      .Roles("ListDeadLetters", {auth::Role::kAdmin})
      .Roles("ReplayDeadLetters", {auth::Role::kAdmin});
}

grpc::Status DeadLetterGrpcService::ListDeadLetters(grpc::ServerContext* ctx,
                                                    const v1::ListDeadLettersRequest* req,
                                                    v1::ListDeadLettersResponse* resp) {
  return Handle(*ctx, [&] {
    auto page =
        PageRequest::Read(req->page_size(), req->page_token(), PageFilter("ListDeadLetters"));
    int64_t after = PageStart(page);
    int limit = page.limit();
    auto rows = db_.WithRetry([&](pg::Connection& c) {
      return c.Exec(sql::kDeadLetterListWaiting, {pg::Int(after), pg::Int(limit + 1)});
    });
    int n = std::min(rows.Rows(), limit);
    for (int i = 0; i < n; ++i) ReadWaiting(rows.At(i), *resp->add_dead_letters());
    if (rows.Rows() > limit) {
      resp->set_next_page_token(page.NextToken(std::to_string(rows.At(limit - 1).Int("id"))));
    }
  });
}

grpc::Status DeadLetterGrpcService::ReplayDeadLetters(grpc::ServerContext* ctx,
                                                      const v1::ReplayDeadLettersRequest* req,
                                                      v1::ReplayDeadLettersResponse* resp) {
  return Handle(*ctx, [&] {
    Validator v;
    v.Check(req->all() != (req->ids_size() > 0), "ids", "give dead letter ids, or all, not both");
    v.ThrowIfInvalid();
    std::vector<std::pair<int64_t, std::string>> targets;  // id, consumer ("" = not waiting)
    db_.WithRetry([&](pg::Connection& c) {
      targets.clear();
      if (req->all()) {
        auto rows = c.Exec(sql::kDeadLetterAllWaiting, {pg::Int(kMaxReplayAll)});
        for (int i = 0; i < rows.Rows(); ++i) {
          auto row = rows.At(i);
          targets.emplace_back(row.Int("id"), row.String("consumer"));
        }
        return;
      }
      for (int64_t id : req->ids()) {
        auto rows = c.Exec(sql::kDeadLetterConsumerOf, {pg::Int(id)});
        targets.emplace_back(id, rows.Rows() ? rows.At(0).String("consumer") : "");
      }
    });
    for (const auto& [id, consumer_name] : targets) {
      auto* r = resp->add_results();
      r->set_id(id);
      ReplayOutcome outcome;
      if (!consumer_name.empty()) {
        if (Consumer* consumer = find_(consumer_name)) {
          outcome = consumer->Replay(id);
        } else {
          outcome.kind = ReplayOutcome::Kind::kFailed;
          outcome.reason = "this daemon has no consumer named " + consumer_name;
        }
      }
      r->set_event_id(outcome.event_id);
      r->set_outcome(ToProto(outcome.kind));
      r->set_reason(outcome.reason);
    }
  });
}

}  // namespace ates::platform
