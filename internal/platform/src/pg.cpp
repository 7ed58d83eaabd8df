#include "ates/platform/pg.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

#include "ates/platform/log.hpp"
#include "ates/platform/queries.hpp"

namespace ates::pg {
namespace {

constexpr std::string_view kHex = "0123456789abcdef";

void AppendQuoted(std::string& out, std::string_view value) {
  out.push_back('"');
  // Copies runs without a quote or backslash in one go (arrays of ids, hex...).
  // A plain scan: string_view::find_first_of calls memchr once per character.
  size_t from = 0;
  for (size_t at = 0; at < value.size(); ++at) {
    char c = value[at];
    if (c != '"' && c != '\\') continue;
    out.append(value, from, at - from);
    out.push_back('\\');
    out.push_back(c);
    from = at + 1;
  }
  out.append(value, from);
  out.push_back('"');
}

PgError ErrorFrom(pg_conn* conn, const PGresult* res, std::string_view what) {
  std::string sqlstate;
  std::string message;
  if (res != nullptr) {
    if (const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE)) sqlstate = s;
    message = PQresultErrorMessage(res);
  }
  if (message.empty()) message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  bool lost = PQstatus(conn) != CONNECTION_OK;
  return PgError(std::string(what) + ": " + message, sqlstate, lost);
}

bool IsOk(const PGresult* res) {
  auto status = PQresultStatus(res);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

struct ParamArrays {
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  explicit ParamArrays(const Params& params) {
    for (const auto& p : params) {
      values.push_back(p.null ? nullptr : p.value.data());
      lengths.push_back(static_cast<int>(p.value.size()));
      formats.push_back(p.binary ? 1 : 0);
    }
  }
};

}  // namespace

bool PgError::IsRetryable() const {
  if (connection_lost_) return true;
  return sqlstate_ == "40001" || sqlstate_ == "40P01" || sqlstate_.starts_with("08") ||
         sqlstate_ == "57P01" || sqlstate_ == "57P02" || sqlstate_ == "57P03";
}

bool PgError::IsTransient() const {
  if (IsRetryable()) return true;
  // 53: insufficient resources; 57P: shutdown, crash, cannot connect now;
  // 57014: statement_timeout; 55P03: lock_timeout; 25P03: idle in transaction
  // timeout; 58: system (I/O) errors.
  return sqlstate_.starts_with("53") || sqlstate_.starts_with("57P") || sqlstate_ == "57014" ||
         sqlstate_ == "55P03" || sqlstate_ == "25P03" || sqlstate_.starts_with("58");
}

Param Text(std::string_view value) { return Param{std::string(value), false, false}; }
Param Int(int64_t value) { return Param{std::to_string(value), false, false}; }
Param Bool(bool value) { return Param{value ? "t" : "f", false, false}; }
Param Bytes(std::string_view value) { return Param{std::string(value), false, true}; }
Param Null() { return Param{"", true, false}; }

Param TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  size_t size = 2;
  for (const auto& v : values) size += v.size() + 3;
  out.reserve(size);
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    AppendQuoted(out, values[i]);
  }
  out.push_back('}');
  return Param{std::move(out), false, false};
}

Param NullableTextArray(const std::vector<std::string>& values, std::string_view null_marker) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    if (values[i] == null_marker) {
      out += "NULL";
    } else {
      AppendQuoted(out, values[i]);
    }
  }
  out.push_back('}');
  return Param{std::move(out), false, false};
}

Param IntArray(const std::vector<int64_t>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    out += std::to_string(values[i]);
  }
  out.push_back('}');
  return Param{std::move(out), false, false};
}

