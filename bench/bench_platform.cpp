// The platform's event path, end to end on real PostgreSQL and nats-server:
//   1. fill the outbox with N accounts.account.created events (OutboxInsertMany);
//   2. OutboxRelay (batch 2000, retention 0) publishes them to ACCOUNTS until the
//      outbox is empty: events/s;
//   3. a Consumer (batch 1000) applies them with the inbox and a set-based upsert
//      until all are applied: events/s;
//   4. the relay again with a retention (UPDATE published_at instead of DELETE).

#include <google/protobuf/timestamp.pb.h>
#include <nats/nats.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ates/events/accounts/v1/account_events.pb.h"
#include "ates/platform/consumer.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/metrics.hpp"
#include "ates/platform/outbox.hpp"
#include "ates/platform/pg.hpp"
#include "common.hpp"

namespace {

namespace pg = ates::pg;
namespace events = ates::events;
namespace platform = ates::platform;
namespace acc = ates::events::accounts::v1;
using ates::bench::Grouped;
using ates::bench::Note;

constexpr const char* kStream = "ACCOUNTS";
constexpr const char* kEventName = "accounts.account.created";
constexpr const char* kConsumerName = "bench_accounts";
constexpr int kFillChunk = 2000;

constexpr std::string_view kSetup =
    "SET client_min_messages = warning;"
    "TRUNCATE outbox, processed_events, dead_letters;"
    "DROP TABLE IF EXISTS bench_accounts;"
    "CREATE TABLE bench_accounts ("
    " account_id uuid PRIMARY KEY, login text NOT NULL, full_name text NOT NULL,"
    " email text NOT NULL, role int NOT NULL, active bool NOT NULL, version bigint NOT NULL,"
    " updated_at timestamptz NOT NULL DEFAULT now())";
constexpr std::string_view kOutboxCounts =
    "SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM outbox";
constexpr std::string_view kCountInbox =
    "SELECT count(*) FROM processed_events WHERE consumer = $1";
constexpr std::string_view kCountAccounts = "SELECT count(*) FROM bench_accounts";
constexpr std::string_view kCountDead = "SELECT count(*) FROM dead_letters";

// A CUD upsert as a read-model consumer does it: keep the highest version.
constexpr std::string_view kUpsertAccounts =
    "INSERT INTO bench_accounts (account_id, login, full_name, email, role, active, version)"
    " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[],"
    " $6::bool[], $7::bigint[])"
    " ON CONFLICT (account_id) DO UPDATE SET login = EXCLUDED.login,"
    " full_name = EXCLUDED.full_name, email = EXCLUDED.email, role = EXCLUDED.role,"
    " active = EXCLUDED.active, version = EXCLUDED.version, updated_at = now()"
    " WHERE bench_accounts.version < EXCLUDED.version";

class AccountsHandler final : public platform::EventHandler {
 public:
  std::vector<std::pair<std::string, int>> Accepts() const override { return {{kEventName, 1}}; }

  void Apply(pg::Transaction& tx, const std::vector<const platform::InboundEvent*>& evs) override {
    // The newest state per account in this batch (ON CONFLICT may touch a row once).
    std::unordered_map<std::string_view, const acc::AccountState*> latest;
    latest.reserve(evs.size());
    for (const auto* e : evs) {
      const auto& a = e->As<acc::AccountCreated>().account();
      auto [it, inserted] = latest.try_emplace(a.account_id(), &a);
      if (!inserted && it->second->version() < a.version()) it->second = &a;
    }
    std::vector<std::string> ids, logins, names, emails, actives;
    std::vector<int64_t> roles, versions;
    for (const auto& [id, a] : latest) {
      ids.push_back(a->account_id());
      logins.push_back(a->login());
      names.push_back(a->full_name());
      emails.push_back(a->email());
      roles.push_back(a->role());
      actives.push_back(a->active() ? "t" : "f");
      versions.push_back(a->version());
    }
    tx.Exec(kUpsertAccounts,
            {pg::TextArray(ids), pg::TextArray(logins), pg::TextArray(names), pg::TextArray(emails),
             pg::IntArray(roles), pg::TextArray(actives), pg::IntArray(versions)});
    applied_ += static_cast<int64_t>(evs.size());
  }

