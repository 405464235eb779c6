#include "detect/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "detect/random.h"

namespace fleetlog::detect {
namespace {

// The sampler without its reject bound: every weight computed from the formula.
class PlainSampler {
 public:
  PlainSampler(size_t capacity, double time_decay) : capacity_(capacity), time_decay_(time_decay) {}

  bool Accept(int64_t seq, Rng& rng, int32_t point) {
    double decay = static_cast<double>(seq - base_seq_) * time_decay_;
    if (decay > 64.0) {
      for (float& w : weights_) w += static_cast<float>(decay);
      base_seq_ = seq;
      decay = 0;
    }
    const auto weight = static_cast<float>(-decay + std::log(-std::log(rng.NextOpenUnit())));
    if (weights_.size() < capacity_) {
      weights_.push_back(weight);
      points_.push_back(point);
      return true;
    }
    const size_t heaviest = static_cast<size_t>(std::max_element(weights_.begin(), weights_.end()) - weights_.begin());
    if (weight >= weights_[heaviest]) return false;
    weights_[heaviest] = weight;
    points_[heaviest] = point;
    return true;
  }
  std::vector<int32_t> Points() const {
    std::vector<int32_t> sorted = points_;
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }

 private:
  size_t capacity_;
  double time_decay_;
  int64_t base_seq_ = 0;
  std::vector<float> weights_;
  std::vector<int32_t> points_;
};

// The reject bound skips the logarithms of most rejected points; it must never change a
// decision. Here across rebases (decay 0.01 rebases every 6400 points) and with no decay.
TEST(TimeDecayedSamplerTest, RejectBoundKeepsEveryDecisionOfThePlainFormula) {
  for (const double decay : {0.0, 1.0 / 2560, 0.01}) {
    SCOPED_TRACE(decay);
    TimeDecayedSampler sampler(64, decay);
    PlainSampler plain(64, decay);
    Rng a(11), b(11);
    int64_t accepted = 0;
    for (int32_t seq = 0; seq < 40000; ++seq) {
      int32_t evicted = -1;
      const bool took = sampler.Accept(seq, a, &evicted);
      ASSERT_EQ(took, plain.Accept(seq, b, seq)) << "point " << seq;
      if (took) {
        sampler.Commit(seq);
        ++accepted;
      }
    }
    std::vector<int32_t> points = sampler.Points();
    std::sort(points.begin(), points.end());
    EXPECT_EQ(points, plain.Points());
    EXPECT_GT(accepted, 64);
  }
}

TEST(TimeDecayedSamplerTest, RestoredSamplerMakesTheSameDecisions) {
  TimeDecayedSampler sampler(32, 0.01);
  Rng rng(5);
  int32_t evicted = -1;
  for (int32_t seq = 0; seq < 1000; ++seq) {
    if (sampler.Accept(seq, rng, &evicted)) sampler.Commit(seq);
  }
  BlobWriter out;
  sampler.Serialize(&out);
  const std::string blob = out.Release();
  TimeDecayedSampler copy(32, 0.01);
  BlobReader in(blob);
  ASSERT_TRUE(copy.Deserialize(&in).ok());
  Rng copy_rng = rng;
  for (int32_t seq = 1000; seq < 5000; ++seq) {
    int32_t evicted_copy = -1;
    const bool took = sampler.Accept(seq, rng, &evicted);
    ASSERT_EQ(took, copy.Accept(seq, copy_rng, &evicted_copy)) << seq;
    ASSERT_EQ(evicted, evicted_copy);
    if (took) {
      sampler.Commit(seq);
      copy.Commit(seq);
    }
  }
}

}  // namespace
}  // namespace fleetlog::detect
