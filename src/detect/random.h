// Deterministic pseudo-random numbers for the Random Cut Forest.
//
// SplitMix64: its whole state is one 64-bit word, so a saved model resumes with exactly the
// draws it would have made without the restart. Not for cryptography.
// Thread-safety: a value type; one owner at a time.
#pragma once

#include <cstdint>

namespace fleetlog::detect {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform in the open interval (0, 1): never exactly 0 or 1, so log(-log(u)) is finite.
  double NextOpenUnit() { return (static_cast<double>(Next() >> 11) + 0.5) * 0x1.0p-53; }

  uint64_t state() const { return state_; }
  void set_state(uint64_t state) { state_ = state; }

 private:
  uint64_t state_;
};

}  // namespace fleetlog::detect
