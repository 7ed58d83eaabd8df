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

  auto text = Exposition(metrics);
  EXPECT_NE(
      text.find(
          R"(ates_grpc_server_handled_total{code="OK",method="/ates.tasks.v1.TaskService/GetTask"} 2)"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(code="NOT_FOUND",method="/ates.tasks.v1.TaskService/GetTask"} 1)"),
            std::string::npos);
  EXPECT_NE(
      text.find(
          R"(ates_grpc_server_handling_seconds_count{method="/ates.tasks.v1.TaskService/GetTask"} 1)"),
      std::string::npos);
}

TEST(RpcMetricsCache, AnOutOfRangeCodeCountsAsUnknown) {
  Metrics metrics;
  RpcMetricsCache cache(metrics);
  auto* m = cache.Find("/x.Y/Z");
  EXPECT_EQ(&m->Count(99), &m->Count(2));
  EXPECT_EQ(&m->Count(-1), &metrics.RpcCount("/x.Y/Z", "UNKNOWN"));
  EXPECT_STREQ(RpcCodeName(16), "UNAUTHENTICATED");
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