Param BytesArray(const std::vector<std::string>& values) {
  // Each element is "\\x<hex>": the hex form's backslash, escaped for the array.
  std::string out = "{";
  size_t size = 2;
  for (const auto& v : values) size += 2 * v.size() + 6;
  out.reserve(size);
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    out.append("\"\\\\x");
    for (unsigned char c : values[i]) {
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return Param{std::move(out), false, false};
}

Result::Result(pg_result* res) : res_(res, PQclear) {}
int Result::Rows() const { return res_ ? PQntuples(res_.get()) : 0; }
bool Result::IsNull(int row, int col) const { return PQgetisnull(res_.get(), row, col); }
std::string_view Result::Text(int row, int col) const {
  return {PQgetvalue(res_.get(), row, col), static_cast<size_t>(PQgetlength(res_.get(), row, col))};
}
int64_t Result::Int(int row, int col) const {
  auto text = Text(row, col);
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}
bool Result::Bool(int row, int col) const { return Text(row, col) == "t"; }
std::string Result::Bytes(int row, int col) const {
  size_t len = 0;
  std::unique_ptr<unsigned char, decltype(&PQfreemem)> raw(
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(res_.get(), row, col)),
                      &len),
      &PQfreemem);
  return std::string(reinterpret_cast<char*>(raw.get()), len);
}
int Result::Column(std::string_view name, int hint) const {
  // Exact and case-sensitive, like PQfnumber of a quoted name, without its copies.
  const int fields = res_ ? PQnfields(res_.get()) : 0;
  auto is = [&](int i) {
    const char* field = PQfname(res_.get(), i);
    for (char c : name) {
      if (*field++ != c) return false;
    }
    return *field == '\0';
  };
  if (hint >= 0 && hint < fields && is(hint)) return hint;
  for (int i = 0; i < fields; ++i) {
    if (is(i)) return i;
  }
  throw std::logic_error("query result has no column '" + std::string(name) + "'");
}
Row Result::At(int row) const { return Row(*this, row); }
std::optional<std::string> Row::OptionalString(std::string_view column) const {
  int col = Col(column);
  if (result_.IsNull(row_, col)) return std::nullopt;
  return result_.String(row_, col);
}
int64_t Result::Affected() const {
  const char* n = PQcmdTuples(res_.get());
  return (n && *n) ? std::stoll(n) : 0;
}

