#include "detect/random_cut_forest.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "detect/blob.h"

namespace fleetlog::detect {
namespace {

constexpr std::string_view kMagic = "FLRCF\x01";

}  // namespace

Result<ForestOptions> ForestOptions::Resolved() const {
  ForestOptions r = *this;
  if (r.dimensions < 1) return InvalidArgument("dimensions must be at least 1, got {}", r.dimensions);
  if (r.shingle_size < 1) return InvalidArgument("shingle size must be at least 1, got {}", r.shingle_size);
  if (static_cast<int64_t>(r.dimensions) * r.shingle_size > 65535) {
    return InvalidArgument("dimensions x shingle size must be at most 65535, got {}",
                           static_cast<int64_t>(r.dimensions) * r.shingle_size);
  }
  if (r.number_of_trees < 1 || r.number_of_trees > 10000) {
    return InvalidArgument("number of trees must be in [1, 10000], got {}", r.number_of_trees);
  }
  if (r.sample_size < 2 || r.sample_size > 1000000) {
    return InvalidArgument("sample size must be in [2, 1000000], got {}", r.sample_size);
  }
  if (r.time_decay < 0) r.time_decay = 1.0 / (10.0 * r.sample_size);
  if (!std::isfinite(r.time_decay)) return InvalidArgument("time decay must be finite");
  if (r.output_after < 0) r.output_after = r.sample_size / 4;
  return r;
}

double DiVector::Total() const {
  return std::accumulate(high.begin(), high.end(), 0.0) + std::accumulate(low.begin(), low.end(), 0.0);
}

RandomCutForest::RandomCutForest(const ForestOptions& resolved)
    : options_(resolved),
      store_(resolved.dimensions, resolved.shingle_size),
      shingle_(static_cast<size_t>(resolved.dimensions * resolved.shingle_size)),
      point_(shingle_.size()),
      scratch_(resolved.dimensions * resolved.shingle_size),
      lanes_(RandomCutTree::kDescentLanes, TreeScratch(resolved.dimensions * resolved.shingle_size)) {
  const auto trees = static_cast<size_t>(options_.number_of_trees);
  trees_.reserve(trees);
  samplers_.reserve(trees);
  rngs_.reserve(trees);
  Rng seeder(options_.seed);
  for (size_t i = 0; i < trees; ++i) {
    trees_.emplace_back(point_dimensions(), options_.sample_size, options_.bounding_box_cache);
    samplers_.emplace_back(options_.sample_size, options_.time_decay);
    rngs_.emplace_back(seeder.Next());
  }
}

Result<RandomCutForest> RandomCutForest::Create(const ForestOptions& options) {
  ASSIGN_OR_RETURN(ForestOptions resolved, options.Resolved());
  return RandomCutForest(resolved);
}

bool RandomCutForest::ready() const {
  return inputs_seen_ + 1 >= options_.shingle_size && points_added_ >= options_.output_after &&
         points_added_ > 0;
}

Status RandomCutForest::CheckInput(std::span<const double> input) const {
  if (input.size() != static_cast<size_t>(options_.dimensions)) {
    return InvalidArgument("expected {} values per input, got {}", options_.dimensions, input.size());
  }
  for (size_t i = 0; i < input.size(); ++i) {
    // Values must also survive the trip to float32, which the points are stored in.
    if (!std::isfinite(static_cast<float>(input[i]))) {
      return InvalidArgument("value {} of the input is not finite in float32: {}", i, input[i]);
    }
  }
  return Status::Ok();
}

void RandomCutForest::MakePoint(std::span<const double> input) {
  const size_t base = static_cast<size_t>(options_.dimensions);
  std::copy(shingle_.begin() + static_cast<std::ptrdiff_t>(base), shingle_.end(), point_.begin());
  std::transform(input.begin(), input.end(), point_.end() - static_cast<std::ptrdiff_t>(base),
                 [](double v) { return static_cast<float>(v); });
}

double RandomCutForest::Score(std::span<const double> input) {
  if (!ready()) return 0;
  MakePoint(input);
  double sum = 0;
  const std::span<const RandomCutTree> trees(trees_);
  for (size_t first = 0; first < trees.size(); first += RandomCutTree::kDescentLanes) {
    const auto group = trees.subspan(first, std::min(RandomCutTree::kDescentLanes, trees.size() - first));
    RandomCutTree::DescendTogether(group, point_.data(), lanes_);
    for (size_t i = 0; i < group.size(); ++i) group[i].PrefetchClimb(store_, lanes_[i]);
    for (size_t i = 0; i < group.size(); ++i) sum += group[i].ScoreDescended(point_.data(), store_, lanes_[i]);
  }
  return sum / static_cast<double>(trees_.size());
}

DiVector RandomCutForest::Attribution(std::span<const double> input) {
  const auto dims = static_cast<size_t>(point_dimensions());
  DiVector result{std::vector<double>(dims), std::vector<double>(dims)};
  if (!ready()) return result;
  MakePoint(input);
  for (const RandomCutTree& tree : trees_) {
    tree.AddAttribution(point_.data(), store_, scratch_, result.high.data(), result.low.data());
  }
  const auto trees = static_cast<double>(trees_.size());
  for (size_t d = 0; d < dims; ++d) {
    result.high[d] /= trees;
    result.low[d] /= trees;
  }
  return result;
}

Status RandomCutForest::Update(std::span<const double> input) {
  RETURN_IF_ERROR(CheckInput(input));
  MakePoint(input);
  shingle_ = point_;
  ++inputs_seen_;
  if (inputs_seen_ < options_.shingle_size) return Status::Ok();

  // The forest holds one reference while the trees decide; each tree that keeps the point
  // (or a duplicate it maps to) takes its own.
  const int32_t added = store_.Add(point_);
  const int64_t seq = points_added_++;
  for (size_t i = 0; i < trees_.size(); ++i) {
    int32_t evicted = -1;
    if (!samplers_[i].Accept(seq, rngs_[i], &evicted)) continue;
    if (evicted >= 0) {
      RETURN_IF_ERROR(trees_[i].Remove(evicted, store_, scratch_));
      store_.RemoveReference(evicted);
    }
    const int32_t kept = trees_[i].Add(added, store_, rngs_[i], scratch_);
    store_.AddReference(kept);
    samplers_[i].Commit(kept);
  }
  store_.RemoveReference(added);
  return Status::Ok();
}

size_t RandomCutForest::MemoryBytes() const {
  size_t bytes = sizeof(*this) + store_.MemoryBytes() +
                 trees_.capacity() * sizeof(RandomCutTree) - trees_.size() * sizeof(RandomCutTree) +
                 samplers_.capacity() * sizeof(TimeDecayedSampler) + rngs_.capacity() * sizeof(Rng) +
                 (shingle_.capacity() + point_.capacity() + scratch_.lo.capacity() +
                  scratch_.hi.capacity()) *
                     sizeof(float) +
                 (scratch_.high.capacity() + scratch_.low.capacity()) * sizeof(double) +
                 scratch_.path.MemoryBytes() + scratch_.stack.capacity() * sizeof(int32_t);
  for (const TreeScratch& lane : lanes_) {
    bytes += sizeof(TreeScratch) + lane.path.MemoryBytes() + lane.stack.capacity() * sizeof(int32_t) +
             (lane.lo.capacity() + lane.hi.capacity()) * sizeof(float) +
             (lane.high.capacity() + lane.low.capacity()) * sizeof(double);
  }
  for (const RandomCutTree& tree : trees_) bytes += tree.MemoryBytes();
  for (const TimeDecayedSampler& sampler : samplers_) bytes += sampler.MemoryBytes();
  return bytes;
}

std::string RandomCutForest::Serialize() const {
  BlobWriter out;
  for (char c : kMagic) out.Put<char>(c);
  out.Put<int32_t>(options_.dimensions);
  out.Put<int32_t>(options_.shingle_size);
  out.Put<int32_t>(options_.number_of_trees);
  out.Put<int32_t>(options_.sample_size);
  out.Put<double>(options_.time_decay);
  out.Put<int32_t>(options_.output_after);
  out.Put<uint8_t>(options_.bounding_box_cache ? 1 : 0);
  out.Put<uint64_t>(options_.seed);
  out.Put<int64_t>(inputs_seen_);
  out.Put<int64_t>(points_added_);
  out.PutArray<float>(shingle_);
  store_.Serialize(&out);
  for (size_t i = 0; i < trees_.size(); ++i) {
    out.Put<uint64_t>(rngs_[i].state());
    samplers_[i].Serialize(&out);
    trees_[i].Serialize(&out);
  }
  return out.Release();
}

Result<RandomCutForest> RandomCutForest::Deserialize(std::string_view blob) {
  const Status corrupt(StatusCode::kCorruption, "random cut forest model: truncated or not a model");
  if (!blob.starts_with(kMagic)) return corrupt;
  BlobReader in(blob.substr(kMagic.size()));
  ForestOptions options;
  uint8_t cache = 0;
  if (!in.Get(&options.dimensions) || !in.Get(&options.shingle_size) ||
      !in.Get(&options.number_of_trees) || !in.Get(&options.sample_size) ||
      !in.Get(&options.time_decay) || !in.Get(&options.output_after) || !in.Get(&cache) ||
      !in.Get(&options.seed) || cache > 1 || options.time_decay < 0 || options.output_after < 0) {
    return corrupt;
  }
  options.bounding_box_cache = cache == 1;
  auto resolved = options.Resolved();
  if (!resolved.ok()) return corrupt.WithContext(resolved.status().message());
  RandomCutForest forest(*resolved);
  std::vector<float> shingle;
  if (!in.Get(&forest.inputs_seen_) || !in.Get(&forest.points_added_) || forest.inputs_seen_ < 0 ||
      forest.points_added_ < 0 || !in.GetArray(&shingle, forest.shingle_.size()) ||
      shingle.size() != forest.shingle_.size()) {
    return corrupt;
  }
  forest.shingle_ = std::move(shingle);
  RETURN_IF_ERROR(forest.store_.Deserialize(&in));
  // Every reference the store counts must be held by exactly one sampler entry.
  std::vector<int32_t> held(forest.store_.index_count());
  for (size_t i = 0; i < forest.trees_.size(); ++i) {
    uint64_t state = 0;
    if (!in.Get(&state)) return corrupt;
    forest.rngs_[i].set_state(state);
    RETURN_IF_ERROR(forest.samplers_[i].Deserialize(&in));
    RETURN_IF_ERROR(forest.trees_[i].Deserialize(&in, forest.store_));
    if (static_cast<size_t>(forest.trees_[i].mass()) != forest.samplers_[i].size()) return corrupt;
    for (int32_t point : forest.samplers_[i].Points()) {
      if (!forest.store_.IsLive(point)) return corrupt;
      ++held[static_cast<size_t>(point)];
    }
  }
  for (size_t index = 0; index < held.size(); ++index) {
    if (held[index] != forest.store_.references(static_cast<int32_t>(index))) return corrupt;
  }
  if (!in.empty()) return corrupt;
  return forest;
}

}  // namespace fleetlog::detect
