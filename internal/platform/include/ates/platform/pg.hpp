#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ates/platform/handles.hpp"

namespace ates::pg {

// A server or connection error with its SQLSTATE ("" when the connection broke).
class PgError : public std::runtime_error {
 public:
  PgError(std::string message, std::string sqlstate, bool connection_lost)
      : std::runtime_error(std::move(message)),
        sqlstate_(std::move(sqlstate)),
        connection_lost_(connection_lost) {}
  const std::string& sqlstate() const { return sqlstate_; }
  bool connection_lost() const { return connection_lost_; }
  // Serialization failure, deadlock, lost connection, server shutting down.
  bool IsRetryable() const;
  // Not about the statement or its data: the database is unreachable, shutting
  // down, out of resources, or a timeout fired. A consumer waits and retries
  // for as long as it takes; it never dead-letters an event for this.
  bool IsTransient() const;
  bool IsUniqueViolation() const { return sqlstate_ == "23505"; }
  // Raised by the ates_assert() SQL function (platform migration).
  bool IsAssertion() const { return sqlstate_ == "AT001"; }
  // The connection was lost after COMMIT was sent and the database could not
  // tell, within the retry budget, whether the transaction committed
  // (SQLSTATE 08007, transaction_resolution_unknown). Retryable in the sense
  // of transient, but Pool never reruns the transaction after it: that could
  // apply it twice.
  bool IsCommitUnknown() const { return sqlstate_ == "08007"; }

 private:
  std::string sqlstate_;
  bool connection_lost_;
};

// A wait on the database that ran out of time on the client side: no pooled
// connection became free within the pool's acquire timeout (kAcquire), or the
// caller's deadline passed (kDeadline, see CallDeadline). Transient, with
// SQLSTATE 08001 as a failed connect (the caller got no database in time), but
// WithRetry never retries it: the wait itself was the budget.
class TimeoutError final : public PgError {
 public:
  enum class Kind { kAcquire, kDeadline };
  TimeoutError(Kind kind, std::string message)
      : PgError(std::move(message), "08001", false), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// The time by which whoever waits for this thread's database work stops
// waiting: a gRPC call's deadline (platform::Handle sets it). While one is in
// scope, Pool::Acquire and connects wait no longer, WithRetry starts no retry
// that could not begin before it, and a wait that reaches it throws
// TimeoutError(kDeadline). Thread-local; a nested scope never extends the outer one.
class CallDeadline final {
 public:
  using Clock = std::chrono::steady_clock;
  explicit CallDeadline(std::optional<Clock::time_point> at);
  ~CallDeadline();
  CallDeadline(const CallDeadline&) = delete;
  CallDeadline& operator=(const CallDeadline&) = delete;

  // The innermost deadline in scope on this thread, if any.
  static std::optional<Clock::time_point> Current();
  // True when a deadline is in scope and has passed.
  static bool Passed();

 private:
  std::optional<Clock::time_point> outer_;
};

// Limits every connection carries so that nothing waits for ever. Zero leaves
// a limit to libpq's or the server's (role's) own setting. The values win over
// the same parameters in the connection URL; the server settings travel in the
// startup packet's `options` (after the URL's own options), so they cost no
// round trip.
struct ConnectionOptions {
  std::chrono::milliseconds connect_timeout{5000};  // libpq, whole seconds, at least 2
  std::chrono::milliseconds statement_timeout{30000};
  std::chrono::milliseconds lock_timeout{10000};
  std::chrono::milliseconds idle_in_transaction_timeout{60000};
  // Ends a session left idle this long (the relay's leadership bound); 0: never.
  std::chrono::milliseconds idle_session_timeout{0};
  // TCP keepalives on both ends (libpq and the server's tcp_keepalives_*): a
  // silent peer is noticed after idle + interval * count.
  std::chrono::milliseconds keepalives_idle{10000};
  std::chrono::milliseconds keepalives_interval{5000};
  int keepalives_count = 3;
  // Sent data unacknowledged this long drops the connection, on both ends.
  std::chrono::milliseconds tcp_user_timeout{15000};
};

// One query parameter, sent in text format unless binary (bytea).
struct Param {
  std::string value;
  bool null = false;
  bool binary = false;
};
using Params = std::vector<Param>;

Param Text(std::string_view value);
Param Int(int64_t value);
Param Bool(bool value);
Param Bytes(std::string_view value);
Param Null();
template <class T>
Param Optional(const std::optional<T>& value) {
  return value ? Text(*value) : Null();
}

// Array literals for `unnest($1::uuid[])`-style set-based statements.
Param TextArray(const std::vector<std::string>& values);
// Like TextArray, but elements equal to `null_marker` become NULL.
Param NullableTextArray(const std::vector<std::string>& values, std::string_view null_marker);
Param IntArray(const std::vector<int64_t>& values);
Param BytesArray(const std::vector<std::string>& values);

struct Query {
  std::string_view sql;  // Always a named constant: never built from input.
  Params params;
};

class Row;

class Result final {
 public:
  Result() = default;
  explicit Result(pg_result* res);
  int Rows() const;
  // Index of the column named `name` (a query's column alias); throws
  // std::logic_error when the result has no such column (a query and its
  // reader disagree: a programming error, found by the first test that runs it).
  // `hint`: the index to try first (readers read columns in the query's order).
  int Column(std::string_view name, int hint = 0) const;
  // Row `row`, read by column name.
  Row At(int row) const;
  bool IsNull(int row, int col) const;
  std::string_view Text(int row, int col) const;
  std::string String(int row, int col) const { return std::string(Text(row, col)); }
  int64_t Int(int row, int col) const;
  bool Bool(int row, int col) const;
  std::string Bytes(int row, int col) const;  // decodes bytea text format
  int64_t Affected() const;

