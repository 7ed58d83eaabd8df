#include "support/nats_cluster.hpp"

#include <signal.h>

#include <filesystem>
#include <stdexcept>
#include <thread>

#include "support/test_stack.hpp"
#include "support/wait.hpp"

namespace ates::test {

NatsCluster::NatsCluster(int size) {
  auto& stack = TestStack::Get();
  static int clusters = 0;
  const std::string base = stack.dir() + "/nats-cluster-" + std::to_string(++clusters);
  for (int i = 0; i < size; ++i) {
    Node n;
    n.name = "n" + std::to_string(i + 1);
    n.port = FreePort();
    n.cluster_port = FreePort();
    n.monitor_port = FreePort();
    n.store = base + "/" + n.name;
    std::filesystem::create_directories(n.store);
    nodes_.push_back(std::move(n));
  }
}

NatsCluster::~NatsCluster() {
  for (auto& n : nodes_) {
    if (n.process) n.process->Stop(SIGTERM, std::chrono::seconds(10));
  }
}

std::string NatsCluster::url() const {
  std::string out;
  for (const auto& n : nodes_) {
    out += (out.empty() ? "" : ",") + std::string("nats://127.0.0.1:") + std::to_string(n.port);
  }
  return out;
}

int NatsCluster::index(const std::string& name) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

void NatsCluster::Spawn(Node& n) {
  std::string routes;
  for (const auto& o : nodes_) {
    routes += (routes.empty() ? "" : ",") + std::string("nats://127.0.0.1:") +
              std::to_string(o.cluster_port);
  }
  SpawnOptions o;
  // The stack's users and permissions (ADR 15), so daemons connect as themselves.
  o.argv = {"nats-server",
            "-c",
            TestStack::Get().WriteNatsAuth(n.store),
            "-js",
            "-sd",
            n.store,
            "-a",
            "127.0.0.1",
            "-p",
            std::to_string(n.port),
            "-m",
            std::to_string(n.monitor_port),
            "--cluster",
            "nats://127.0.0.1:" + std::to_string(n.cluster_port),
            "--routes",
            routes,
            "--cluster_name",
            "ates",
            "-n",
            n.name};
  n.log = TestStack::Get().LogPath("nats-" + n.name);
  o.output_path = n.log;
  n.process = Process::Spawn(o);
}

void NatsCluster::Start() {
  for (auto& n : nodes_) Spawn(n);
  for (auto& n : nodes_) {
    bool ready = Eventually(
        [&] {
          return !n.process->Running() ||
                 ReadFile(n.log).find("metadata leader") != std::string::npos;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(50));
    if (!ready || !n.process->Running()) {
      throw std::runtime_error("nats cluster node " + n.name + " did not start:\n" +
                               Tail(ReadFile(n.log), 4000));
    }
  }
}

void NatsCluster::Kill(int i) {
  auto& n = nodes_.at(i);
  if (n.process) n.process->Stop(SIGKILL, std::chrono::seconds(10));
  n.process.reset();
}

void NatsCluster::Restart(int i) {
  auto& n = nodes_.at(i);
  if (n.process) return;
  // The ports were ours a moment ago; allow a few attempts.
  for (int attempt = 1;; ++attempt) {
    Spawn(n);
    bool ready = Eventually(
        [&] {
          return !n.process->Running() ||
                 ReadFile(n.log).find("metadata leader") != std::string::npos;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(50));
    if (ready && n.process->Running()) return;
    n.process->Stop(SIGKILL, std::chrono::seconds(5));
    n.process.reset();
    if (attempt >= 3) {
      throw std::runtime_error("nats cluster node " + n.name + " did not restart:\n" +
                               Tail(ReadFile(n.log), 4000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace ates::test
