// The pure parts of the JetStream client: a cluster's server list from nats.url.
#include "ates/platform/jetstream.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ates::platform {
namespace {

using ::testing::ElementsAre;

TEST(SplitServers, OneUrlIsOneServer) {
  EXPECT_THAT(SplitServers("nats://127.0.0.1:4222"), ElementsAre("nats://127.0.0.1:4222"));
}

TEST(SplitServers, ACommaSeparatedClusterListBecomesEachServer) {
  EXPECT_THAT(SplitServers("nats://a:4222,nats://b:4222, nats://c:4222 "),
              ElementsAre("nats://a:4222", "nats://b:4222", "nats://c:4222"));
}

TEST(SplitServers, EmptyEntriesAreDropped) {
  EXPECT_THAT(SplitServers(",nats://a:4222,,"), ElementsAre("nats://a:4222"));
  EXPECT_TRUE(SplitServers("").empty());
}

}  // namespace
}  // namespace ates::platform
