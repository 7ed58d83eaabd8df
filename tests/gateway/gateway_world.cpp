#include "gateway_world.hpp"

namespace ates::test {
namespace {

GatewayWorld* g_world = nullptr;

class WorldEnvironment final : public ::testing::Environment {
 public:
  void TearDown() override {
    delete g_world;
    g_world = nullptr;
  }
};

[[maybe_unused]] auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new WorldEnvironment);

}  // namespace

GatewayWorld& GatewayWorld::Get() {
  if (g_world == nullptr) g_world = new GatewayWorld();
  return *g_world;
}

}  // namespace ates::test
