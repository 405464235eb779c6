// TimeDecayedSampler: the per-tree reservoir of a Random Cut Forest.
//
// Keeps at most `capacity` points, favouring recent ones: the point with sequence number `seq`
// gets the weight -seq*lambda + log(-log(u)) for a uniform u, and the sample is the `capacity`
// smallest weights seen (a max-heap, so the worst is evicted first). With lambda = 0 this is
// plain uniform reservoir sampling; larger lambda forgets faster, over about 1/lambda points.
//
// Use in two steps, because the tree decides which index a duplicate point is stored under:
//   if (sampler.Accept(seq, rng, &evicted)) { ...remove `evicted` if >= 0...; sampler.Commit(i); }
//
// Cost: once the sample is full most points are rejected, and a rejection needs no logarithm.
// The weight falls as u rises, so "weight >= heap max" is "u <= u*" for a threshold u* that
// changes only when the heap max does and slowly with seq; Accept keeps a slightly low bound on
// u* valid for the next kBoundSpan points, rejects below it with one comparison, and computes
// the weight exactly otherwise. Decisions and stored weights are those of the plain formula.
//
// Thread-safety: not thread-safe; owned by one tree of one forest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "detect/blob.h"
#include "detect/random.h"

namespace fleetlog::detect {

class TimeDecayedSampler {
 public:
  // REQUIRES: capacity >= 1, time_decay >= 0.
  TimeDecayedSampler(int capacity, double time_decay);

  // Draws the weight of point `seq` and says whether it enters the sample. When it does and
  // the sample is full, *evicted is the index that leaves (the caller removes it from the tree
  // and drops its reference); otherwise *evicted is -1.
  // REQUIRES: seq does not decrease between calls; no Accept pending without Commit.
  bool Accept(int64_t seq, Rng& rng, int32_t* evicted);
  // Records the index the accepted point is stored under. REQUIRES: Accept returned true.
  void Commit(int32_t point);

  size_t size() const { return heap_.size(); }
  bool full() const { return heap_.size() >= static_cast<size_t>(capacity_); }
  // Every sampled point index once per sample entry, in no particular order.
  std::vector<int32_t> Points() const;
  size_t MemoryBytes() const { return heap_.capacity() * sizeof(Entry); }

  void Serialize(BlobWriter* out) const;
  Status Deserialize(BlobReader* in);

 private:
  struct Entry {
    float weight;
    int32_t point;
  };
  // A function object rather than a function, so that the heap algorithms inline it.
  struct Lighter {
    bool operator()(const Entry& a, const Entry& b) const { return a.weight < b.weight; }
  };

  // Recomputes reject_below_ and bound_until_ for point `seq` against the current heap max.
  void RefreshRejectBound(int64_t seq);

  int capacity_;
  double time_decay_;
  // Weights are stored relative to base_seq_ so that float32 keeps its precision on long
  // streams; Accept rebases every entry when the offset grows large.
  int64_t base_seq_ = 0;
  float pending_weight_ = 0;
  // While full: any u <= reject_below_ gives a weight >= the heap max, for seq < bound_until_.
  // Not saved; bound_until_ = 0 forces a refresh.
  double reject_below_ = 0;
  int64_t bound_until_ = 0;
  std::vector<Entry> heap_;  // max-heap on weight
};

}  // namespace fleetlog::detect
