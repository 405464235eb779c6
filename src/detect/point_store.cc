#include "detect/point_store.h"

#include <algorithm>
#include <cstring>

namespace fleetlog::detect {

PointStore::PointStore(int base_dimensions, int shingle_size)
    : base_dimensions_(base_dimensions), dimensions_(base_dimensions * shingle_size) {}

int32_t PointStore::Add(std::span<const float> point) {
  const size_t dims = static_cast<size_t>(dimensions_);
  const size_t overlap = dims - static_cast<size_t>(base_dimensions_);
  // With internal shingling the new point usually starts with the last `overlap` values of
  // the previous one, which are still the tail of values_: share them. Equal floats are the
  // same coordinates whichever point wrote them, so a coincidental match is also correct.
  size_t shared = 0;
  if (overlap > 0 && values_.size() >= overlap &&
      std::equal(point.begin(), point.begin() + static_cast<std::ptrdiff_t>(overlap),
                 values_.end() - static_cast<std::ptrdiff_t>(overlap))) {
    shared = overlap;
  }
  ReserveValues(dims - shared);
  // Compaction may have dropped the shared tail if no live point covered it.
  if (shared > 0 && (values_.size() < overlap ||
                     !std::equal(point.begin(), point.begin() + static_cast<std::ptrdiff_t>(overlap),
                                 values_.end() - static_cast<std::ptrdiff_t>(overlap)))) {
    shared = 0;
    ReserveValues(dims);
  }
  const auto location = static_cast<uint32_t>(values_.size() - shared);
  values_.insert(values_.end(), point.begin() + static_cast<std::ptrdiff_t>(shared), point.end());

  int32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
    locations_[static_cast<size_t>(index)] = location;
    references_[static_cast<size_t>(index)] = 1;
  } else {
    index = static_cast<int32_t>(references_.size());
    locations_.push_back(location);
    references_.push_back(1);
  }
  return index;
}

void PointStore::RemoveReference(int32_t index) {
  if (--references_[static_cast<size_t>(index)] == 0) free_.push_back(index);
}

void PointStore::ReserveValues(size_t count) {
  if (values_.size() + count <= values_.capacity()) return;
  Compact();
  // Grow when compaction left the array more than half full, so compactions stay amortised.
  const size_t needed = values_.size() + count;
  if (needed > values_.capacity() / 2) {
    values_.reserve(std::max(needed * 2, size_t{1024}));
  }
}

void PointStore::Compact() {
  std::vector<int32_t> live;
  live.reserve(live_points());
  for (size_t i = 0; i < references_.size(); ++i) {
    if (references_[i] > 0) live.push_back(static_cast<int32_t>(i));
  }
  std::sort(live.begin(), live.end(), [this](int32_t a, int32_t b) {
    return locations_[static_cast<size_t>(a)] < locations_[static_cast<size_t>(b)];
  });
  // Walk the live points in storage order, copying each maximal run of overlapping points
  // down to the write cursor. Destinations never pass sources, so memmove suffices.
  const size_t dims = static_cast<size_t>(dimensions_);
  size_t run_source = 0, run_end = 0, run_dest = 0, write = 0;
  bool in_run = false;
  for (int32_t index : live) {
    const size_t location = locations_[static_cast<size_t>(index)];
    if (in_run && location < run_end) {
      if (location + dims > run_end) {
        std::memmove(values_.data() + run_dest + (run_end - run_source), values_.data() + run_end,
                     (location + dims - run_end) * sizeof(float));
        run_end = location + dims;
      }
    } else {
      in_run = true;
      run_source = location;
      run_end = location + dims;
      run_dest = write;
      std::memmove(values_.data() + run_dest, values_.data() + location, dims * sizeof(float));
    }
    locations_[static_cast<size_t>(index)] = static_cast<uint32_t>(run_dest + (location - run_source));
    write = run_dest + (run_end - run_source);
  }
  values_.resize(write);
}

size_t PointStore::MemoryBytes() const {
  return values_.capacity() * sizeof(float) + locations_.capacity() * sizeof(uint32_t) +
         references_.capacity() * sizeof(int32_t) + free_.capacity() * sizeof(int32_t);
}

void PointStore::Serialize(BlobWriter* out) const {
  out->Put<int32_t>(base_dimensions_);
  out->Put<int32_t>(dimensions_);
  out->PutArray<float>(values_);
  out->PutArray<uint32_t>(locations_);
  out->PutArray<int32_t>(references_);
  out->PutArray<int32_t>(free_);
}

Status PointStore::Deserialize(BlobReader* in) {
  const Status corrupt(StatusCode::kCorruption, "point store: truncated or inconsistent");
  int32_t base = 0, dims = 0;
  if (!in->Get(&base) || !in->Get(&dims) || base != base_dimensions_ || dims != dimensions_) {
    return corrupt;
  }
  constexpr uint64_t kMax = uint64_t{1} << 31;
  if (!in->GetArray(&values_, kMax) || !in->GetArray(&locations_, kMax) ||
      !in->GetArray(&references_, kMax) || !in->GetArray(&free_, kMax) ||
      locations_.size() != references_.size() || free_.size() > references_.size()) {
    return corrupt;
  }
  size_t free_count = 0;
  for (size_t i = 0; i < references_.size(); ++i) {
    if (references_[i] < 0) return corrupt;
    if (references_[i] == 0) ++free_count;
    if (references_[i] > 0 && size_t{locations_[i]} + static_cast<size_t>(dims) > values_.size()) {
      return corrupt;
    }
  }
  if (free_count != free_.size()) return corrupt;
  for (int32_t index : free_) {
    if (index < 0 || static_cast<size_t>(index) >= references_.size() ||
        references_[static_cast<size_t>(index)] != 0) {
      return corrupt;
    }
  }
  return Status::Ok();
}

}  // namespace fleetlog::detect