  int64_t applied() const { return applied_; }

 private:
  std::atomic<int64_t> applied_{0};
};

events::OutgoingEvent MakeEvent(int64_t i) {
  acc::AccountCreated body;
  auto* a = body.mutable_account();
  std::string id = events::NewUuid();
  a->set_account_id(id);
  a->set_login("popug-" + std::to_string(i));
  a->set_full_name("Popug Number " + std::to_string(i) + " of the Bench Flock, " +
                   ates::bench::Payload(i, 64));
  a->set_email("popug-" + std::to_string(i) + "@bench.popug.example");
  a->set_role(ates::common::v1::ROLE_WORKER);
  a->set_active(true);
  a->set_version(1);
  auto now = std::chrono::system_clock::now().time_since_epoch();
  a->mutable_updated_at()->set_seconds(
      std::chrono::duration_cast<std::chrono::seconds>(now).count());
  a->mutable_updated_at()->set_nanos(123000);
  auto e = events::Make(kEventName, 1, body, "account", id);
  e.correlation_id = events::NewUuid();
  return e;
}

uint64_t StreamMsgs(platform::JetStream& js) {
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  ates::bench::CheckNats(js_GetStreamInfo(&info, js.js(), kStream, nullptr, &err), "stream info");
  uint64_t n = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  return n;
}

void Fill(const ates::bench::Settings& s, pg::Pool& pool, std::string_view key,
          std::string_view label) {
  std::vector<std::vector<events::OutgoingEvent>> chunks;
  size_t payload_bytes = 0;
  for (int64_t at = 0; at < s.events; at += kFillChunk) {
    auto& chunk = chunks.emplace_back();
    for (int64_t i = at; i < std::min(s.events, at + kFillChunk); ++i) {
      chunk.push_back(MakeEvent(i));
      payload_bytes += chunk.back().payload.size();
    }
  }
  ates::bench::Stopwatch sw;
  for (const auto& chunk : chunks) {
    auto q = platform::OutboxInsertMany(chunk);
    pool.WithRetry([&](pg::Connection& c) { c.Exec(q.sql, q.params); });
  }
  double secs = sw.Seconds();
  ates::bench::Report(s, key, label, s.events, "events", secs);
  Note("(event body " + std::to_string(payload_bytes / s.events) + " B on average)");
}

// Starts a relay, waits until it has taken every row off the outbox, stops it.
void Relay(const ates::bench::Settings& s, pg::Pool& pool, platform::JetStream& js,
           platform::Metrics& metrics, std::chrono::milliseconds retention, std::string_view key,
           std::string_view label) {
  uint64_t before = StreamMsgs(js);
  platform::RelayOptions ro;
  ro.producer = "ates-auth";  // the only publisher of accounts.> (envelope check)
  ro.batch_size = 2000;
  ro.retention = retention;
  platform::OutboxRelay relay(ro, pool.conninfo(), js, &metrics);
  ates::bench::Stopwatch sw;
  relay.Start();
  while (relay.published() < static_cast<uint64_t>(s.events)) {
    if (sw.Seconds() > 120) {
      throw std::runtime_error("relay: only " + std::to_string(relay.published()) +
                               " events published after 120 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  double secs = sw.Seconds();
  relay.Stop();
  ates::bench::Report(s, key, label, s.events, "events", secs);

  auto counts = pool.WithRetry([&](pg::Connection& c) { return c.Exec(kOutboxCounts); });
  int64_t rows = counts.Int(0, 0), unpublished = counts.Int(0, 1);
  int64_t expect_rows = retention.count() == 0 ? 0 : s.events;
  if (unpublished != 0 || rows != expect_rows) {
    throw std::runtime_error("relay: outbox holds " + std::to_string(rows) + " rows (" +
                             std::to_string(unpublished) + " unpublished), expected " +
                             std::to_string(expect_rows));
  }
  uint64_t stored = StreamMsgs(js) - before;
  if (stored != static_cast<uint64_t>(s.events)) {
    throw std::runtime_error("relay: stream gained " + std::to_string(stored) +
                             " messages, expected " + std::to_string(s.events));
  }
}

void Consume(const ates::bench::Settings& s, pg::Pool& pool, platform::JetStream& js,
             platform::Metrics& metrics) {
  AccountsHandler handler;
  platform::ConsumerOptions co;
  co.name = kConsumerName;
  co.stream = kStream;
  co.batch_size = 1000;
  platform::Consumer consumer(co, js, pool, handler, &metrics);
  ates::bench::Stopwatch sw;
  consumer.Start();
  while (consumer.applied() < static_cast<uint64_t>(s.events)) {
    if (sw.Seconds() > 120) {
      throw std::runtime_error("consumer: only " + std::to_string(consumer.applied()) +
                               " events applied after 120 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  double secs = sw.Seconds();
  consumer.Stop();
  ates::bench::Report(s, "5-consumer", "consumer with inbox (batch 1000, upsert via unnest)",
                      s.events, "events", secs);

  pool.WithRetry([&](pg::Connection& c) {
    int64_t inbox = c.Exec(kCountInbox, {pg::Text(kConsumerName)}).Int(0, 0);
    int64_t accounts = c.Exec(kCountAccounts).Int(0, 0);
    int64_t dead = c.Exec(kCountDead).Int(0, 0);
    if (inbox != s.events || accounts != s.events || dead != 0 || handler.applied() != s.events) {
      throw std::runtime_error("consumer: inbox " + std::to_string(inbox) + ", accounts " +
                               std::to_string(accounts) + ", dead letters " + std::to_string(dead) +
                               ", handler saw " + std::to_string(handler.applied()) +
                               "; expected " + std::to_string(s.events) + " each");
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  try {
    auto s = ates::bench::ParseSettings(argc, argv);
    if (s.pg_url.empty()) throw std::runtime_error("no PostgreSQL URL (ATES_BENCH_PG_URL or --pg)");
    if (s.nats_url.empty()) throw std::runtime_error("no NATS URL (ATES_BENCH_NATS_URL or --nats)");
    ates::log::Init("ates-bench", "error");

    pg::Pool pool(s.pg_url, 4);
    pg::Migrate(pool, pg::PlatformMigrations());
    pool.WithRetry([&](pg::Connection& c) { c.Exec(kSetup); });

    platform::JetStream js(s.nats_url, "ates-bench");
    platform::StreamSpec spec;
    spec.name = kStream;
    spec.subjects = {"accounts.>"};
    js.EnsureStreams({spec});
    jsErrCode err = static_cast<jsErrCode>(0);
    js_DeleteConsumer(js.js(), kStream, kConsumerName, nullptr, &err);  // leftovers, if any
    ates::bench::CheckNats(js_PurgeStream(js.js(), kStream, nullptr, &err), "purge stream");
    platform::Metrics metrics;  // as a daemon has them (not served)

    Fill(s, pool, "4-outbox-fill", "outbox insert (OutboxInsertMany, 2000 events/txn)");
    Relay(s, pool, js, metrics, std::chrono::milliseconds(0), "4-relay",
          "outbox relay (batch 2000, retention 0: DELETE)");
    Consume(s, pool, js, metrics);

    Fill(s, pool, "6-outbox-fill-2", "outbox insert, second fill");
    Relay(s, pool, js, metrics, std::chrono::hours(1), "6-relay-retention",
          "outbox relay (batch 2000, retention 1 h: UPDATE)");

    js_DeleteConsumer(js.js(), kStream, kConsumerName, nullptr, &err);
    pool.WithRetry(
        [&](pg::Connection& c) { c.Exec("DROP TABLE bench_accounts; TRUNCATE outbox"); });
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_platform: %s\n", e.what());
    return 1;
  }
}