 private:
  std::shared_ptr<pg_result> res_;
};

// One row of a Result, read by column name, so that a typed row reader
// (`static TaskRow From(const pg::Row&)`) does not depend on column order.
class Row final {
 public:
  Row(Result result, int row) : result_(std::move(result)), row_(row) {}
  bool IsNull(std::string_view column) const { return result_.IsNull(row_, Col(column)); }
  std::string_view Text(std::string_view column) const { return result_.Text(row_, Col(column)); }
  std::string String(std::string_view column) const { return result_.String(row_, Col(column)); }
  int64_t Int(std::string_view column) const { return result_.Int(row_, Col(column)); }
  bool Bool(std::string_view column) const { return result_.Bool(row_, Col(column)); }
  std::string Bytes(std::string_view column) const { return result_.Bytes(row_, Col(column)); }
  // The text, or nullopt for NULL.
  std::optional<std::string> OptionalString(std::string_view column) const;

 private:
  // Tries the column after the last one read first, so a reader that reads in
  // the query's order costs one name comparison per column.
  int Col(std::string_view column) const {
    next_ = result_.Column(column, next_) + 1;
    return next_ - 1;
  }
  Result result_;  // shares the libpq result: a Row may outlive the Result it came from
  int row_;
  mutable int next_ = 0;
};

class Connection final {
 public:
  explicit Connection(std::string conninfo, ConnectionOptions options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement. With no params, `sql` may hold several statements.
  Result Exec(std::string_view sql, const Params& params = {});
  // Exec for a hot statement with parameters: prepared on this connection on
  // first use (parsed and analysed once), then executed by name. PostgreSQL
  // still plans the first executions with their values and keeps a generic
  // plan only when it costs no more (plan_cache_mode = auto), so a value-
  // dependent plan is not lost. Falls back to Exec when the connection's
  // statement cache is full. Not inside a failed transaction (it may prepare).
  Result ExecPrepared(std::string_view sql, const Params& params);
  // How a pipeline's statements are planned. kCustom (as Exec): parsed and
  // planned on every call with its values, so the planner sees an array's
  // length or an optional filter's value. kGeneric: prepared once per
  // connection and planned once, then reused, for hot statements whose best
  // plan never depends on the values (planning a small CTE costs more than
  // running it). The setting is local to the pipeline's transaction, so
  // PostgreSQL's own cached plans (foreign keys, PL/pgSQL) keep their default.
  enum class Plan { kCustom, kGeneric };

  // Sends every query in one round trip (libpq pipeline mode) as one implicit
  // transaction: all commit or none does.
  std::vector<Result> ExecPipeline(const std::vector<Query>& queries, Plan plan = Plan::kCustom);

  bool Healthy() const;
  void EnsureConnected();
  // The server process of this connection (0 when not connected).
  int BackendPid() const;
  // Counts the sessions opened: it changes whenever EnsureConnected (or a
  // statement) had to connect again, so session state such as an advisory
  // lock or SET was lost. 0 before the first connect.
  uint64_t session() const { return session_; }

 private:
  friend class Transaction;
  // ExecPipeline with `head` (statements without parameters, e.g. BEGIN) sent
  // first, before the plan setting; their results go to `head_results`.
  std::vector<Result> RunPipeline(const std::vector<Query>& head, const std::vector<Query>& queries,
                                  Plan plan, std::vector<Result>* head_results);
  // The steps of RunPipeline: sends `queries` (statement names from
  // Prepared, "" for unnamed) and the sync; reads one result per query,
  // returning the first error; reads on to the sync point.
  void SendPipeline(const std::vector<Query>& queries, const std::vector<std::string>& texts,
                    const std::vector<const std::string*>& names);
  std::optional<PgError> ReadPipeline(const std::vector<std::string>& texts,
                                      std::vector<Result>& results);
  void DrainToSync();
  // Name of the server-side prepared statement for `sql` on this connection
  // (Plan::kGeneric), preparing it on first use; "" when the cache is full
  // (then it runs unnamed, planned per call).
  const std::string& Prepared(const std::string& sql, int n_params);
  void Reset();  // closes the connection and forgets its prepared statements

  std::string conninfo_;
  // libpq keywords and values that go after the URL (which is expanded as
  // "dbname"), so they override it; connect_timeout is added per connect.
  std::vector<std::pair<std::string, std::string>> params_;
  std::chrono::milliseconds connect_timeout_;
  uint64_t session_ = 0;
  ConnPtr conn_;
  // Statements prepared on this connection, by SQL text (always a named constant).
  std::unordered_map<std::string, std::string> prepared_;
  uint64_t statements_ = 0;  // names are never reused on a connection
};

// An interactive transaction on one connection; rolls back unless committed.
// BEGIN goes with the first statement: in its own round trip before an Exec,
// at the head of the pipeline for an ExecPipeline.
class Transaction final {
 public:
  // kTracked also learns the transaction id with BEGIN (no extra round trip),
  // so that Pool::Commit can ask the server whether a COMMIT whose reply was
  // lost took effect.
  enum class Mode { kPlain, kTracked };
  explicit Transaction(Connection& conn, Mode mode = Mode::kPlain);
  ~Transaction();
  Result Exec(std::string_view sql, const Params& params = {});
  Result Exec(const Query& q) { return Exec(q.sql, q.params); }
  // Sends `queries` in one round trip (pipeline mode) inside this transaction:
  // unlike Connection::ExecPipeline, the sync commits nothing.
  std::vector<Result> ExecPipeline(const std::vector<Query>& queries,
                                   Connection::Plan plan = Connection::Plan::kCustom);
  void Commit();
  Connection& connection();  // begun

