#include "big_shuffle.hpp"

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "ates/platform/events.hpp"
#include "ates/platform/pg.hpp"

namespace ates::bench::system {
namespace {

using namespace std::chrono_literals;
namespace pg = ates::pg;

void InsertOpenTasks(const std::string& url, int64_t n) {
  pg::Connection db(url);
  const int64_t chunk = 10000;
  for (int64_t at = 0; at < n; at += chunk) {
    std::vector<std::string> ids;
    for (int64_t i = at; i < std::min(n, at + chunk); ++i) ids.push_back(ates::events::NewUuid());
    db.Exec(
        "INSERT INTO tasks (id, title, jira_id, description, status, assignee_id, created_by,"
        " request_id, version, created_at, updated_at)"
        " SELECT u.id, 'Shuffle task ' || u.n, 'SH-' || u.n, 'Inserted by bench_system', 'open',"
        "  w.ids[1 + (u.n % cardinality(w.ids))::int], w.ids[1], NULL, 1, now(), now()"
        " FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, n),"
        "  (SELECT array_agg(id ORDER BY id) AS ids FROM accounts_replica"
        "   WHERE active AND role = 'worker') w",
        {pg::TextArray(ids)});
  }
  db.Exec("VACUUM (ANALYZE) tasks");
}

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

BigShuffle RunBigShuffle(const std::string& tasks_pg_url, int64_t tasks, Load& load,
                         BillingWatch& watch) {
  BigShuffle out;
  InsertOpenTasks(tasks_pg_url, tasks);
  std::fprintf(stderr, "[loadgen] %lld open tasks inserted; shuffling\n",
               static_cast<long long>(tasks));
  int64_t fees_before = watch.fees();
  std::atomic<int64_t> reassigned{-2};
  auto click = Clock::now();
  load.Shuffle([&](double ms, int64_t n) {
    out.reply_s = ms / 1000.0;
    reassigned = n;
  });
  while (reassigned == -2 && Since(click) < 180) std::this_thread::sleep_for(5ms);
  out.tasks = reassigned;
  if (out.tasks <= 0) return out;
  while (watch.fees() - fees_before < out.tasks && Since(click) < 300) {
    std::this_thread::sleep_for(5ms);
  }
  out.fees_seen = watch.fees() - fees_before;
  if (out.fees_seen >= out.tasks) {
    out.all_fees_s = std::chrono::duration<double>(watch.last_fee() - click).count();
  }
  return out;
}

}  // namespace ates::bench::system
