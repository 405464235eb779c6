// PointStore: the points of a Random Cut Forest, shared by all of its trees.
//
// Trees and samplers hold int32 indices into the store, never coordinates. Each stored point has
// a reference count (one per sampler entry that holds it, plus any the forest holds while it
// inserts); at zero the index goes on a free list for reuse. Coordinates are float32.
//
// Shingled points are stored de-duplicated: with internal shingling, consecutive points share
// all but their newest `base_dimensions` values, so a point that continues the last stored one
// costs only `base_dimensions` new floats. Freed values are reclaimed by compaction when the
// value array fills.
//
// Thread-safety: not thread-safe; the owning forest serialises all access.
#pragma once

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
    return values_.data() + locations_[static_cast<size_t>(index)];
  }

  bool IsLive(int32_t index) const {
    return index >= 0 && static_cast<size_t>(index) < references_.size() &&
           references_[static_cast<size_t>(index)] > 0;
  }
  int32_t references(int32_t index) const { return references_[static_cast<size_t>(index)]; }
  // One more than the highest index ever handed out.
  size_t index_count() const { return references_.size(); }
  size_t live_points() const { return references_.size() - free_.size(); }
  // Floats currently held, live or awaiting compaction.
  size_t stored_values() const { return values_.size(); }

  // Bytes allocated by this store (vector capacities).
  size_t MemoryBytes() const;

  void Serialize(BlobWriter* out) const;
  // Replaces this store's contents with what Serialize wrote. Fails with kCorruption when the
  // blob is truncated or inconsistent, leaving the store unspecified.
  Status Deserialize(BlobReader* in);

 private:
  // Removes the values no live point covers and rewrites locations; keeps their order.
  void Compact();
  // Makes room for `count` more values, compacting first when that frees enough.
  void ReserveValues(size_t count);

  int base_dimensions_;
  int dimensions_;
  std::vector<float> values_;
  std::vector<uint32_t> locations_;  // per index: offset of its first coordinate in values_
  std::vector<int32_t> references_;  // per index: 0 means free
  std::vector<int32_t> free_;        // free indices, reused last-in first-out
};

}  // namespace fleetlog::detect
