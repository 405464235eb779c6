// PointStore: the points of a Random Cut Forest, shared by all of its trees.
//
// Trees and samplers hold int32 indices into the store, never coordinates. Each stored point has
// a reference count (one per sampler entry that holds it, plus any the forest holds while it
// inserts); at zero the index goes on a free list for reuse, chained through the count array
// itself. Coordinates are float32.
//
// Without shingling a point's values sit at index * dimensions, with no per-point offset.
// Shingled points are stored de-duplicated: with internal shingling, consecutive points share
// all but their newest `base_dimensions` values, so a point that continues the last stored one
// costs only `base_dimensions` new floats, and each index records where its values start.
// Freed values are reclaimed by compaction when the value array fills.
//
// Arrays grow by a quarter at a time, not double, to keep the slack of a warmed-up model small.
//
// Thread-safety: not thread-safe; the owning forest serialises all access.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "detect/blob.h"

namespace fleetlog::detect {

class PointStore {
 public:
  // REQUIRES: base_dimensions >= 1, shingle_size >= 1.
  PointStore(int base_dimensions, int shingle_size);

  int dimensions() const { return dimensions_; }

  // Stores a copy of `point` (dimensions() values) with one reference; returns its index.
  // Invalidates every pointer returned by Get().
  int32_t Add(std::span<const float> point);

  // REQUIRES: IsLive(index).
  void AddReference(int32_t index) { ++references_[static_cast<size_t>(index)]; }
  // Drops one reference; the index is freed when none remain. REQUIRES: IsLive(index).
  void RemoveReference(int32_t index);

  // The dimensions() coordinates of a live point, valid until the next Add().
  const float* Get(int32_t index) const {
    const auto i = static_cast<size_t>(index);
    return values_.data() + (shingled_ ? locations_[i] : i * static_cast<size_t>(dimensions_));
  }

  bool IsLive(int32_t index) const {
    return index >= 0 && static_cast<size_t>(index) < references_.size() &&
           references_[static_cast<size_t>(index)] > 0;
  }
  int32_t references(int32_t index) const { return std::max(references_[static_cast<size_t>(index)], 0); }
  // One more than the highest index ever handed out.
  size_t index_count() const { return references_.size(); }
  size_t live_points() const { return references_.size() - free_count_; }
  // Floats currently held, live or awaiting compaction.
  size_t stored_values() const { return values_.size(); }

  // Bytes allocated by this store (vector capacities).
  size_t MemoryBytes() const;

  void Serialize(BlobWriter* out) const;
  // Replaces this store's contents with what Serialize wrote. Fails with kCorruption when the
  // blob is truncated or inconsistent, leaving the store unspecified.
  Status Deserialize(BlobReader* in);

 private:
  // A free index's entry in references_ encodes the next free index n (-1: none) as -1 - n,
  // so it is <= 0 and distinct from every live count.
  static int32_t FreeLink(int32_t next) { return -1 - next; }
  static int32_t NextFree(int32_t link) { return -1 - link; }
  // Takes an index off the free list, or appends a new one.
  int32_t NewIndex();
  // Removes the values no live point covers and rewrites locations; keeps their order.
  // Shingled stores only.
  void Compact();
  // Makes room for `count` more values, compacting first when that frees enough. Shingled only.
  void ReserveValues(size_t count);

  int base_dimensions_;
  int dimensions_;
  bool shingled_;  // dimensions_ > base_dimensions_: values are shared and located per index
  std::vector<float> values_;
  std::vector<uint32_t> locations_;  // shingled: per index, offset of its first value in values_
  std::vector<int32_t> references_;  // per index: > 0 live; otherwise a free-list link
  int32_t free_head_ = -1;           // the free index reused next (last freed), or -1
  size_t free_count_ = 0;
};

}  // namespace fleetlog::detect
