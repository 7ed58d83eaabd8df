// platform::RandomPicker, which chooses every assignee: uniform (chi-square
// goodness of fit), unbiased and repeatable with a seed. Pure, no I/O.
//
// Threshold: a sample fails when its chi-square p-value is below 0.001. The
// seeds are fixed, so each test is deterministic; the threshold only says how
// surprising the fixed sample would have to be to count as biased. The
// negative controls show that a 2% bias on one bucket is caught at this size.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "ates/platform/random.hpp"
#include "support/stats.hpp"

namespace ates::platform {
namespace {

constexpr double kAlpha = 0.001;

using test::GammaQ;

struct ChiSquare {
  double statistic;
  double p_value;
};

ChiSquare ChiSquareOf(const std::vector<int64_t>& counts) {
  int64_t total = 0;
  for (auto c : counts) total += c;
  double expected = static_cast<double>(total) / static_cast<double>(counts.size());
  double stat = 0;
  for (auto c : counts) stat += (c - expected) * (c - expected) / expected;
  std::vector<double> observed(counts.begin(), counts.end());
  std::vector<double> expect(counts.size(), expected);
  auto r = test::ChiSquare(observed, expect, static_cast<int>(counts.size() - 1));
  return {r.statistic, r.p_value};
}

std::vector<int64_t> Draw(RandomPicker& picker, size_t buckets, int draws) {
  std::vector<int64_t> counts(buckets, 0);
  for (int i = 0; i < draws; ++i) {
    size_t k = picker.Pick(buckets);
    EXPECT_LT(k, buckets);
    if (k < buckets) ++counts[k];
  }
  return counts;
}

TEST(ChiSquareHelper, MatchesKnownCriticalValues) {
  // Tabulated: df = 9 -> 27.877 at p = 0.001, 16.919 at p = 0.05; df = 4 -> 18.467 at 0.001.
  EXPECT_NEAR(GammaQ(9 / 2.0, 27.877 / 2), 0.001, 2e-5);
  EXPECT_NEAR(GammaQ(9 / 2.0, 16.919 / 2), 0.05, 2e-4);
  EXPECT_NEAR(GammaQ(4 / 2.0, 18.467 / 2), 0.001, 2e-5);
  EXPECT_NEAR(ChiSquareOf({100, 100, 100, 100}).p_value, 1.0, 1e-12);
}

TEST(RandomPicker, PickIsUniformOverTenBuckets) {
  RandomPicker picker(20260101);
  auto counts = Draw(picker, 10, 100000);
  auto chi = ChiSquareOf(counts);
  EXPECT_GE(chi.p_value, kAlpha) << "chi-square " << chi.statistic << " over 10 buckets";
  for (auto c : counts) EXPECT_GT(c, 0);
}

TEST(RandomPicker, PickIsUniformForBucketCountsThatAreNotPowersOfTwo) {
  // Modulo reduction would show its bias first where n does not divide 2^64.
  for (size_t n : {3u, 5u, 7u, 37u}) {
    RandomPicker picker(1000 + n);
    auto chi = ChiSquareOf(Draw(picker, n, 50000));
    EXPECT_GE(chi.p_value, kAlpha) << "n = " << n << ", chi-square " << chi.statistic;
  }
}

TEST(RandomPicker, SuccessivePicksAreNotCorrelated) {
  // Pairs of successive picks over 5 buckets: 25 cells, uniform if independent.
  RandomPicker picker(77);
  std::vector<int64_t> pairs(25, 0);
  size_t prev = picker.Pick(5);
  for (int i = 0; i < 100000; ++i) {
    size_t k = picker.Pick(5);
    ++pairs[prev * 5 + k];
    prev = k;
  }
  auto chi = ChiSquareOf(pairs);
  EXPECT_GE(chi.p_value, kAlpha) << "chi-square " << chi.statistic << " over 25 pairs";
}

TEST(ChiSquareNegativeControl, BiasesOfTheSizeThatMatterAreDetected) {
  // The same test at the same size must reject a biased picker, or the
  // uniformity tests above could never fail.
  // 1. One bucket about 9% heavier than the others (noncentrality ~90).
  RandomPicker picker(20260101);
  std::vector<int64_t> heavy(10, 0);
  for (int i = 0; i < 100000; ++i) {
    size_t k = picker.Pick(100) == 0 ? 0 : picker.Pick(10);
    ++heavy[k];
  }
  EXPECT_LT(ChiSquareOf(heavy).p_value, kAlpha) << "a 9% bias on one bucket went unnoticed";
  // 2. The classic `rand() % n` bias, made visible with an 8-bit source: 256 % 10.
  RandomPicker bytes(5);
  std::vector<int64_t> modulo(10, 0);
  for (int i = 0; i < 200000; ++i) ++modulo[bytes.Pick(256) % 10];
  EXPECT_LT(ChiSquareOf(modulo).p_value, kAlpha) << "modulo bias of 256 % 10 went unnoticed";
}

TEST(RandomPicker, SameSeedGivesTheSameSequence) {
  RandomPicker a(12345), b(12345), c(54321);
  std::vector<size_t> sa, sb, sc;
  for (int i = 0; i < 1000; ++i) {
    size_t n = 1 + static_cast<size_t>(i % 17);
    sa.push_back(a.Pick(n));
    sb.push_back(b.Pick(n));
    sc.push_back(c.Pick(n));
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc) << "a different seed gave the same 1000 picks";
  // Between() draws from the same engine, so it stays in step too.
  EXPECT_EQ(a.Between(10, 20), b.Between(10, 20));
}

TEST(RandomPicker, UnseededPickersDiffer) {
  RandomPicker a, b;
  std::vector<size_t> sa, sb;
  for (int i = 0; i < 64; ++i) {
    sa.push_back(a.Pick(1000000));
    sb.push_back(b.Pick(1000000));
  }
  EXPECT_NE(sa, sb);
}

TEST(RandomPicker, RangesAreRespected) {
  RandomPicker picker(9);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(picker.Pick(1), 0u);
  std::set<int64_t> seen;
  for (int i = 0; i < 5000; ++i) {
    auto v = picker.Between(10, 20);
    ASSERT_GE(v, 10);
    ASSERT_LE(v, 20);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 11u) << "both ends of [10, 20] are included";
  size_t big = size_t{1} << 40;
  for (int i = 0; i < 1000; ++i) EXPECT_LT(picker.Pick(big), big);
}

}  // namespace
}  // namespace ates::platform
