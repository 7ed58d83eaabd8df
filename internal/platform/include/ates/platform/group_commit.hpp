#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace ates::platform {

// Group commit for a write path with many concurrent callers: each caller
// hands its write to Submit(), and whatever has gathered meanwhile is written
// by one `flush` call, i.e. one transaction, one round trip and one WAL flush
// for the whole batch. Nothing waits on purpose: a batch leaves as soon as a
// flush slot is free, so a lone caller is written at once, alone; batches grow
// only while earlier ones are in flight. No thread of its own: the callers
// take turns running the flushes (leader/follower).
//
// `flush` must be all-or-nothing (one transaction): when it throws for a batch
// of several items, each item is flushed again alone, so one item's bad data
// fails only its own caller; unless `split` says the error is not about the
// data (the database is down: then every caller of the batch gets the error at
// once rather than after one more round of retries per item). A caller
// returns only after the flush that holds its item returned (committed) or threw.
template <class Item>
class GroupCommit final {
 public:
  using Flush = std::function<void(const std::vector<Item*>& batch)>;
  // Whether a failed batch is retried item by item (given what it threw).
  using Split = std::function<bool(const std::exception_ptr& error)>;

  GroupCommit(
      Flush flush, size_t max_batch, int max_in_flight,
      Split split = [](const std::exception_ptr&) { return true; })
      : flush_(std::move(flush)),
        split_(std::move(split)),
        max_batch_(max_batch),
        max_in_flight_(max_in_flight) {
    if (max_batch_ == 0 || max_in_flight_ <= 0) {
      throw std::invalid_argument("GroupCommit needs max_batch >= 1 and max_in_flight >= 1");
    }
  }
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Writes `item` in some batch; returns when that batch committed, or rethrows
  // what flushing the item alone threw.
  void Submit(Item& item) {
    Waiter me{&item};
    std::unique_lock lock(mu_);
    queue_.push_back(&me);
    for (;;) {
      if (me.done) break;
      if (in_flight_ < max_in_flight_ && !queue_.empty()) {
        RunOneBatch(lock);  // may or may not hold this caller's item
        continue;
      }
      me.wake.wait(lock);
    }
    if (me.error) std::rethrow_exception(me.error);
  }

  // Batches flushed and items written, for metrics and tests.
  struct Stats {
    uint64_t batches = 0;
    uint64_t items = 0;
    uint64_t split = 0;  // batches that failed and were flushed item by item
  };
  Stats stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }
  // Items waiting for a batch (not counting those being flushed).
  size_t waiting() const {
    std::lock_guard lock(mu_);
    return queue_.size();
  }

 private:
  struct Waiter {
    explicit Waiter(Item* i) : item(i) {}
    Item* item;
    bool done = false;
    std::exception_ptr error;
    // Each caller sleeps on its own: a finished batch wakes its own callers
    // and one queued caller to lead the next batch, not everyone.
    std::condition_variable wake;
  };

  // Takes up to max_batch_ waiters off the queue and flushes them with the
  // lock released; called with the lock held, returns with it held.
  void RunOneBatch(std::unique_lock<std::mutex>& lock) {
    std::vector<Waiter*> batch;
    while (!queue_.empty() && batch.size() < max_batch_) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    ++in_flight_;
    lock.unlock();
    bool split = false;
    std::vector<Item*> items;
    items.reserve(batch.size());
    for (auto* w : batch) items.push_back(w->item);
    try {
      flush_(items);
    } catch (...) {
      auto error = std::current_exception();
      if (batch.size() == 1 || !split_(error)) {
        for (auto* w : batch) w->error = error;
      } else {
        split = true;
        for (auto* w : batch) {
          try {
            flush_(std::vector<Item*>{w->item});
          } catch (...) {
            w->error = std::current_exception();
          }
        }
      }
    }
    lock.lock();
    --in_flight_;
    ++stats_.batches;
    stats_.items += batch.size();
    if (split) ++stats_.split;
    for (auto* w : batch) {
      w->done = true;
      w->wake.notify_one();
    }
    if (!queue_.empty()) queue_.front()->wake.notify_one();
  }

  Flush flush_;
  Split split_;
  const size_t max_batch_;
  const int max_in_flight_;
  mutable std::mutex mu_;
  std::deque<Waiter*> queue_;
  int in_flight_ = 0;
  Stats stats_;
};

}  // namespace ates::platform
