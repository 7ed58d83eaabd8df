#pragma once
// Chi-square goodness of fit for the uniformity tests (no I/O, header-only).

#include <cmath>
#include <vector>

namespace ates::test {

// Regularized upper incomplete gamma Q(a, x) (Numerical Recipes).
inline double GammaQ(double a, double x) {
  if (x <= 0) return 1.0;
  double gln = std::lgamma(a);
  if (x < a + 1) {
    double ap = a, sum = 1.0 / a, del = sum;
    for (int n = 0; n < 1000; ++n) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (std::fabs(del) < std::fabs(sum) * 1e-15) break;
    }
    return 1.0 - sum * std::exp(-x + a * std::log(x) - gln);
  }
  double b = x + 1 - a, c = 1.0 / 1e-300, d = 1.0 / b, h = d;
  for (int i = 1; i < 1000; ++i) {
    double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (std::fabs(c) < 1e-300) c = 1e-300;
    d = 1.0 / d;
    double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < 1e-15) break;
  }
  return std::exp(-x + a * std::log(x) - gln) * h;
}

struct ChiSquareResult {
  double statistic = 0;
  int df = 0;
  double p_value = 1;
};

// Goodness of fit of observed counts against expected counts.
inline ChiSquareResult ChiSquare(const std::vector<double>& observed,
                                 const std::vector<double>& expected, int df) {
  ChiSquareResult r;
  for (size_t i = 0; i < observed.size(); ++i) {
    double d = observed[i] - expected[i];
    r.statistic += d * d / expected[i];
  }
  r.df = df;
  r.p_value = GammaQ(df / 2.0, r.statistic / 2.0);
  return r;
}

}  // namespace ates::test
