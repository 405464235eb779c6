// RandomCutForest: streaming anomaly scores from a Robust Random Cut Forest.
//
// After Guha, Mishra, Roy and Schrijvers, "Robust Random Cut Forest Based Anomaly Detection on
// Streams" (ICML 2016), with the scoring and sampling choices of AWS's random-cut-forest-by-aws
// library. Each input is a vector of `dimensions` values; the forest glues the last
// `shingle_size` inputs into one point (internal shingling), keeps a time-decayed sample of
// those points per tree, and scores a new point by how early random cuts would isolate it.
// Normal points score below about 1; anomalies clearly above.
//
// Usage, once per input in stream order:
//   double score = forest.Score(x);   // 0 until ready()
//   RETURN_IF_ERROR(forest.Update(x));
//
// Determinism: the same options (seed included) and inputs give the same scores, and a model
// restored from Serialize() continues exactly as the original would have.
// Thread-safety: not thread-safe, not even const use: scoring writes to internal scratch
// space. Callers serialise all access to one forest; distinct forests are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "detect/point_store.h"
#include "detect/random.h"
#include "detect/random_cut_tree.h"
#include "detect/sampler.h"

namespace fleetlog::detect {

struct ForestOptions {
  int dimensions = 1;       // values per input
  int shingle_size = 1;     // inputs per point
  int number_of_trees = 50;
  int sample_size = 256;    // points per tree
  double time_decay = -1;   // lambda of the samplers; < 0 means 1 / (10 * sample_size)
  int output_after = -1;    // points before scores start; < 0 means sample_size / 4
  bool bounding_box_cache = true;   // cache boxes per node: much faster, more memory
  uint64_t seed = 42;

  // Resolves the defaults (-1) and rejects values out of range, saying which and why.
  Result<ForestOptions> Resolved() const;
};

// A score split over input dimensions and direction: high[i] is the part due to coordinate i
// being above what the forest has seen, low[i] below. Coordinates are those of the shingled
// point (oldest input first). The entries sum to the score.
struct DiVector {
  std::vector<double> high, low;
  double Total() const;
};

class RandomCutForest {
 public:
  static Result<RandomCutForest> Create(const ForestOptions& options);
  // Restores a forest from Serialize()'s output; kCorruption if the blob is damaged.
  static Result<RandomCutForest> Deserialize(std::string_view blob);

  // The options with defaults resolved.
  const ForestOptions& options() const { return options_; }

  // Whether Score would return a real score for the next input: the shingle is complete and
  // at least output_after points have been added.
  bool ready() const;

  // Fails with kInvalidArgument unless `input` has `dimensions` finite values.
  Status CheckInput(std::span<const double> input) const;

  // Score of the point `input` completes, before it is added; 0 until ready().
  // REQUIRES: CheckInput(input).ok().
  double Score(std::span<const double> input);
  // Score() split by dimension; all zero until ready(). REQUIRES: CheckInput(input).ok().
  DiVector Attribution(std::span<const double> input);
  // Adds `input` to the shingle and, once the shingle is full, the point to the trees that
  // sample it. Fails on bad input (nothing changes) or on a broken internal invariant.
  Status Update(std::span<const double> input);

  int64_t inputs_seen() const { return inputs_seen_; }
  int64_t points_added() const { return points_added_; }
  int point_dimensions() const { return options_.dimensions * options_.shingle_size; }

  // Bytes allocated by this model: the sum of its arrays' capacities and object sizes.
  size_t MemoryBytes() const;

  // A compact binary image of the whole model, random number state included.
  std::string Serialize() const;

  // For tests.
  const PointStore& point_store() const { return store_; }
  const RandomCutTree& tree(int i) const { return trees_[static_cast<size_t>(i)]; }
  std::vector<int32_t> SampledPoints(int i) const { return samplers_[static_cast<size_t>(i)].Points(); }

 private:
  explicit RandomCutForest(const ForestOptions& resolved);
  // Fills point_ with the shingled point that `input` completes.
  void MakePoint(std::span<const double> input);

  ForestOptions options_;
  PointStore store_;
  std::vector<RandomCutTree> trees_;
  std::vector<TimeDecayedSampler> samplers_;
  std::vector<Rng> rngs_;  // one per tree: its sampler's weights and its cuts
  std::vector<float> shingle_;  // the last shingle_size inputs, oldest first
  int64_t inputs_seen_ = 0;
  int64_t points_added_ = 0;
  std::vector<float> point_;  // scratch: the point being scored or added
  TreeScratch scratch_;
  std::vector<TreeScratch> lanes_;  // one per tree descended together while scoring
};

}  // namespace fleetlog::detect
