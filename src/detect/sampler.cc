#include "detect/sampler.h"

#include <algorithm>
#include <cmath>

namespace fleetlog::detect {
namespace {

// Rebase once the decay term reaches this size; float32 still resolves about 1e-5 here.
constexpr double kRebaseAt = 64.0;
// Points over which one reject bound is used. Over this span the threshold u* moves by about
// u*·(-ln u*)·span·lambda, a sliver of the unit interval for any lambda a sampler is given.
constexpr int64_t kBoundSpan = 64;
// Lowers the bound by a relative 1e-12, thousands of ulps, so that the rounding of exp and log
// (an ulp or two) can never lift it above the true threshold; the cost is a rare exact weight.
constexpr double kBoundShrink = 1.0 - 1e-12;

}  // namespace

TimeDecayedSampler::TimeDecayedSampler(int capacity, double time_decay)
    : capacity_(capacity), time_decay_(time_decay) {
  heap_.reserve(static_cast<size_t>(capacity));
}

void TimeDecayedSampler::RefreshRejectBound(int64_t seq) {
  // weight(u) = -decay + log(-log u) is decreasing in u, and rounding to float keeps order, so
  // weight >= W whenever log(-log u) >= W + decay(s) for some s >= seq, that is
  // u <= exp(-exp(W + decay(s))). Taking s at the end of the span makes the bound hold for
  // every point before it.
  bound_until_ = seq + kBoundSpan;
  const double decay_at_end = static_cast<double>(bound_until_ - base_seq_) * time_decay_;
  reject_below_ =
      kBoundShrink * std::exp(-std::exp(static_cast<double>(heap_.front().weight) + decay_at_end));
}

bool TimeDecayedSampler::Accept(int64_t seq, Rng& rng, int32_t* evicted) {
  *evicted = -1;
  double decay = static_cast<double>(seq - base_seq_) * time_decay_;
  if (decay > kRebaseAt) {
    // Adding the same shift to every weight keeps their order, and hence the sample.
    const auto shift = static_cast<float>(decay);
    for (Entry& entry : heap_) entry.weight += shift;
    base_seq_ = seq;
    decay = 0;
    bound_until_ = 0;
  }
  const double u = rng.NextOpenUnit();
  if (full()) {
    if (seq >= bound_until_) RefreshRejectBound(seq);
    if (u <= reject_below_) return false;
  }
  const auto weight = static_cast<float>(-decay + std::log(-std::log(u)));
  if (!full()) {
    pending_weight_ = weight;
    return true;
  }
  if (weight >= heap_.front().weight) return false;
  std::pop_heap(heap_.begin(), heap_.end(), Lighter{});
  *evicted = heap_.back().point;
  heap_.pop_back();
  pending_weight_ = weight;
  return true;
}

void TimeDecayedSampler::Commit(int32_t point) {
  heap_.push_back(Entry{pending_weight_, point});
  std::push_heap(heap_.begin(), heap_.end(), Lighter{});
  bound_until_ = 0;  // the heap max changed
}

std::vector<int32_t> TimeDecayedSampler::Points() const {
  std::vector<int32_t> points;
  points.reserve(heap_.size());
  for (const Entry& entry : heap_) points.push_back(entry.point);
  return points;
}

void TimeDecayedSampler::Serialize(BlobWriter* out) const {
  out->Put<int64_t>(base_seq_);
  out->PutArray<Entry>(heap_);
}

Status TimeDecayedSampler::Deserialize(BlobReader* in) {
  if (!in->Get(&base_seq_) || !in->GetArray(&heap_, static_cast<uint64_t>(capacity_)) ||
      !std::is_heap(heap_.begin(), heap_.end(), Lighter{})) {
    return Status(StatusCode::kCorruption, "sampler: truncated or not a heap");
  }
  heap_.reserve(static_cast<size_t>(capacity_));
  bound_until_ = 0;
  return Status::Ok();
}

}  // namespace fleetlog::detect
