// Deterministic pseudo-random numbers for the Random Cut Forest.
//
// SplitMix64 (core/splitmix64.h): its whole state is one 64-bit word, so a saved model resumes
// with exactly the draws it would have made without the restart. Not for cryptography.
// Thread-safety: a value type; one owner at a time.
#pragma once

#include <cstdint>

#include "core/splitmix64.h"

namespace fleetlog::detect {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : gen_(seed) {}

  uint64_t Next() { return gen_.Next(); }

  // Uniform in the open interval (0, 1): never exactly 0 or 1, so log(-log(u)) is finite.
  double NextOpenUnit() { return (static_cast<double>(Next() >> 11) + 0.5) * 0x1.0p-53; }

  uint64_t state() const { return gen_.state(); }
  void set_state(uint64_t state) { gen_.set_state(state); }

 private:
  SplitMix64 gen_;
};

}  // namespace fleetlog::detect
