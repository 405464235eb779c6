#include "detect/point_store.h"

#include <algorithm>
#include <cstring>

namespace fleetlog::detect {
namespace {

// Makes room for one more element, growing by a quarter: the slack stays small once a model
// has warmed up, and growth stays amortised O(1).
template <typename T>
void ReserveOneMore(std::vector<T>* v, size_t granule) {
  if (v->size() < v->capacity()) return;
  v->reserve(v->size() + std::max(v->size() / 4, granule));
}

}  // namespace

PointStore::PointStore(int base_dimensions, int shingle_size)
    : base_dimensions_(base_dimensions),
      dimensions_(base_dimensions * shingle_size),
      shingled_(shingle_size > 1) {}

int32_t PointStore::NewIndex() {
  if (free_head_ >= 0) {
    const int32_t index = free_head_;
    free_head_ = NextFree(references_[static_cast<size_t>(index)]);
    --free_count_;
    references_[static_cast<size_t>(index)] = 1;
    return index;
  }
  const auto index = static_cast<int32_t>(references_.size());
  ReserveOneMore(&references_, 64);
  references_.push_back(1);
  if (shingled_) {
    ReserveOneMore(&locations_, 64);
    locations_.push_back(0);
  } else {
    ReserveOneMore(&values_, 64 * static_cast<size_t>(dimensions_));
    values_.resize(values_.size() + static_cast<size_t>(dimensions_));
  }
  return index;
}

int32_t PointStore::Add(std::span<const float> point) {
  if (!shingled_) {
    const int32_t index = NewIndex();
    std::copy(point.begin(), point.end(), values_.begin() + static_cast<std::ptrdiff_t>(index) * dimensions_);
    return index;
  }
  const size_t dims = static_cast<size_t>(dimensions_);
  const size_t overlap = dims - static_cast<size_t>(base_dimensions_);
  // With internal shingling the new point usually starts with the last `overlap` values of
  // the previous one, which are still the tail of values_: share them. Equal floats are the
  // same coordinates whichever point wrote them, so a coincidental match is also correct.
  auto continues_tail = [&] {
    return values_.size() >= overlap &&
           std::equal(point.begin(), point.begin() + static_cast<std::ptrdiff_t>(overlap),
                      values_.end() - static_cast<std::ptrdiff_t>(overlap));
  };
  size_t shared = continues_tail() ? overlap : 0;
  ReserveValues(dims - shared);
  // Compaction may have dropped the shared tail if no live point covered it.
  if (shared > 0 && !continues_tail()) {
    shared = 0;
    ReserveValues(dims);
  }
  const auto location = static_cast<uint32_t>(values_.size() - shared);
  values_.insert(values_.end(), point.begin() + static_cast<std::ptrdiff_t>(shared), point.end());
  const int32_t index = NewIndex();
  locations_[static_cast<size_t>(index)] = location;
  return index;
}

void PointStore::RemoveReference(int32_t index) {
  int32_t& references = references_[static_cast<size_t>(index)];
  if (--references == 0) {
    references = FreeLink(free_head_);
    free_head_ = index;
    ++free_count_;
  }
}

void PointStore::ReserveValues(size_t count) {
  if (values_.size() + count <= values_.capacity()) return;
  Compact();
  // Grow when compaction left the array more than three quarters full, so that compactions
  // stay amortised (each follows at least a quarter of the capacity in new values).
  const size_t needed = values_.size() + count;
  if (needed > values_.capacity() / 4 * 3) {
    values_.reserve(std::max(needed + needed / 2, size_t{1024}));
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
         references_.capacity() * sizeof(int32_t);
}

// The blob keeps one layout whatever the shingling: values, a location per index, reference
// counts with 0 for a free index, and the free indices with the next to be reused last.
void PointStore::Serialize(BlobWriter* out) const {
  out->Put<int32_t>(base_dimensions_);
  out->Put<int32_t>(dimensions_);
  out->PutArray<float>(values_);
  std::vector<uint32_t> locations(locations_);
  if (!shingled_) {
    locations.resize(references_.size());
    for (size_t i = 0; i < locations.size(); ++i) locations[i] = static_cast<uint32_t>(i * static_cast<size_t>(dimensions_));
  }
  out->PutArray<uint32_t>(locations);
  std::vector<int32_t> references(references_.size());
  for (size_t i = 0; i < references.size(); ++i) references[i] = std::max(references_[i], 0);
  out->PutArray<int32_t>(references);
  std::vector<int32_t> free_list;
  free_list.reserve(free_count_);
  for (int32_t i = free_head_; i >= 0; i = NextFree(references_[static_cast<size_t>(i)])) free_list.push_back(i);
  std::reverse(free_list.begin(), free_list.end());
  out->PutArray<int32_t>(free_list);
}

Status PointStore::Deserialize(BlobReader* in) {
  const Status corrupt(StatusCode::kCorruption, "point store: truncated or inconsistent");
  int32_t base = 0, dims = 0;
  if (!in->Get(&base) || !in->Get(&dims) || base != base_dimensions_ || dims != dimensions_) {
    return corrupt;
  }
  constexpr uint64_t kMax = uint64_t{1} << 31;
  std::vector<float> values;
  std::vector<uint32_t> locations;
  std::vector<int32_t> references, free_list;
  if (!in->GetArray(&values, kMax) || !in->GetArray(&locations, kMax) ||
      !in->GetArray(&references, kMax) || !in->GetArray(&free_list, kMax) ||
      locations.size() != references.size() || free_list.size() > references.size()) {
    return corrupt;
  }
  const auto width = static_cast<size_t>(dims);
  size_t free_count = 0;
  for (size_t i = 0; i < references.size(); ++i) {
    if (references[i] < 0) return corrupt;
    if (references[i] == 0) ++free_count;
    if (references[i] > 0 && size_t{locations[i]} + width > values.size()) return corrupt;
  }
  if (free_count != free_list.size()) return corrupt;
  for (int32_t index : free_list) {
    if (index < 0 || static_cast<size_t>(index) >= references.size() ||
        references[static_cast<size_t>(index)] != 0) {
      return corrupt;
    }
    references[static_cast<size_t>(index)] = -1;  // seen: a repeated index is corrupt
  }
  // Chain the free list so that its last entry is reused first.
  int32_t head = -1;
  for (int32_t index : free_list) {
    references[static_cast<size_t>(index)] = FreeLink(head);
    head = index;
  }
  if (shingled_) {
    values_ = std::move(values);
    locations_ = std::move(locations);
  } else {
    // Lay the values out by index, wherever the blob had them.
    values_.assign(references.size() * width, 0.0f);
    for (size_t i = 0; i < references.size(); ++i) {
      if (references[i] > 0) std::copy_n(values.begin() + locations[i], width, values_.begin() + i * width);
    }
    locations_.clear();
  }
  references_ = std::move(references);
  free_head_ = head;
  free_count_ = free_list.size();
  return Status::Ok();
}

}  // namespace fleetlog::detect
