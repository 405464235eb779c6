// Throughput and memory of the Random Cut Forest, beside the reference Java library.
//
// For each configuration: feeds a noisy sine stream (one value per input) through
// Score-then-Update on one thread and reports points per second over the timed part, after a
// warm-up that fills every tree's sample. Throughput is given per second of this thread's CPU
// time (the figure to compare: the machine is shared) and per second of wall time. Memory per model is reported twice: the model's own
// count of allocated bytes (vector capacities) and the heap growth (glibc mallinfo2) per model measured
// while holding many warmed-up models at once.
//
// The reference figures are those of random-cut-forest-by-aws (Java) on this 2-core machine
// class, as given in issue 6; they were not measured by this program.

#include <fmt/format.h>

#include <ctime>
#include <cmath>
#include <cstdio>
#include <malloc.h>
#include <memory>
#include <string>
#include <vector>

#include "detect/random_cut_forest.h"
#include "detect/random.h"

namespace {

using fleetlog::detect::ForestOptions;
using fleetlog::detect::RandomCutForest;
using fleetlog::detect::Rng;

struct Reference {
  double points_per_second;
  double bytes_per_model;
};

double StreamValue(int64_t t, Rng& rng) {
  constexpr double kPi = 3.14159265358979323846;
  const double noise = (rng.NextOpenUnit() - 0.5) * 2.0;
  return 10.0 * std::sin(2.0 * kPi * static_cast<double>(t) / 628.0) + 10.0 + noise;
}

double ClockSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Bytes currently allocated from the heap (glibc's count).
size_t HeapBytes() { return mallinfo2().uordblks; }

void Feed(RandomCutForest& forest, int64_t from, int64_t to, Rng& rng, double* checksum) {
  for (int64_t t = from; t < to; ++t) {
    const double value[1] = {StreamValue(t, rng)};
    *checksum += forest.Score(value);
    if (auto status = forest.Update(value); !status.ok()) {
      fmt::print(stderr, "update failed: {}\n", status.ToString());
      std::exit(1);
    }
  }
}

int Run(const char* name, const ForestOptions& options, const Reference& reference,
        double target_points_per_second, double target_bytes) {
  auto created = RandomCutForest::Create(options);
  if (!created.ok()) {
    fmt::print(stderr, "{}\n", created.status().ToString());
    return 1;
  }
  RandomCutForest forest = std::move(created).value();
  Rng rng(7);
  double checksum = 0;
  constexpr int64_t kWarmup = 20000, kTimed = 200000;
  Feed(forest, 0, kWarmup, rng, &checksum);
  // Thread CPU time is the figure that counts: the machine is shared, and the figure is per core.
  const double cpu_start = ClockSeconds(CLOCK_THREAD_CPUTIME_ID);
  const double wall_start = ClockSeconds(CLOCK_MONOTONIC);
  Feed(forest, kWarmup, kWarmup + kTimed, rng, &checksum);
  const double cpu_seconds = ClockSeconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
  const double wall_seconds = ClockSeconds(CLOCK_MONOTONIC) - wall_start;
  const double rate = static_cast<double>(kTimed) / cpu_seconds;
  const double wall_rate = static_cast<double>(kTimed) / wall_seconds;
  const auto counted = static_cast<double>(forest.MemoryBytes());

  // Heap growth per model, over many warmed-up models held at once.
  constexpr int kModels = 16;
  const size_t before = HeapBytes();
  std::vector<std::unique_ptr<RandomCutForest>> models;
  for (int m = 0; m < kModels; ++m) {
    ForestOptions seeded = options;
    seeded.seed = options.seed + static_cast<uint64_t>(m) + 1;
    models.push_back(std::make_unique<RandomCutForest>(RandomCutForest::Create(seeded).value()));
    Feed(*models.back(), 0, kWarmup, rng, &checksum);
  }
  const double heap = static_cast<double>(HeapBytes() - before) / kModels;

  fmt::print("{}\n", name);
  fmt::print("  score+update  {:>10.0f} points/s (per CPU-second)   reference {:>7.0f}   ratio {:5.2f}x   target >= {:.0f}: {}\n",
             rate, reference.points_per_second, rate / reference.points_per_second,
             target_points_per_second, rate >= target_points_per_second ? "met" : "MISSED");
  fmt::print("  score+update  {:>10.0f} points/s (per wall second; CPU share {:.0f}%)\n", wall_rate,
             100 * cpu_seconds / wall_seconds);
  fmt::print("  memory/model  {:>10.1f} KiB (allocated)  reference {:>7.1f} KiB   ratio {:5.2f}   target <= {:.1f} KiB: {}\n",
             counted / 1024, reference.bytes_per_model / 1024, counted / reference.bytes_per_model,
             target_bytes / 1024, counted <= target_bytes ? "met" : "MISSED");
  fmt::print("  memory/model  {:>10.1f} KiB (heap growth per model over {} models)\n", heap / 1024, kModels);
  fmt::print("  (checksum {:.3f})\n", checksum);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ForestOptions shingle1;  // the defaults
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--bounding-box-cache=on" || arg == "--bounding-box-cache") {
      shingle1.bounding_box_cache = true;
    } else if (arg == "--bounding-box-cache=off") {
      shingle1.bounding_box_cache = false;
    } else {
      fmt::print(stderr, "usage: rcf_bench [--bounding-box-cache=on|off]   (default: the forest's default, {})\n",
                 shingle1.bounding_box_cache ? "on" : "off");
      return 2;
    }
  }
  fmt::print("Random Cut Forest, 50 trees, sample size 256, one thread, bounding-box cache {}{}\n",
             shingle1.bounding_box_cache ? "on" : "off",
             shingle1.bounding_box_cache == ForestOptions{}.bounding_box_cache ? " (default)" : "");
  ForestOptions shingle8 = shingle1;
  shingle8.shingle_size = 8;
  int rc = Run("shingle 1", shingle1, {26000, 460.0 * 1024}, 105000, 460.0 * 1024);
  rc |= Run("shingle 8", shingle8, {17000, 1.2 * 1024 * 1024}, 70000, 1.2 * 1024 * 1024);
  return rc;
}