namespace {

thread_local std::optional<CallDeadline::Clock::time_point> t_deadline;

// Whole seconds, rounded up (libpq's keepalive and connect settings).
std::string Seconds(std::chrono::milliseconds d) {
  return std::to_string((d.count() + 999) / 1000);
}

std::string Millis(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

// The `options` the URL itself carries, so that ours are added, not replacing them.
std::string OptionsIn(const std::string& conninfo) {
  std::string out;
  ConnInfoOptionsPtr parsed(PQconninfoParse(conninfo.c_str(), nullptr));
  if (parsed == nullptr) return out;  // malformed: libpq says why at connect
  for (auto* o = parsed.get(); o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "options") == 0 && o->val != nullptr) out = o->val;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParamsFor(const std::string& conninfo,
                                                           const ConnectionOptions& o) {
  std::vector<std::pair<std::string, std::string>> params;
  std::string server = OptionsIn(conninfo);
  auto set = [&](const char* name, std::chrono::milliseconds value) {
    if (value.count() <= 0) return;
    if (!server.empty()) server += ' ';
    server += std::string("-c ") + name + "=" + Millis(value);
  };
  set("statement_timeout", o.statement_timeout);
  set("lock_timeout", o.lock_timeout);
  set("idle_in_transaction_session_timeout", o.idle_in_transaction_timeout);
  set("idle_session_timeout", o.idle_session_timeout);
  set("tcp_keepalives_idle", o.keepalives_idle);
  set("tcp_keepalives_interval", o.keepalives_interval);
  set("tcp_user_timeout", o.tcp_user_timeout);
  if (o.keepalives_count > 0) {
    if (!server.empty()) server += ' ';
    server += "-c tcp_keepalives_count=" + std::to_string(o.keepalives_count);
  }
  if (o.keepalives_idle.count() > 0 || o.keepalives_interval.count() > 0 ||
      o.keepalives_count > 0) {
    params.emplace_back("keepalives", "1");
  }
  if (o.keepalives_idle.count() > 0) {
    params.emplace_back("keepalives_idle", Seconds(o.keepalives_idle));
  }
  if (o.keepalives_interval.count() > 0) {
    params.emplace_back("keepalives_interval", Seconds(o.keepalives_interval));
  }
  if (o.keepalives_count > 0) {
    params.emplace_back("keepalives_count", std::to_string(o.keepalives_count));
  }
  if (o.tcp_user_timeout.count() > 0) {
    params.emplace_back("tcp_user_timeout", std::to_string(o.tcp_user_timeout.count()));
  }
  if (!server.empty()) params.emplace_back("options", server);
  return params;
}

}  // namespace

CallDeadline::CallDeadline(std::optional<Clock::time_point> at) : outer_(t_deadline) {
  if (at && (!t_deadline || *at < *t_deadline)) t_deadline = at;
}
CallDeadline::~CallDeadline() { t_deadline = outer_; }
std::optional<CallDeadline::Clock::time_point> CallDeadline::Current() { return t_deadline; }
bool CallDeadline::Passed() { return t_deadline && Clock::now() >= *t_deadline; }

Connection::Connection(std::string conninfo, ConnectionOptions options)
    : conninfo_(std::move(conninfo)),
      params_(ParamsFor(conninfo_, options)),
      connect_timeout_(options.connect_timeout) {}
Connection::~Connection() = default;

bool Connection::Healthy() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

int Connection::BackendPid() const { return conn_ ? PQbackendPID(conn_.get()) : 0; }

void Connection::Reset() {
  conn_.reset();
  prepared_.clear();
}

void Connection::EnsureConnected() {
  if (Healthy()) return;
  Reset();
  // A connect waits no longer than the caller does (libpq counts whole seconds).
  auto timeout = connect_timeout_;
  if (auto deadline = CallDeadline::Current()) {
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(*deadline - CallDeadline::Clock::now());
    if (left.count() <= 0) {
      throw TimeoutError(TimeoutError::Kind::kDeadline,
                         "connect: the caller's deadline passed before connecting");
    }
    if (timeout.count() <= 0 || left < timeout) timeout = left;
  }
  // The URL goes first as "dbname" (expanded by libpq), so what follows overrides it.
  std::vector<const char*> keywords = {"dbname"};
  std::vector<const char*> values = {conninfo_.c_str()};
  std::string timeout_s = Seconds(timeout);
  if (timeout.count() > 0) {
    keywords.push_back("connect_timeout");
    values.push_back(timeout_s.c_str());
  }
  for (const auto& [k, v] : params_) {
    keywords.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  conn_.reset(PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn_.get());
    while (!message.empty() && message.back() == '\n') message.pop_back();
    Reset();
    throw PgError("connect: " + message, "08001", true);
  }
  ++session_;
}

namespace {
constexpr std::string_view kGenericPlans =
    "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)";
// Statements prepared per connection at most; beyond, they run unnamed.
constexpr size_t kMaxPrepared = 256;
const std::string kUnnamed;
}  // namespace

const std::string& Connection::Prepared(const std::string& sql, int n_params) {
  if (auto it = prepared_.find(sql); it != prepared_.end()) return it->second;
  if (prepared_.size() >= kMaxPrepared) return kUnnamed;
  std::string name = "ates_" + std::to_string(++statements_);
  ResultPtr res(PQprepare(conn_.get(), name.c_str(), sql.c_str(), n_params, nullptr));
  if (!IsOk(res.get())) throw ErrorFrom(conn_.get(), res.get(), "query failed");
  return prepared_.emplace(sql, std::move(name)).first->second;
}

Result Connection::Exec(std::string_view sql, const Params& params) {
  EnsureConnected();
  std::string text(sql);
  ResultPtr res;
  if (params.empty()) {
    res.reset(PQexec(conn_.get(), text.c_str()));
  } else {
    ParamArrays a(params);
    res.reset(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(params.size()), nullptr,
                           a.values.data(), a.lengths.data(), a.formats.data(), 0));
  }
  if (!IsOk(res.get())) throw ErrorFrom(conn_.get(), res.get(), "query failed");
  return Result(res.release());
}

Result Connection::ExecPrepared(std::string_view sql, const Params& params) {
  EnsureConnected();
  std::string text(sql);
  const std::string& name = Prepared(text, static_cast<int>(params.size()));
  if (name.empty()) return Exec(sql, params);
  ParamArrays a(params);
  ResultPtr res(PQexecPrepared(conn_.get(), name.c_str(), static_cast<int>(params.size()),
                               a.values.data(), a.lengths.data(), a.formats.data(), 0));
  if (!IsOk(res.get())) throw ErrorFrom(conn_.get(), res.get(), "query failed");
  return Result(res.release());
}

std::vector<Result> Connection::ExecPipeline(const std::vector<Query>& queries, Plan plan) {
  return RunPipeline({}, queries, plan, nullptr);
}

