// GroupCommit without a database: what each flush saw, and what each caller got.
#include "ates/platform/group_commit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace ates::platform {
namespace {

using namespace std::chrono_literals;

struct Write {
  int value = 0;
  bool written = false;
};

// Waits (up to 10 s) until `pred` holds.
template <class Pred>
bool Eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(GroupCommitTest, LoneCallerIsFlushedAloneAndAtOnce) {
  std::vector<size_t> sizes;
  GroupCommit<Write> gc(
      [&](const std::vector<Write*>& batch) {
        sizes.push_back(batch.size());
        for (auto* w : batch) w->written = true;
      },
      64, 1);
  Write a{1}, b{2};
  gc.Submit(a);
  gc.Submit(b);
  EXPECT_TRUE(a.written);
  EXPECT_TRUE(b.written);
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 1}));
  EXPECT_EQ(gc.stats().batches, 2u);
  EXPECT_EQ(gc.stats().items, 2u);
}

// While one flush is in flight, the callers that arrive meanwhile gather and
// leave together in the next flush, at most max_batch at a time.
TEST(GroupCommitTest, CallersArrivingDuringAFlushShareTheNextOnes) {
  std::mutex mu;
  std::vector<std::vector<int>> batches;
  std::atomic<bool> release{false};
  GroupCommit<Write>* gc_ptr = nullptr;
  GroupCommit<Write> gc(
      [&](const std::vector<Write*>& batch) {
        {
          std::lock_guard lock(mu);
          std::vector<int> values;
          for (auto* w : batch) values.push_back(w->value);
          batches.push_back(values);
        }
        // The first flush holds the line until everyone else is queued.
        if (batch.front()->value == 0) {
          while (!release) std::this_thread::sleep_for(1ms);
        }
        for (auto* w : batch) w->written = true;
      },
      3, 1);
  gc_ptr = &gc;
  std::vector<Write> writes(8);
  for (int i = 0; i < 8; ++i) writes[i].value = i;
  std::thread first([&] { gc.Submit(writes[0]); });
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mu);
    return batches.size() == 1;
  }));
  std::vector<std::thread> others;
  for (int i = 1; i < 8; ++i) others.emplace_back([&, i] { gc.Submit(writes[i]); });
  ASSERT_TRUE(Eventually([&] { return gc_ptr->waiting() == 7; }));
  release = true;
  first.join();
  for (auto& t : others) t.join();

  for (const auto& w : writes) EXPECT_TRUE(w.written) << w.value;
  ASSERT_EQ(batches.size(), 4u);  // {0}, then 7 queued in batches of at most 3
  EXPECT_EQ(batches[0], std::vector<int>{0});
  EXPECT_EQ(batches[1].size(), 3u);
  EXPECT_EQ(batches[2].size(), 3u);
  EXPECT_EQ(batches[3].size(), 1u);
  EXPECT_EQ(gc.stats().items, 8u);
  EXPECT_EQ(gc.stats().split, 0u);
}

// A batch that fails is flushed item by item: only the bad item's caller fails.
TEST(GroupCommitTest, AFailedBatchFailsOnlyTheBadItem) {
  std::atomic<bool> release{false};
  std::mutex mu;
  std::vector<size_t> sizes;
  GroupCommit<Write> gc(
      [&](const std::vector<Write*>& batch) {
        {
          std::lock_guard lock(mu);
          sizes.push_back(batch.size());
        }
        if (batch.front()->value == 0) {
          while (!release) std::this_thread::sleep_for(1ms);
        }
        for (auto* w : batch) {
          if (w->value < 0) throw std::runtime_error("bad item " + std::to_string(w->value));
        }
        for (auto* w : batch) w->written = true;
      },
      16, 1);
  Write first{0};
  std::thread leader([&] { gc.Submit(first); });
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mu);
    return sizes.size() == 1;
  }));
  std::vector<Write> writes{{1}, {-1}, {2}};
  std::vector<std::string> errors(writes.size());
  std::vector<std::thread> others;
  for (size_t i = 0; i < writes.size(); ++i) {
    others.emplace_back([&, i] {
      try {
        gc.Submit(writes[i]);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  ASSERT_TRUE(Eventually([&] { return gc.waiting() == writes.size(); }));
  release = true;
  leader.join();
  for (auto& t : others) t.join();

  EXPECT_TRUE(first.written);
  EXPECT_TRUE(writes[0].written);
  EXPECT_FALSE(writes[1].written);
  EXPECT_TRUE(writes[2].written);
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "bad item -1");
  EXPECT_EQ(errors[2], "");
  // {0}, the batch of 3 that failed, then each of the 3 alone.
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 3, 1, 1, 1}));
  EXPECT_EQ(gc.stats().split, 1u);
}

