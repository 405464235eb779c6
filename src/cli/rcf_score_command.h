// `fleetlog rcf score`: anomaly scores for a CSV time series.
//
// Reads a CSV with a header row from `in` and writes it to `out` with two columns appended,
// `score` (the Random Cut Forest score of the row) and `grade` (0..1 from the Thresholder),
// one output row per input record, each input record's text kept byte for byte. Both are 0
// until the model starts scoring (sample_size / 4 points, plus shingle_size - 1 rows).
// Rows are taken in file order; the time column is not parsed, only named in error messages.
//
// Exit codes: 0 success; 2 bad usage or bad input (bad option values, a missing column, a
// value that is not a finite number, malformed CSV: the message on `err` names the line);
// 1 any other failure. Output already written stays written.
// Thread-safety: a function over its arguments.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace fleetlog::cli {

struct RcfScoreOptions {
  std::vector<std::string> value_columns = {"value"};  // --value-column, repeatable
  std::string time_column = "timestamp";               // --time-column; may be absent
  int shingle_size = 1;                                // --shingle
  int number_of_trees = 50;                            // --trees
  int sample_size = 256;                               // --sample
  uint64_t seed = 42;                                  // --seed
};

int RunRcfScore(const RcfScoreOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace fleetlog::cli