void Connection::SendPipeline(const std::vector<Query>& queries,
                              const std::vector<std::string>& texts,
                              const std::vector<const std::string*>& names) {
  if (PQenterPipelineMode(conn_.get()) != 1)
    throw ErrorFrom(conn_.get(), nullptr, "enter pipeline");
  for (size_t i = 0; i < queries.size(); ++i) {
    const auto& q = queries[i];
    ParamArrays a(q.params);
    const int n = static_cast<int>(q.params.size());
    int sent = names[i]->empty()
                   ? PQsendQueryParams(conn_.get(), texts[i].c_str(), n, nullptr, a.values.data(),
                                       a.lengths.data(), a.formats.data(), 0)
                   : PQsendQueryPrepared(conn_.get(), names[i]->c_str(), n, a.values.data(),
                                         a.lengths.data(), a.formats.data(), 0);
    if (sent != 1) {
      auto err = ErrorFrom(conn_.get(), nullptr, "pipeline send");
      Reset();
      throw err;
    }
  }
  if (PQpipelineSync(conn_.get()) != 1) {
    auto err = ErrorFrom(conn_.get(), nullptr, "pipeline sync");
    Reset();
    throw err;
  }
}

std::optional<PgError> Connection::ReadPipeline(const std::vector<std::string>& texts,
                                                std::vector<Result>& results) {
  std::optional<PgError> first_error;
  for (size_t i = 0; i < texts.size(); ++i) {
    ResultPtr res(PQgetResult(conn_.get()));
    if (res == nullptr) {
      first_error = ErrorFrom(conn_.get(), nullptr, "pipeline result");
      break;
    }
    if (!IsOk(res.get()) && !first_error) {
      first_error = ErrorFrom(conn_.get(), res.get(), "pipeline query failed");
      if (first_error->sqlstate() == "26000" || first_error->sqlstate() == "0A000") {
        prepared_.erase(texts[i]);
      }
    }
    results.emplace_back(res.release());
    // Each query's results end with a null.
    while (ResultPtr extra{PQgetResult(conn_.get())}) {
    }
  }
  return first_error;
}

void Connection::DrainToSync() {
  for (;;) {
    ResultPtr res(PQgetResult(conn_.get()));
    if (res == nullptr) {
      if (!Healthy()) break;
      continue;
    }
    if (PQresultStatus(res.get()) == PGRES_PIPELINE_SYNC) break;
  }
  if (Healthy()) PQexitPipelineMode(conn_.get());
}

std::vector<Result> Connection::RunPipeline(const std::vector<Query>& head,
                                            const std::vector<Query>& in, Plan plan,
                                            std::vector<Result>* head_results) {
  EnsureConnected();
  // The plan mode is read at each execution: set for this transaction only.
  const size_t skip = head.size() + (plan == Plan::kGeneric ? 1 : 0);
  std::vector<Query> with_head;
  if (skip) {
    with_head.reserve(in.size() + skip);
    with_head.insert(with_head.end(), head.begin(), head.end());
    if (plan == Plan::kGeneric) with_head.push_back({kGenericPlans, {}});
    with_head.insert(with_head.end(), in.begin(), in.end());
  }
  const std::vector<Query>& queries = skip ? with_head : in;
  std::vector<std::string> texts;
  std::vector<const std::string*> names;
  texts.reserve(queries.size());
  for (const auto& q : queries) {
    texts.emplace_back(q.sql);
    // Generic plans need a named statement; it is prepared before the
    // pipeline starts (a round trip the first time only).
    names.push_back(plan == Plan::kCustom || q.params.empty()
                        ? &kUnnamed
                        : &Prepared(texts.back(), static_cast<int>(q.params.size())));
  }
  SendPipeline(queries, texts, names);
  std::vector<Result> results;
  std::optional<PgError> first_error = ReadPipeline(texts, results);
  DrainToSync();  // up to and including the sync point
  if (!Healthy() && !first_error) first_error = ErrorFrom(conn_.get(), nullptr, "pipeline");
  if (first_error) throw *first_error;
  if (head_results) {
    head_results->assign(results.begin(), results.begin() + static_cast<ptrdiff_t>(head.size()));
  }
  if (skip) results.erase(results.begin(), results.begin() + static_cast<ptrdiff_t>(skip));
  return results;
}

