// Deterministic randomness for the simulated fleet. Everything the sim produces is a pure
// function of (seed, cluster, time bucket), so randomness comes from hashing those into the
// state of a small counter-based generator (SplitMix64), never from std:: distributions,
// whose output differs between standard libraries.
// Thread-safety: value types and pure functions; an Rng belongs to one thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

#include "core/splitmix64.h"

namespace fleetlog::sim {

inline uint64_t Mix64(uint64_t x) { return SplitMix64Mix(x); }

inline uint64_t Hash(uint64_t a, uint64_t b) { return Mix64(a * kSplitMix64Gamma + Mix64(b)); }
inline uint64_t Hash(uint64_t a, uint64_t b, uint64_t c) { return Hash(Hash(a, b), c); }
inline uint64_t Hash(uint64_t a, uint64_t b, uint64_t c, uint64_t d) { return Hash(Hash(a, b, c), d); }

// FNV-1a, then mixed: a stable hash of a cluster name.
inline uint64_t HashText(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return Mix64(h);
}

// The seed of everything one simulated cluster produces.
inline uint64_t ClusterSeed(uint64_t seed, std::string_view cluster) { return Hash(seed, HashText(cluster)); }

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}

  uint64_t Next() { return gen_.Next(); }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [lo, hi). REQUIRES: lo < hi.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo));
  }
  bool Chance(double p) { return Uniform() < p; }
  // Standard normal (Box-Muller; the second value is dropped to keep the state simple).
  double Normal() {
    const double u1 = 1.0 - Uniform();  // (0, 1]: log(0) never happens
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Log-normal with the given median and shape: the distribution of query run times.
  double LogNormal(double median, double sigma) { return median * std::exp(sigma * Normal()); }
  // Poisson counts: Knuth's product method for small means, a rounded normal above.
  int Poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean > 30) {
      const double x = mean + std::sqrt(mean) * Normal() + 0.5;
      return x < 0 ? 0 : static_cast<int>(x);
    }
    const double limit = std::exp(-mean);
    int k = 0;
    for (double p = Uniform(); p > limit; p *= Uniform()) ++k;
    return k;
  }

 private:
  SplitMix64 gen_;
};

}  // namespace fleetlog::sim
