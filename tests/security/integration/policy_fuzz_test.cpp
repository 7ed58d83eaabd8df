// Input fuzzing (ADR 0017): a seeded mutator sends mutated requests to every
// RPC of every real daemon (random field values, NUL bytes, invalid UTF-8,
// huge strings, truncated and garbage bytes, flipped bits) through a generic
// stub. Never INTERNAL, never a crash, and a call that failed wrote nothing.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <iostream>
#include <random>

#include "ates/platform/events.hpp"
#include "support/policy_helpers.hpp"

namespace ates::test {
namespace {

namespace gp = ::google::protobuf;

enum class Kind { kRandom, kNul, kBadUtf8, kHuge, kTruncated, kGarbage, kFlipped, kCount };
const char* KindName(Kind k) {
  static const char* kNames[] = {"random",    "nul",     "bad-utf8", "huge",
                                 "truncated", "garbage", "flipped"};
  return kNames[static_cast<int>(k)];
}

// Deterministic request mutations for any message type, by reflection.
class Mutator final {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  // Bytes for `type`; `expect_invalid` is set when the request must be
  // refused as INVALID_ARGUMENT (a NUL or bad UTF-8 in a string field).
  std::string Mutant(const gp::Descriptor& type, Kind kind, bool* expect_invalid) {
    *expect_invalid = false;
    std::unique_ptr<gp::Message> msg(factory_.GetPrototype(&type)->New());
    Fill(*msg, 0);
    if (kind == Kind::kNul || kind == Kind::kBadUtf8 || kind == Kind::kHuge) {
      const auto* field = PickStringField(type);
      if (field != nullptr) {
        std::string value = kind == Kind::kNul       ? Text() + std::string(1, '\0') + Text()
                            : kind == Kind::kBadUtf8 ? Text() + BadUtf8() + Text()
                                                     : std::string(1 << 20, 'x');
        SetString(*msg, *field, value);
        *expect_invalid = kind != Kind::kHuge;
      }
    }
    std::string bytes;
    msg->SerializePartialToString(&bytes);
    if (kind == Kind::kTruncated && !bytes.empty()) bytes.resize(Below(bytes.size()));
    if (kind == Kind::kGarbage) bytes = RandomBytes(Below(64));
    if (kind == Kind::kFlipped && !bytes.empty()) {
      for (int i = 0; i < 3; ++i) bytes[Below(bytes.size())] ^= static_cast<char>(1 << Below(8));
    }
    return bytes;
  }

