#pragma once

// Asynchronous unary gRPC calls on CompletionQueues: each call is a heap
// object (the queue's tag) that runs its callback on the queue's thread when
// the reply arrives, then deletes itself. A few queues, one thread each.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace ates::bench::system {

using Clock = std::chrono::steady_clock;

struct Tag {
  virtual ~Tag() = default;
  virtual void Done() = 0;
};

template <class Resp>
struct Call final : Tag {
  grpc::ClientContext ctx;
  Resp resp;
  grpc::Status status;
  Clock::time_point started = Clock::now();
  std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> reader;
  std::function<void(Call&)> done;
  double Millis() const {
    return std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  }
  void Done() override { done(*this); }
};

class CompletionQueues final {
 public:
  explicit CompletionQueues(int count);
  ~CompletionQueues();
  grpc::CompletionQueue* Next() {
    return queues_[next_.fetch_add(1, std::memory_order_relaxed) % queues_.size()].get();
  }
  int64_t in_flight() const { return in_flight_.load(); }

  // `prepare(ctx, cq)` returns the stub's PrepareAsyncX reader; `done` runs
  // on a queue thread with the finished call.
  template <class Resp, class Prepare>
  void Issue(const std::string& token, Prepare prepare, std::function<void(Call<Resp>&)> done) {
    auto* c = new Call<Resp>();
    if (!token.empty()) c->ctx.AddMetadata("authorization", "Bearer " + token);
    c->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    c->done = std::move(done);
    ++in_flight_;
    c->reader = prepare(&c->ctx, Next());
    c->reader->StartCall();
    c->reader->Finish(&c->resp, &c->status, static_cast<Tag*>(c));
  }

 private:
  void Poll(grpc::CompletionQueue* cq);

  std::vector<std::unique_ptr<grpc::CompletionQueue>> queues_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> next_{0};
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace ates::bench::system