// An error that is not about the data (split says no) fails the whole batch
// at once: no second attempt per item.
TEST(GroupCommitTest, AnErrorNotAboutTheDataFailsTheBatchWithoutSplitting) {
  std::atomic<bool> release{false};
  std::atomic<int> flushes{0};
  GroupCommit<Write> gc(
      [&](const std::vector<Write*>& batch) {
        ++flushes;
        if (batch.front()->value == 0) {
          while (!release) std::this_thread::sleep_for(1ms);
          return;
        }
        throw std::runtime_error("database down");
      },
      16, 1, [](const std::exception_ptr&) { return false; });
  Write first{0};
  std::thread leader([&] { gc.Submit(first); });
  ASSERT_TRUE(Eventually([&] { return flushes == 1; }));
  std::vector<Write> writes{{1}, {2}, {3}};
  std::atomic<int> failed{0};
  std::vector<std::thread> others;
  for (auto& w : writes) {
    others.emplace_back([&, item = &w] {
      try {
        gc.Submit(*item);
      } catch (const std::runtime_error&) {
        ++failed;
      }
    });
  }
  ASSERT_TRUE(Eventually([&] { return gc.waiting() == writes.size(); }));
  release = true;
  leader.join();
  for (auto& t : others) t.join();
  EXPECT_EQ(failed.load(), 3);
  EXPECT_EQ(flushes.load(), 2);  // {0}, then the three together, once
  EXPECT_EQ(gc.stats().split, 0u);
}

TEST(GroupCommitTest, ALoneFailureReachesItsCaller) {
  GroupCommit<Write> gc([](const std::vector<Write*>&) { throw std::runtime_error("down"); }, 8, 2);
  Write w{1};
  EXPECT_THROW(gc.Submit(w), std::runtime_error);
  EXPECT_EQ(gc.stats().split, 0u);
}

// Never more flushes at once than max_in_flight, and all callers get through.
TEST(GroupCommitTest, RespectsMaxInFlightUnderLoad) {
  std::atomic<int> in_flight{0}, max_seen{0};
  std::atomic<int> written{0};
  GroupCommit<Write> gc(
      [&](const std::vector<Write*>& batch) {
        int now = ++in_flight;
        int seen = max_seen.load();
        while (now > seen && !max_seen.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(200us);
        written += static_cast<int>(batch.size());
        --in_flight;
      },
      4, 2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        Write w{i};
        gc.Submit(w);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(written.load(), 1600);
  EXPECT_LE(max_seen.load(), 2);
  EXPECT_EQ(gc.stats().items, 1600u);
  EXPECT_LT(gc.stats().batches, 1600u);  // some callers shared a flush
}

TEST(GroupCommitTest, RefusesAZeroBatchOrNoFlushSlot) {
  auto flush = [](const std::vector<Write*>&) {};
  EXPECT_THROW(GroupCommit<Write>(flush, 0, 1), std::invalid_argument);
  EXPECT_THROW(GroupCommit<Write>(flush, 1, 0), std::invalid_argument);
}

}  // namespace
}  // namespace ates::platform