namespace {
constexpr std::string_view kBegin = "BEGIN";
constexpr std::string_view kCurrentXid = "SELECT pg_current_xact_id()";
// One simple-protocol message, one round trip: its last result is the id.
constexpr std::string_view kBeginTracked = "BEGIN; SELECT pg_current_xact_id()";
}  // namespace

Transaction::Transaction(Connection& conn, Mode mode) : conn_(conn), mode_(mode) {}
Transaction::~Transaction() {
  if (done_ || !begun_) return;
  try {
    if (conn_.Healthy()) conn_.Exec("ROLLBACK");
  } catch (...) {
  }
}

void Transaction::Begin() {
  if (begun_) return;
  // Set first: should the reply fail, a transaction may be open all the same.
  begun_ = true;
  if (mode_ == Mode::kTracked) {
    auto r = conn_.Exec(kBeginTracked);
    xid_ = r.String(0, 0);
    backend_pid_ = conn_.BackendPid();
  } else {
    conn_.Exec(kBegin);
  }
}

Result Transaction::Exec(std::string_view sql, const Params& params) {
  Begin();
  return conn_.Exec(sql, params);
}

std::vector<Result> Transaction::ExecPipeline(const std::vector<Query>& queries,
                                              Connection::Plan plan) {
  if (begun_) return conn_.RunPipeline({}, queries, plan, nullptr);
  std::vector<Query> head{{kBegin, {}}};
  if (mode_ == Mode::kTracked) head.push_back({kCurrentXid, {}});
  std::vector<Result> head_results;
  // Once BEGIN is sent the transaction is open on the server, whatever happens
  // next: the destructor must roll it back.
  begun_ = true;
  auto results = conn_.RunPipeline(head, queries, plan, &head_results);
  if (mode_ == Mode::kTracked) {
    xid_ = head_results[1].String(0, 0);
    backend_pid_ = conn_.BackendPid();
  }
  return results;
}

Connection& Transaction::connection() {
  Begin();
  return conn_;
}

void Transaction::Commit() {
  done_ = true;
  if (begun_) conn_.Exec("COMMIT");
}

Pool::Pool(std::string conninfo, int size, PoolOptions options)
    : conninfo_(std::move(conninfo)), options_(options), size_(size) {
  for (int i = 0; i < size; ++i) {
    idle_.push_back(std::make_unique<Connection>(conninfo_, options_.connection));
  }
}
Pool::~Pool() = default;

Pool::Lease::~Lease() {
  if (conn_) pool_->Release(std::move(conn_));
}

Pool::Lease Pool::Acquire() {
  using Clock = CallDeadline::Clock;
  const auto caller = CallDeadline::Current();
  const auto now = Clock::now();
  if (caller && now >= *caller) {
    throw TimeoutError(TimeoutError::Kind::kDeadline,
                       "the caller's deadline passed before the database call");
  }
  std::optional<Clock::time_point> until;
  if (options_.acquire_timeout.count() > 0) until = now + options_.acquire_timeout;
  const bool callers_deadline_first = caller && (!until || *caller < *until);
  if (callers_deadline_first) until = caller;
  absl::MutexLock lock(&mu_);
  const absl::Condition free(this, &Pool::HasIdle);
  if (!until) {
    mu_.Await(free);
  } else if (!mu_.AwaitWithTimeout(free, absl::FromChrono(*until - Clock::now()))) {
    if (callers_deadline_first) {
      throw TimeoutError(TimeoutError::Kind::kDeadline,
                         "the caller's deadline passed while waiting for a free database "
                         "connection (all " +
                             std::to_string(size_) + " in use)");
    }
    throw TimeoutError(TimeoutError::Kind::kAcquire,
                       "no free database connection within " +
                           std::to_string(options_.acquire_timeout.count()) + " ms (all " +
                           std::to_string(size_) + " in use)");
  }
  auto conn = std::move(idle_.back());
  idle_.pop_back();
  return Lease(this, std::move(conn));
}

void Pool::Release(std::unique_ptr<Connection> conn) {
  absl::MutexLock lock(&mu_);  // a waiting Acquire's condition is checked on unlock
  idle_.push_back(std::move(conn));
}