 private:
  size_t Below(size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  std::string RandomBytes(size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(Below(256));
    return s;
  }

  std::string BadUtf8() {
    static const std::vector<std::string> kBad = {
        "\xff", "\xc3\x28", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "\x80"};
    return kBad[Below(kBad.size())];
  }

  std::string Text() {
    switch (Below(10)) {
      case 0:
        return "";
      case 1:
        return events::NewUuid();
      case 2:
        return "2026-" + std::to_string(1 + Below(13)) + "-" + std::to_string(Below(33));
      case 3:
        return "\xd0\x9f\xd0\xbe\xd0\xbf\xd1\x83\xd0\xb3 \xf0\x9f\xa6\x9c";
      case 4:
        return "[JIRA-" + std::to_string(Below(1000)) + "] title";
      case 5:
        return "' OR 1=1 --";
      case 6:
        return std::string(200 + Below(400), 'a');
      default: {
        std::string s(1 + Below(30), ' ');
        for (auto& c : s) c = static_cast<char>(32 + Below(95));
        return s;
      }
    }
  }

  int64_t Number() {
    static const std::vector<int64_t> kEdges = {
        0, 1, -1, 2, 100, 1000000, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    return Chance(0.6) ? kEdges[Below(kEdges.size())] : static_cast<int64_t>(rng_());
  }

  const gp::FieldDescriptor* PickStringField(const gp::Descriptor& type) {
    std::vector<const gp::FieldDescriptor*> strings;
    for (int i = 0; i < type.field_count(); ++i) {
      if (type.field(i)->type() == gp::FieldDescriptor::TYPE_STRING)
        strings.push_back(type.field(i));
    }
    return strings.empty() ? nullptr : strings[Below(strings.size())];
  }

  void SetString(gp::Message& m, const gp::FieldDescriptor& f, const std::string& v) {
    const auto* r = m.GetReflection();
    if (f.is_repeated()) {
      r->AddString(&m, &f, v);
    } else {
      r->SetString(&m, &f, v);
    }
  }

  void Fill(gp::Message& m, int depth) {
    const auto* type = m.GetDescriptor();
    for (int i = 0; i < type->field_count(); ++i) {
      const auto* f = type->field(i);
      if (!Chance(0.7)) continue;
      int n = f->is_repeated() ? static_cast<int>(Below(4)) : 1;
      for (int k = 0; k < n; ++k) SetOne(m, *f, depth);
    }
  }

  void SetOne(gp::Message& m, const gp::FieldDescriptor& f, int depth) {
    const auto* r = m.GetReflection();
    bool rep = f.is_repeated();
    using T = gp::FieldDescriptor;
    switch (f.cpp_type()) {
      case T::CPPTYPE_INT32:
        rep ? r->AddInt32(&m, &f, static_cast<int32_t>(Number()))
            : r->SetInt32(&m, &f, static_cast<int32_t>(Number()));
        break;
      case T::CPPTYPE_INT64:
        rep ? r->AddInt64(&m, &f, Number()) : r->SetInt64(&m, &f, Number());
        break;
      case T::CPPTYPE_UINT32:
        rep ? r->AddUInt32(&m, &f, static_cast<uint32_t>(Number()))
            : r->SetUInt32(&m, &f, static_cast<uint32_t>(Number()));
        break;
      case T::CPPTYPE_UINT64:
        rep ? r->AddUInt64(&m, &f, static_cast<uint64_t>(Number()))
            : r->SetUInt64(&m, &f, static_cast<uint64_t>(Number()));
        break;
      case T::CPPTYPE_BOOL:
        rep ? r->AddBool(&m, &f, Chance(0.5)) : r->SetBool(&m, &f, Chance(0.5));
        break;
      case T::CPPTYPE_ENUM: {
        int v = static_cast<int>(Below(f.enum_type()->value_count() + 2));
        rep ? r->AddEnumValue(&m, &f, v) : r->SetEnumValue(&m, &f, v);
        break;
      }
      case T::CPPTYPE_STRING: {
        std::string v = f.type() == T::TYPE_BYTES ? RandomBytes(Below(40)) : Text();
        rep ? r->AddString(&m, &f, v) : r->SetString(&m, &f, v);
        break;
      }
      case T::CPPTYPE_MESSAGE:
        if (depth < 3) Fill(rep ? *r->AddMessage(&m, &f) : *r->MutableMessage(&m, &f), depth + 1);
        break;
      default:
        break;  // float/double: none in the API
    }
  }

  std::mt19937_64 rng_;
  gp::DynamicMessageFactory factory_;
};

// Everything the system has written: each database's tables (count and a
// hash of every row) and each stream's last sequence.
class WriteProbe final {
 public:
  WriteProbe(const std::map<std::string, std::string>& dbs, JsClient& js) : js_(js) {
    for (const auto& [service, url] : dbs) conns_[service] = std::make_unique<pg::Connection>(url);
  }

  // Leaves out the tables that change on their own (relay leases, ...) and
  // login_throttle, which ates-auth writes on every login attempt by design.
  void LearnBackground() {
    auto first = Tables();
    std::this_thread::sleep_for(2500ms);
    auto second = Tables();
    ignored_ = {"ates-auth.login_throttle"};
    for (const auto& [table, value] : second) {
      if (first[table] != value) ignored_.insert(table);
    }
    for (const auto& t : ignored_)
      std::cout << "FUZZ not compared (changes on its own): " << t << "\n";
  }

  std::map<std::string, std::string> Snapshot() {
    auto tables = Tables();
    for (const auto& t : ignored_) tables.erase(t);
    for (const char* stream : {"ACCOUNTS", "TASKS", "BILLING", "SCHEDULE"}) {
      tables[std::string("stream.") + stream] = std::to_string(js_.LastSeq(stream));
    }
    return tables;
  }

  // Waits until nothing changes any more (events of a successful call
  // published and applied by every consumer).
  void Settle() {
    auto last = Snapshot();
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(400ms);
      auto now = Snapshot();
      if (now == last && UnpublishedOutbox() == 0) return;
      last = std::move(now);
    }
  }

 private:
  std::map<std::string, std::string> Tables() {
    std::map<std::string, std::string> out;
    for (auto& [service, conn] : conns_) {
      auto names = conn->Exec(
          "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
      for (int i = 0; i < names.Rows(); ++i) {
        std::string table = names.String(i, 0);
        // Names come from the catalog, not from input.
        auto row = conn->Exec(
            "SELECT count(*)::text || ':' || "
            "coalesce(sum(hashtext(t::text)::bigint), 0)::text FROM \"" +
            table + "\" t");
        out[service + "." + table] = row.String(0, 0);
      }
    }
    return out;
  }

  int64_t UnpublishedOutbox() {
    int64_t n = 0;
    for (auto& [service, conn] : conns_) {
      n += conn->Exec("SELECT count(*) FROM outbox WHERE published_at IS NULL").Int(0, 0);
    }
    return n;
  }

  JsClient& js_;
  std::map<std::string, std::unique_ptr<pg::Connection>> conns_;
  std::set<std::string> ignored_;
};

std::string Diff(const std::map<std::string, std::string>& a,
                 const std::map<std::string, std::string>& b) {
  std::string out;
  for (const auto& [k, v] : b) {
    auto it = a.find(k);
    if (it == a.end() || it->second != v) out += k + " ";
  }
  return out;
}

TEST(PolicyFuzzTest, MutatedRequestsToEveryRpcNeverGiveInternalNorCrashNorWriteWhenRefused) {
  // The mutator serializes invalid UTF-8 on purpose; protobuf would log each.
  google::protobuf::SetLogHandler(nullptr);
  SystemUnderTest sut("fuzz");
  JsClient js(TestStack::Get().nats_url());
  ASSERT_TRUE(js.WaitConnected(10s));
  WriteProbe probe(sut.db, js);
  probe.Settle();
  probe.LearnBackground();

  Mutator mutator(20261130);
  constexpr int kPerKind = 4;
  std::map<std::string, int> codes;
  int calls = 0, refused = 0, invalid_expected = 0, successes = 0;
  auto started = std::chrono::steady_clock::now();
  for (auto& [daemon, d] : sut.daemons) {
    for (const auto& name : ReflectedServices(*d->channel())) {
      if (name.rfind("grpc.", 0) == 0) continue;
      const auto* service = ServiceDescriptor(name);
      ASSERT_NE(service, nullptr) << name;
      for (int m = 0; m < service->method_count(); ++m) {
        const auto& method = *service->method(m);
        std::string full = "/" + name + "/" + method.name();
        for (int k = 0; k < static_cast<int>(Kind::kCount) * kPerKind; ++k) {
          auto kind = static_cast<Kind>(k % static_cast<int>(Kind::kCount));
          bool expect_invalid = false;
          auto bytes = mutator.Mutant(*method.input_type(), kind, &expect_invalid);
          auto before = probe.Snapshot();
          auto s = RawCall(*d->channel(), full, bytes, sut.admin_token);
          ++calls;
          codes[std::to_string(static_cast<int>(s.error_code()))]++;
          std::string what = daemon + " " + full + " " + KindName(kind) + ": " + Describe(s);
          EXPECT_NE(s.error_code(), grpc::StatusCode::INTERNAL) << what;
          EXPECT_NE(s.error_code(), grpc::StatusCode::UNKNOWN) << what;
          EXPECT_NE(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << what;
          EXPECT_NE(s.error_code(), grpc::StatusCode::UNAVAILABLE) << what;
          if (expect_invalid) {
            ++invalid_expected;
            EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << what;
          }
          if (s.ok()) {
            ++successes;
            probe.Settle();
            continue;
          }
          ++refused;
          auto after = probe.Snapshot();
          EXPECT_EQ(before, after) << what << " changed: " << Diff(before, after);
        }
      }
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "FUZZ calls=" << calls << " refused=" << refused << " succeeded=" << successes
            << " must_be_invalid=" << invalid_expected << " seconds=" << seconds << "\n";
  for (const auto& [code, n] : codes) std::cout << "FUZZ code " << code << ": " << n << "\n";
  EXPECT_GT(calls, 500);

  // Every daemon is still alive and serving.
  for (auto& [daemon, d] : sut.daemons) {
    EXPECT_TRUE(d->Running()) << daemon;
    EXPECT_EQ(d->HealthStatus(""), 1) << daemon;  // SERVING
  }
}

}  // namespace
}  // namespace ates::test
