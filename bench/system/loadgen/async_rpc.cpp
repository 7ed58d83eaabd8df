#include "async_rpc.hpp"

namespace ates::bench::system {

CompletionQueues::CompletionQueues(int count) {
  for (int i = 0; i < count; ++i) queues_.push_back(std::make_unique<grpc::CompletionQueue>());
  for (auto& q : queues_) threads_.emplace_back([this, cq = q.get()] { Poll(cq); });
}

CompletionQueues::~CompletionQueues() {
  for (auto& q : queues_) q->Shutdown();
  for (auto& t : threads_) t.join();
}

void CompletionQueues::Poll(grpc::CompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
    auto* t = static_cast<Tag*>(tag);
    t->Done();
    delete t;
    --in_flight_;
  }
}

}  // namespace ates::bench::system