int Pool::IdleCount() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(idle_.size());
}

bool Pool::BackOff(int attempt, const PgError& e) {
  auto delay = std::chrono::milliseconds(std::min(2000, 25 << std::min(attempt, 7)));
  auto deadline = CallDeadline::Current();
  if (deadline && CallDeadline::Clock::now() + delay >= *deadline) {
    log::Warn(
        "database call failed, no retry before the caller's deadline",
        {{"error", e.what()}, {"sqlstate", e.sqlstate()}, {"attempt", std::to_string(attempt)}});
    return false;
  }
  log::Warn(
      "database call failed, retrying",
      {{"error", e.what()}, {"sqlstate", e.sqlstate()}, {"attempt", std::to_string(attempt)}});
  std::this_thread::sleep_for(delay);
  return true;
}

namespace {

void EndOrphan(Connection& probe, const Transaction& tx) {
  try {
    probe.Exec(platform::sql::kEndOrphanBackend, {Int(tx.backend_pid()), Text(tx.xid())});
  } catch (const PgError& e) {
    // Not allowed, say: then wait for the server to notice by itself.
    log::Warn("could not end the backend of a lost transaction",
              {{"xid", tx.xid()}, {"error", e.what()}});
  }
}
}  // namespace

void Pool::Commit(Transaction& tx) {
  try {
    tx.Commit();
  } catch (const PgError& e) {
    // The server answered (the commit failed, so the transaction aborted), or
    // there is no id to ask about.
    if (!e.connection_lost() || tx.xid().empty()) throw;
    if (!ResolveCommit(tx, e)) throw;
  }
}

bool Pool::ResolveCommit(const Transaction& tx, const PgError& lost) {
  const std::string pid = std::to_string(tx.backend_pid());
  log::Warn("connection lost at COMMIT, asking whether the transaction committed",
            {{"xid", tx.xid()}, {"backend_pid", pid}, {"error", lost.what()}});
  Connection probe(conninfo_, options_.connection);
  std::string last = "no answer yet";
  for (int attempt = 1; attempt <= max_attempts_; ++attempt) {
    if (attempt > 1) {
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min(2000, 25 << std::min(attempt, 7))));
    }
    try {
      auto answer = probe.Exec(platform::sql::kXactStatus, {Text(tx.xid())}).At(0);
      std::string status = answer.OptionalString("status").value_or("unknown (too old)");
      if (status == "committed" || status == "aborted") {
        log::Warn("commit outcome learned after the connection was lost",
                  {{"xid", tx.xid()}, {"status", status}});
        return status == "committed";
      }
      last = "transaction " + status;
      // The old backend may still be finishing the COMMIT; if it is still
      // there a moment later, its client (this process) is gone for good.
      if (status == "in progress" && attempt >= 2) EndOrphan(probe, tx);
    } catch (const PgError& e) {
      last = e.what();
      if (!e.IsRetryable()) break;  // asking again would not help
    }
  }
  log::Error("commit outcome unknown", {{"xid", tx.xid()}, {"last", last}});
  throw PgError("commit outcome unknown: connection lost at COMMIT (" + std::string(lost.what()) +
                    ") and the database could not tell whether transaction " + tx.xid() +
                    " committed (" + last + ")",
                "08007", true);
}

namespace sql = platform::sql;

void Migrate(Pool& pool, const std::vector<Migration>& migrations) {
  pool.WithRetry([&](Connection& c) {
    c.Exec(sql::kMigrationLock);
    try {
      c.Exec(sql::kMigrationCreateTable);
      for (const auto& m : migrations) {
        if (c.Exec(sql::kMigrationApplied, {Text(m.name)}).Rows() > 0) continue;
        Transaction tx(c);
        // A migration may rewrite a big table: no statement limit for it.
        tx.Exec(sql::kMigrationNoStatementTimeout);
        tx.Exec(m.sql);
        tx.Exec(sql::kMigrationRecord, {Text(m.name)});
        tx.Commit();
        log::Info("migration applied", {{"migration", m.name}});
      }
    } catch (...) {
      if (c.Healthy()) c.Exec(sql::kMigrationUnlock);
      throw;
    }
    c.Exec(sql::kMigrationUnlock);
  });
}

}  // namespace ates::pg
