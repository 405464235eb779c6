// Box geometry of the Random Cut Tree: distances, ranges and cuts over axis-aligned float32
// boxes given as lo[] and hi[] of `dims` values. Internal to random_cut_tree.cc, apart so that
// the tree's file holds the tree.
// Thread-safety: pure functions, apart from DrawCut's use of the caller's Rng.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "detect/random.h"

namespace fleetlog::detect::box {

inline double Wide(float x) { return static_cast<double>(x); }

// The per-dimension loops below run over 4-wide chunks with one partial sum per lane, which the
// compiler turns into SIMD at -O2, then over the remainder.
constexpr size_t kLanes = 4;

// Sums over dimensions of the point's distance outside [lo, hi] and of the range of
// [lo, hi] ∪ {point}. Float sums: their relative error (~1e-7) is far below the score's noise.
// Inlined: called once per level climbed, it is the inner loop of scoring.
[[gnu::always_inline]] inline void BoxDistance(const float* lo, const float* hi, const float* point, size_t dims,
                                               float* outside, float* range) {
  float out[kLanes] = {}, span[kLanes] = {};
  size_t d = 0;
  for (; d + kLanes <= dims; d += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) {
      const float x = point[d + j], l = lo[d + j], h = hi[d + j];
      out[j] += std::max(0.0f, x - h) + std::max(0.0f, l - x);
      span[j] += std::max(h, x) - std::min(l, x);
    }
  }
  float o = (out[0] + out[1]) + (out[2] + out[3]);
  float r = (span[0] + span[1]) + (span[2] + span[3]);
  for (; d < dims; ++d) {
    const float x = point[d], l = lo[d], h = hi[d];
    o += std::max(0.0f, x - h) + std::max(0.0f, l - x);
    r += std::max(h, x) - std::min(l, x);
  }
  *outside = o;
  *range = r;
}

// lo = min(lo, a), hi = max(hi, b), per dimension.
[[gnu::always_inline]] inline void GrowBox(float* lo, float* hi, const float* a, const float* b, size_t dims) {
  size_t d = 0;
  for (; d + kLanes <= dims; d += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) {
      lo[d + j] = std::min(lo[d + j], a[d + j]);
      hi[d + j] = std::max(hi[d + j], b[d + j]);
    }
  }
  for (; d < dims; ++d) {
    lo[d] = std::min(lo[d], a[d]);
    hi[d] = std::max(hi[d], b[d]);
  }
}

inline bool Contains(const float* lo, const float* hi, const float* point, size_t dims) {
  bool inside = true;
  for (size_t d = 0; d < dims; ++d) inside &= (lo[d] <= point[d]) & (point[d] <= hi[d]);
  return inside;
}

// Whether `point`, inside [lo, hi], touches one of its faces.
inline bool OnBoundary(const float* lo, const float* hi, const float* point, size_t dims) {
  bool touches = false;
  for (size_t d = 0; d < dims; ++d) touches |= (point[d] == lo[d]) | (point[d] == hi[d]);
  return touches;
}

// Sum over dimensions of the range of box ∪ {point}.
inline double MergedRange(const float* lo, const float* hi, const float* point, size_t dims) {
  double total = 0;
  for (size_t d = 0; d < dims; ++d) {
    total += Wide(std::max(hi[d], point[d])) - Wide(std::min(lo[d], point[d]));
  }
  return total;
}

struct Cut {
  uint32_t dim;
  float value;
};

// Draws a cut uniformly over the ranges of box ∪ {point}; true when it separates the point
// from the box. Points go left when x[dim] <= value, so the float value is nudged to keep
// rounding from putting it on the wrong side of either.
// `range_sum` is MergedRange(lo, hi, point). *cut is left alone when the cut does not separate.
inline bool DrawCut(const float* lo, const float* hi, const float* point, size_t dims, double range_sum, Rng& rng,
                    Cut* cut) {
  double r = rng.NextOpenUnit() * range_sum;
  size_t dim = dims;
  double low_end = 0, range = 0;
  for (size_t d = 0; d < dims; ++d) {
    low_end = Wide(std::min(lo[d], point[d]));
    range = Wide(std::max(hi[d], point[d])) - low_end;
    if (range <= 0) continue;
    dim = d;
    if (r < range) break;
    r -= range;
  }
  if (dim == dims) return false;
  low_end = Wide(std::min(lo[dim], point[dim]));
  range = Wide(std::max(hi[dim], point[dim])) - low_end;
  const double value = low_end + std::min(r, range);
  if (point[dim] < lo[dim] && value < Wide(lo[dim])) {
    cut->dim = static_cast<uint32_t>(dim);
    cut->value = static_cast<float>(value);
    if (cut->value >= lo[dim]) cut->value = std::nextafter(lo[dim], -INFINITY);
    return true;
  }
  if (point[dim] > hi[dim] && value >= Wide(hi[dim])) {
    cut->dim = static_cast<uint32_t>(dim);
    cut->value = static_cast<float>(value);
    if (cut->value >= point[dim]) cut->value = std::nextafter(point[dim], -INFINITY);
    return true;
  }
  return false;
}

}  // namespace fleetlog::detect::box
