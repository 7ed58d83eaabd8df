// The per-method RPC metrics cache of the metrics interceptor: the cached
// counters and histogram are the registry's own series (same names and
// labels as before), and the cache is bounded.
#include "ates/platform/rpc_metrics.hpp"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace ates::platform {
namespace {

std::string Exposition(Metrics& metrics) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, metrics.registry().Collect());
  return out.str();
}

TEST(RpcMetricsCache, OneEntryPerMethodCountingIntoTheRegistrySeries) {
  Metrics metrics;
  RpcMetricsCache cache(metrics);
  auto* get = cache.Find("/ates.tasks.v1.TaskService/GetTask");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(cache.Find("/ates.tasks.v1.TaskService/GetTask"), get);
  EXPECT_NE(cache.Find("/ates.tasks.v1.TaskService/ListTasks"), get);
  EXPECT_EQ(cache.size(), 2u);

  get->Count(0).Increment();
  get->Count(0).Increment();
  get->Count(5).Increment();
  get->Latency().Observe(0.002);
  // The same series Metrics::RpcCount hands out (the uncached path).
  EXPECT_EQ(&get->Count(0), &metrics.RpcCount("/ates.tasks.v1.TaskService/GetTask", "OK"));
  EXPECT_EQ(&get->Latency(), &metrics.RpcLatency("/ates.tasks.v1.TaskService/GetTask"));
  EXPECT_EQ(get->Count(0).Value(), 2);
  EXPECT_EQ(get->Count(5).Value(), 1);

  // go-grpc-prometheus names and labels (prometheus-cpp prints labels sorted).
  auto text = Exposition(metrics);
  EXPECT_NE(text.find(R"(grpc_server_handled_total{grpc_code="OK",grpc_method="GetTask",)"
                      R"(grpc_service="ates.tasks.v1.TaskService",grpc_type="unary"} 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(grpc_server_handled_total{grpc_code="NotFound",grpc_method="GetTask",)"
                      R"(grpc_service="ates.tasks.v1.TaskService",grpc_type="unary"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(grpc_server_handling_seconds_count{grpc_method="GetTask",)"
                      R"(grpc_service="ates.tasks.v1.TaskService",grpc_type="unary"} 1)"),
            std::string::npos);
  EXPECT_EQ(text.find("ates_grpc_server"), std::string::npos) << "the old names are gone";
}

TEST(RpcMetricsCache, AnOutOfRangeCodeCountsAsUnknown) {
  Metrics metrics;
  RpcMetricsCache cache(metrics);
  auto* m = cache.Find("/x.Y/Z");
  EXPECT_EQ(&m->Count(99), &m->Count(2));
  EXPECT_EQ(&m->Count(-1), &metrics.RpcCount("/x.Y/Z", "Unknown"));
}

TEST(RpcCodeName, EveryCodeAsGrpcGoPrintsIt) {
  const char* expected[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  for (int code = 0; code <= 16; ++code) EXPECT_STREQ(RpcCodeName(code), expected[code]) << code;
  EXPECT_STREQ(RpcCodeName(17), "Unknown");
  EXPECT_STREQ(RpcCodeName(-1), "Unknown");
}

TEST(SplitRpcMethod, ServiceAndMethodOfGrpcsPath) {
  auto name = SplitRpcMethod("/ates.tasks.v1.TaskService/CreateTask");
  EXPECT_EQ(name.service, "ates.tasks.v1.TaskService");
  EXPECT_EQ(name.method, "CreateTask");
  name = SplitRpcMethod("/grpc.health.v1.Health/Check");
  EXPECT_EQ(name.service, "grpc.health.v1.Health");
  EXPECT_EQ(name.method, "Check");
}

TEST(SplitRpcMethod, AnyOtherShapeIsKeptWholeUnderUnknown) {
  for (const char* odd :
       {"", "/", "//", "noslash", "/NoMethod", "/Svc/", "//Method", "/a/b/c", "Svc/Method"}) {
    auto name = SplitRpcMethod(odd);
    EXPECT_EQ(name.service, "unknown") << odd;
    EXPECT_EQ(name.method, odd);
  }
}

TEST(RpcMetricsCache, PastItsBoundNewMethodsAreNotCached) {
  Metrics metrics;
  RpcMetricsCache cache(metrics, 2);
  auto* a = cache.Find("/s.S/A");
  auto* b = cache.Find("/s.S/B");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(cache.Find("/s.S/C"), nullptr);  // the caller takes the uncached path
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Find("/s.S/A"), a);  // known methods still hit
}

}  // namespace
}  // namespace ates::platform
