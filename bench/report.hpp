#pragma once

// The final table of `make bench`: every figure the programs reported (in the
// results file, common.hpp's Report), then one line per figure with a goal or
// with reference figures: its share of them and "met" / "MISSED".

#include <string>

namespace ates::bench {

// Prints the table for the results file at `path`; returns how many goals were missed.
int PrintReport(const std::string& path);

}  // namespace ates::bench
