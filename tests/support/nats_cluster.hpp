#pragma once
// Three nats-server processes clustered with JetStream (nats-server 2.9), each
// on its own client, route and monitoring port and its own store folder in
// the test stack's folder, for tests of replicated streams. The stack's own
// nats-server is not part of it.

#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace ates::test {

class NatsCluster final {
 public:
  explicit NatsCluster(int size = 3);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // Starts every node and waits until each knows a JetStream metadata leader.
  void Start();
  // Comma-separated client URLs of every node. Not for the platform's client:
  // libnats 3.4.1 never connects with a list given to natsOptions_SetURL.
  std::string url() const;
  // The client URL of node i alone (a seed: the client learns the others).
  std::string url(int i) const { return "nats://127.0.0.1:" + std::to_string(nodes_.at(i).port); }
  int size() const { return static_cast<int>(nodes_.size()); }
  // "n1", "n2", ...: each node's server_name, as stream info's Cluster.Leader names it.
  std::string name(int i) const { return nodes_.at(i).name; }
  int index(const std::string& name) const;  // -1 when no node has that name
  // SIGKILL: what the node had not written to its files yet is lost.
  void Kill(int i);
  // Starts node i again on its ports and store, waits until it is ready.
  void Restart(int i);
  bool running(int i) const { return nodes_.at(i).process != nullptr; }
  std::string log_path(int i) const { return nodes_.at(i).log; }

 private:
  struct Node {
    std::string name;
    int port = 0, cluster_port = 0, monitor_port = 0;
    std::string store, log;
    std::unique_ptr<Process> process;
  };
  void Spawn(Node& n);

  std::vector<Node> nodes_;
};

}  // namespace ates::test
