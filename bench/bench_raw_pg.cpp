// Raw PostgreSQL figures on the same server the platform benchmarks use:
// 500-row transactions (one `INSERT ... SELECT unnest(...)` statement, and 500
// single-row INSERTs sent in one pipeline), and single-row commits on 1 and on
// 8 connections.

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "ates/platform/events.hpp"
#include "ates/platform/pg.hpp"
#include "common.hpp"

namespace {

namespace pg = ates::pg;

constexpr int kRowsPerTxn = 500;

constexpr std::string_view kSetup =
    "SET client_min_messages = warning;"
    "DROP TABLE IF EXISTS bench_raw;"
    "CREATE TABLE bench_raw ("
    " seq bigserial PRIMARY KEY, event_id uuid NOT NULL, payload bytea NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())";
constexpr std::string_view kTruncate = "TRUNCATE bench_raw";
constexpr std::string_view kInsertOne = "INSERT INTO bench_raw (event_id, payload) VALUES ($1, $2)";
constexpr std::string_view kInsertUnnest =
    "INSERT INTO bench_raw (event_id, payload) SELECT * FROM unnest($1::uuid[], $2::bytea[])";
constexpr std::string_view kCount = "SELECT count(*) FROM bench_raw";

struct Rows {
  std::vector<std::string> ids;
  std::vector<std::string> payloads;
};

Rows MakeRows(int64_t n) {
  Rows r;
  r.ids.reserve(n);
  r.payloads.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    r.ids.push_back(ates::events::NewUuid());
    r.payloads.push_back(ates::bench::Payload(i));
  }
  return r;
}

void ExpectCount(pg::Connection& c, int64_t n) {
  int64_t got = c.Exec(kCount).Int(0, 0);
  if (got != n) {
    throw std::runtime_error("bench_raw holds " + std::to_string(got) + " rows, expected " +
                             std::to_string(n));
  }
}

void Unnest(const ates::bench::Settings& s, pg::Connection& c, const Rows& rows) {
  c.Exec(kTruncate);
  const int64_t n = static_cast<int64_t>(rows.ids.size());
  ates::bench::Stopwatch sw;
  for (int64_t at = 0; at < n; at += kRowsPerTxn) {
    int64_t end = std::min(n, at + kRowsPerTxn);
    std::vector<std::string> ids(rows.ids.begin() + at, rows.ids.begin() + end);
    std::vector<std::string> payloads(rows.payloads.begin() + at, rows.payloads.begin() + end);
    c.Exec(kInsertUnnest, {pg::TextArray(ids), pg::BytesArray(payloads)});
  }
  double secs = sw.Seconds();
  ExpectCount(c, n);
  ates::bench::Report(s, "3-pg-unnest", "postgres insert, 500 rows/txn (unnest arrays)", n, "rows",
                      secs);
}

// libpq directly, as raw as it gets: a prepared INSERT, 500 of them sent in one
// pipeline and one sync, which PostgreSQL runs as one implicit transaction.
void Pipeline(const ates::bench::Settings& s, const Rows& rows) {
  PGconn* conn = PQconnectdb(s.pg_url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn));
  auto check = [&](PGresult* r, const char* what) {
    auto st = PQresultStatus(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      throw std::runtime_error(std::string(what) + ": " + PQerrorMessage(conn));
    }
  };
  check(PQexec(conn, std::string(kTruncate).c_str()), "truncate");
  check(PQprepare(conn, "insert_one", std::string(kInsertOne).c_str(), 2, nullptr), "prepare");
  const int64_t n = static_cast<int64_t>(rows.ids.size());
  ates::bench::Stopwatch sw;
  for (int64_t at = 0; at < n; at += kRowsPerTxn) {
    int64_t end = std::min(n, at + kRowsPerTxn);
    if (PQenterPipelineMode(conn) != 1) throw std::runtime_error("enter pipeline mode");
    for (int64_t i = at; i < end; ++i) {
      const char* values[2] = {rows.ids[i].c_str(), rows.payloads[i].data()};
      int lengths[2] = {0, static_cast<int>(rows.payloads[i].size())};
      int formats[2] = {0, 1};
      if (PQsendQueryPrepared(conn, "insert_one", 2, values, lengths, formats, 0) != 1) {
        throw std::runtime_error(std::string("send: ") + PQerrorMessage(conn));
      }
    }
    if (PQpipelineSync(conn) != 1) throw std::runtime_error("pipeline sync");
    for (;;) {
      PGresult* r = PQgetResult(conn);
      if (r == nullptr) continue;  // end of one query's results
      auto st = PQresultStatus(r);
      PQclear(r);
      if (st == PGRES_PIPELINE_SYNC) break;
      if (st != PGRES_COMMAND_OK) {
        throw std::runtime_error(std::string("pipeline insert: ") + PQerrorMessage(conn));
      }
    }
    if (PQexitPipelineMode(conn) != 1) throw std::runtime_error("exit pipeline mode");
  }
  double secs = sw.Seconds();
  PQfinish(conn);
  pg::Connection c(s.pg_url);
  ExpectCount(c, n);
  ates::bench::Report(s, "3-pg-pipeline", "postgres insert, 500 rows/txn (libpq pipeline)", n,
                      "rows", secs);
}

void SingleRowCommits(const ates::bench::Settings& s, int connections) {
  auto run = ates::bench::SingleRowCommits(s.pg_url, connections, std::chrono::seconds(3));
  std::string key = "3-pg-commit-" + std::to_string(connections);
  std::string label = "postgres 1-row commits, " + std::to_string(connections) +
                      (connections == 1 ? " connection" : " connections");
  ates::bench::Report(s, key, label, run.commits, "commits", run.seconds);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    auto s = ates::bench::ParseSettings(argc, argv);
    if (s.pg_url.empty()) throw std::runtime_error("no PostgreSQL URL (ATES_BENCH_PG_URL or --pg)");
    pg::Connection c(s.pg_url);
    c.Exec(kSetup);
    auto rows = MakeRows(s.events);
    Unnest(s, c, rows);
    Pipeline(s, rows);
    SingleRowCommits(s, 1);
    SingleRowCommits(s, 8);
    c.Exec("DROP TABLE bench_raw");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_raw_pg: %s\n", e.what());
    return 1;
  }
}
