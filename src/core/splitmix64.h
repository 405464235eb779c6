// SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit generator whose whole state is one
// word, so a saved state resumes with exactly the draws it would have made. Deterministic
// across compilers and standard libraries. Not for cryptography.
// Thread-safety: a value type; one owner at a time.
#pragma once

#include <cstdint>

namespace fleetlog {

// The golden-ratio increment of the state.
inline constexpr uint64_t kSplitMix64Gamma = 0x9e3779b97f4a7c15ULL;

// The output function: a bijective 64-bit mix with good avalanche (also a good hash step).
constexpr uint64_t SplitMix64Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t state = 0) : state_(state) {}
  uint64_t Next() { return SplitMix64Mix(state_ += kSplitMix64Gamma); }
  uint64_t state() const { return state_; }
  void set_state(uint64_t state) { state_ = state; }

 private:
  uint64_t state_;
};

}  // namespace fleetlog