  // The server's id of this transaction (pg_current_xact_id(), xid8 as text)
  // once begun in kTracked mode; "" otherwise.
  const std::string& xid() const { return xid_; }
  // The server process that ran it, for ending it when its client is gone.
  int backend_pid() const { return backend_pid_; }

 private:
  void Begin();

  Connection& conn_;
  Mode mode_;
  bool begun_ = false;
  bool done_ = false;
  std::string xid_;
  int backend_pid_ = 0;
};

struct PoolOptions {
  // How long Acquire waits for a free connection (0: for ever).
  std::chrono::milliseconds acquire_timeout{10000};
  ConnectionOptions connection;
};

// A fixed-size pool of connections opened lazily.
class Pool final {
 public:
  Pool(std::string conninfo, int size, PoolOptions options = {});
  ~Pool();

  class Lease final {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // Takes an idle connection, waiting at most the acquire timeout and never
  // past the caller's deadline; then throws TimeoutError.
  Lease Acquire();

  // Runs `fn(Connection&)`, retrying retryable failures with back-off, but no
  // retry that could not start before the caller's deadline (CallDeadline):
  // then the last error is thrown as it is.
  template <class Fn>
  auto WithRetry(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    for (int attempt = 1;; ++attempt) {
      try {
        auto lease = Acquire();
        lease->EnsureConnected();
        return fn(*lease);
      } catch (const TimeoutError&) {
        throw;
      } catch (const PgError& e) {
        if (!e.IsRetryable() || e.IsCommitUnknown() || attempt >= max_attempts_ ||
            !BackOff(attempt, e)) {
          throw;
        }
      }
    }
  }

  // Runs `fn(Transaction&)` in a transaction, committed when fn returns.
  // A failed attempt is rerun only when it surely did not commit (see Commit),
  // so a transaction is never applied twice.
  template <class Fn>
  auto InTransaction(Fn&& fn) -> decltype(fn(std::declval<Transaction&>())) {
    return WithRetry([&](Connection& c) {
      Transaction tx(c, Transaction::Mode::kTracked);
      if constexpr (std::is_void_v<decltype(fn(tx))>) {
        fn(tx);
        Commit(tx);
      } else {
        auto result = fn(tx);
        Commit(tx);
        return result;
      }
    });
  }

  // Commits `tx`. If the connection is lost around the COMMIT (its outcome
  // unknown) and `tx` is tracked, asks the server on a fresh connection,
  // with back-off, whether the transaction committed: returns if it did,
  // rethrows the connection error (retryable: a rerun is safe) if it did
  // not, and throws an IsCommitUnknown() error if that cannot be learned.
  void Commit(Transaction& tx);

  const std::string& conninfo() const { return conninfo_; }
  const PoolOptions& options() const { return options_; }
  int size() const { return size_; }
  // Connections not leased right now (the metrics' scrape-time reading).
  int IdleCount();
  void set_max_attempts(int n) { max_attempts_ = n; }

 private:
  void Release(std::unique_ptr<Connection> conn);
  // Sleeps before the next attempt; false (at once) when that attempt could
  // not start before the caller's deadline.
  bool BackOff(int attempt, const PgError& e);
  // Whether tracked transaction `tx`, whose COMMIT reply was `lost`, committed.
  bool ResolveCommit(const Transaction& tx, const PgError& lost);

  std::string conninfo_;
  PoolOptions options_;
  int size_;
  bool HasIdle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !idle_.empty(); }

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int max_attempts_ = 8;
};

struct Migration {
  std::string name;
  std::string sql;
};

// Applies the migrations not yet recorded in schema_migrations, in order, each
// in its own transaction, under an advisory lock so replicas starting together
// do not race.
void Migrate(Pool& pool, const std::vector<Migration>& migrations);

// Migrations every service needs: outbox, processed_events, dead_letters.
const std::vector<Migration>& PlatformMigrations();

}  // namespace ates::pg
