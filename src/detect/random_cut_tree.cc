#include "detect/random_cut_tree.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "detect/box_geometry.h"

namespace fleetlog::detect {
namespace {

using box::BoxDistance;
using box::Contains;
using box::Cut;
using box::DrawCut;
using box::GrowBox;
using box::MergedRange;
using box::OnBoundary;
using box::Wide;

// 1/(d+1) for the depths a balanced-enough tree reaches, to save a division per level.
constexpr int kInverseTableSize = 128;
constexpr auto kInverseDepth = [] {
  std::array<double, kInverseTableSize> table{};
  for (int d = 0; d < kInverseTableSize; ++d) table[static_cast<size_t>(d)] = 1.0 / (d + 1);
  return table;
}();

// The reference library's score functions. A point that a cut isolates at depth d scores
// 1/(d+1); a point already in the tree is damped by how much of the tree it makes up, so a
// frequent value is not an anomaly merely for being seen before.
double ScoreUnseen(int depth) {
  return depth < kInverseTableSize ? kInverseDepth[static_cast<size_t>(depth)] : 1.0 / (depth + 1);
}
double ScoreSeen(int depth, int32_t leaf_mass) {
  return 1.0 / (depth + std::log2(static_cast<double>(leaf_mass) + 1.0));
}
double Damp(int32_t leaf_mass, int32_t tree_mass) {
  return 1.0 - static_cast<double>(leaf_mass) / (2.0 * tree_mass);
}
// Expected depth grows as log2 of the sample, so normal points score below about 1.
double Normalizer(int32_t tree_mass) { return std::log2(static_cast<double>(tree_mass) + 1.0); }

}  // namespace

TreeScratch::TreeScratch(int dimensions)
    : high(static_cast<size_t>(dimensions)),
      low(static_cast<size_t>(dimensions)),
      lo(static_cast<size_t>(dimensions)),
      hi(static_cast<size_t>(dimensions)) {
  stack.reserve(64);
}

RandomCutTree::RandomCutTree(int dimensions, int capacity, bool cache_boxes)
    : dimensions_(dimensions),
      dims_(static_cast<size_t>(dimensions)),
      capacity_(capacity),
      cache_boxes_(cache_boxes) {
  const auto nodes = static_cast<size_t>(capacity > 1 ? capacity - 1 : 1);
  nodes_.resize(nodes);
  if (dims_ > 1) cut_dims_.resize(nodes);
  if (cache_boxes_) boxes_.resize(nodes * 2 * dims_);
  Clear();
}

void RandomCutTree::SetMass(int32_t mass) {
  mass_ = mass;
  normalizer_ = Normalizer(mass);
}

void RandomCutTree::Clear() {
  SetMass(0);
  extra_mass_.clear();
  free_head_ = -1;
  for (size_t n = nodes_.size(); n-- > 0;) {
    nodes_[n].child[0] = free_head_;
    free_head_ = static_cast<int32_t>(n);
  }
}

int32_t RandomCutTree::AllocateNode() {
  const int32_t ref = free_head_;
  free_head_ = node(ref).child[0];
  return ref;
}

void RandomCutTree::FreeNode(int32_t ref) {
  node(ref).child[0] = free_head_;
  free_head_ = ref;
}

int32_t RandomCutTree::LeafMass(int32_t point) const {
  if (extra_mass_.empty()) return 1;
  const auto it = extra_mass_.find(point);
  return it == extra_mass_.end() ? 1 : it->second + 1;
}

void RandomCutTree::Descend(const float* point, TreeScratch& scratch) const {
  // A path has at most one reference per internal node plus the leaf.
  int32_t* path = scratch.path.Reset(nodes_.size() + 1);
  // Locals, not members: stores to the path must not make the compiler reload them.
  const Node* nodes = nodes_.data();
  const uint16_t* cut_dims = cut_dims_.data();
  const bool one_dim = dims_ == 1;
  size_t length = 0;
  int32_t ref = root_;
  while (!IsLeaf(ref)) {
    path[length++] = ref;
    const Node& n = nodes[ref];
    const float x = point[one_dim ? 0 : cut_dims[ref]];
    // An index rather than a branch: the branch would be mispredicted half the time.
    ref = n.child[x > n.cut ? 1 : 0];
  }
  path[length++] = ref;
  scratch.path.set_size(length);
}

void RandomCutTree::MergeBox(int32_t ref, const PointStore& store, TreeScratch& scratch,
                             float* lo, float* hi) const {
  auto merge = [this, lo, hi](const float* a, const float* b) { GrowBox(lo, hi, a, b, dims_); };
  if (IsLeaf(ref)) {
    const float* p = store.Get(LeafPoint(ref));
    merge(p, p);
  } else if (cache_boxes_) {
    merge(CachedLo(ref), CachedHi(ref));
  } else {
    scratch.stack.clear();
    scratch.stack.push_back(ref);
    while (!scratch.stack.empty()) {
      const int32_t next = scratch.stack.back();
      scratch.stack.pop_back();
      if (IsLeaf(next)) {
        const float* p = store.Get(LeafPoint(next));
        merge(p, p);
      } else {
        scratch.stack.push_back(node(next).child[0]);
        scratch.stack.push_back(node(next).child[1]);
      }
    }
  }
}

template <typename Visit>
void RandomCutTree::Climb(const float* point, const PointStore& store, TreeScratch& scratch,
                          Visit&& visit) const {
  for (size_t k = scratch.path.size() - 1; k-- > 0;) {
    const float* lo;
    const float* hi;
    if (cache_boxes_) {
      lo = CachedLo(scratch.path[k]);
      hi = CachedHi(scratch.path[k]);
    } else {
      MergeBox(Sibling(scratch.path[k], scratch.path[k + 1]), store, scratch, scratch.lo.data(),
               scratch.hi.data());
      lo = scratch.lo.data();
      hi = scratch.hi.data();
    }
    float outside, range;
    BoxDistance(lo, hi, point, dims_, &outside, &range);
    if (outside == 0) return;
    visit(static_cast<int>(k), lo, hi, Wide(outside), Wide(range));
  }
}

int32_t RandomCutTree::Add(int32_t point, const PointStore& store, Rng& rng, TreeScratch& scratch) {
  const float* p = store.Get(point);
  if (mass_ == 0) {
    root_ = LeafRef(point);
    SetMass(1);
    return point;
  }
  Descend(p, scratch);
  const int32_t leaf_point = LeafPoint(scratch.path.back());
  const float* q = store.Get(leaf_point);
  if (std::equal(p, p + dims_, q)) {
    ++extra_mass_[leaf_point];
    SetMass(mass_ + 1);
    return leaf_point;
  }
  // Draw a cut at every level from the leaf up, keeping the highest that separates: the same
  // distribution as the paper's top-down insertion. At the leaf a cut always separates p != q.
  Cut cut{};
  size_t chosen = scratch.path.size() - 1;
  DrawCut(q, q, p, dims_, MergedRange(q, q, p, dims_), rng, &cut);
  if (!cache_boxes_) {
    std::copy(q, q + dims_, scratch.lo.begin());
    std::copy(q, q + dims_, scratch.hi.begin());
  }
  Climb(p, store, scratch, [&](int depth, const float* lo, const float* hi, double, double range) {
    if (DrawCut(lo, hi, p, dims_, range, rng, &cut)) chosen = static_cast<size_t>(depth);
  });

  const int32_t ref = AllocateNode();
  Node& n = node(ref);
  const int32_t target = scratch.path[chosen];
  n.cut = cut.value;
  if (dims_ > 1) cut_dims_[static_cast<size_t>(ref)] = static_cast<uint16_t>(cut.dim);
  const bool point_left = p[cut.dim] <= cut.value;
  n.child[0] = point_left ? LeafRef(point) : target;
  n.child[1] = point_left ? target : LeafRef(point);
  if (chosen == 0) {
    root_ = ref;
  } else {
    SlotOf(scratch.path[chosen - 1], target) = ref;
  }
  if (cache_boxes_) {
    // The new node's box is its old subtree's box (a cached box, or the leaf) plus p; every
    // box above grows by p.
    const float* old_lo = IsLeaf(target) ? q : CachedLo(target);
    const float* old_hi = IsLeaf(target) ? q : CachedHi(target);
    std::copy(old_lo, old_lo + dims_, CachedLo(ref));
    std::copy(old_hi, old_hi + dims_, CachedHi(ref));
    GrowBox(CachedLo(ref), CachedHi(ref), p, p, dims_);
    // Boxes nest, so once one already holds p, so do all above it.
    for (size_t k = chosen; k-- > 0;) {
      float* lo = CachedLo(scratch.path[k]);
      float* hi = CachedHi(scratch.path[k]);
      if (Contains(lo, hi, p, dims_)) break;
      GrowBox(lo, hi, p, p, dims_);
    }
  }
  SetMass(mass_ + 1);
  return point;
}

bool RandomCutTree::RefreshCachedBox(int32_t ref, const PointStore& store, TreeScratch& scratch) {
  std::fill(scratch.lo.begin(), scratch.lo.end(), INFINITY);
  std::fill(scratch.hi.begin(), scratch.hi.end(), -INFINITY);
  MergeBox(node(ref).child[0], store, scratch, scratch.lo.data(), scratch.hi.data());
  MergeBox(node(ref).child[1], store, scratch, scratch.lo.data(), scratch.hi.data());
  float* lo = CachedLo(ref);
  float* hi = CachedHi(ref);
  if (std::equal(lo, lo + dims_, scratch.lo.begin()) && std::equal(hi, hi + dims_, scratch.hi.begin())) {
    return false;
  }
  std::copy(scratch.lo.begin(), scratch.lo.end(), lo);
  std::copy(scratch.hi.begin(), scratch.hi.end(), hi);
  return true;
}

Status RandomCutTree::Remove(int32_t point, const PointStore& store, TreeScratch& scratch) {
  if (mass_ == 0) return Internal("random cut tree: remove of point {} from an empty tree", point);
  Descend(store.Get(point), scratch);
  if (LeafPoint(scratch.path.back()) != point) {
    return Internal("random cut tree: point {} is not in the tree", point);
  }
  SetMass(mass_ - 1);
  if (auto it = extra_mass_.find(point); it != extra_mass_.end()) {
    if (--it->second == 0) extra_mass_.erase(it);
    return Status::Ok();
  }
  const size_t depth = scratch.path.size() - 1;
  if (depth == 0) return Status::Ok();  // the tree is now empty
  const int32_t parent = scratch.path[depth - 1];
  const int32_t sibling = Sibling(parent, scratch.path[depth]);
  if (depth == 1) {
    root_ = sibling;
  } else {
    SlotOf(scratch.path[depth - 2], parent) = sibling;
  }
  FreeNode(parent);
  if (cache_boxes_) {
    // Boxes only shrink, and only where the point touched a face: a point strictly inside a
    // box is strictly inside every box above it, and none of them change. Once one box is
    // unchanged, so are all above it.
    const float* p = store.Get(point);
    for (size_t k = depth - 1; k-- > 0;) {
      const int32_t ref = scratch.path[k];
      if (!OnBoundary(CachedLo(ref), CachedHi(ref), p, dims_)) break;
      if (!RefreshCachedBox(ref, store, scratch)) break;
    }
  }
  return Status::Ok();
}

double RandomCutTree::Score(const float* point, const PointStore& store, TreeScratch& scratch) const {
  if (mass_ == 0) return 0;
  Descend(point, scratch);
  return ScoreDescended(point, store, scratch);
}

void RandomCutTree::DescendTogether(std::span<const RandomCutTree> trees, const float* point,
                                    std::span<TreeScratch> scratch) {
  const size_t count = trees.size();
  int32_t ref[kDescentLanes];
  int32_t* path[kDescentLanes];
  size_t length[kDescentLanes];
  for (size_t i = 0; i < count; ++i) {
    ref[i] = trees[i].mass_ > 0 ? trees[i].root_ : LeafRef(0);  // an empty tree: any leaf
    path[i] = scratch[i].path.Reset(trees[i].nodes_.size() + 1);
    length[i] = 0;
  }
  // In step while every lane is still at an internal node, then each straggler on its own.
  for (;;) {
    bool all_internal = true;
    for (size_t i = 0; i < count; ++i) all_internal &= !IsLeaf(ref[i]);
    if (!all_internal) break;
    for (size_t i = 0; i < count; ++i) {
      path[i][length[i]++] = ref[i];
      ref[i] = trees[i].Child(ref[i], point);
    }
  }
  for (size_t i = 0; i < count; ++i) {
    while (!IsLeaf(ref[i])) {
      path[i][length[i]++] = ref[i];
      ref[i] = trees[i].Child(ref[i], point);
    }
    path[i][length[i]++] = ref[i];
    scratch[i].path.set_size(length[i]);
  }
}

void RandomCutTree::PrefetchClimb(const PointStore& store, const TreeScratch& scratch) const {
  if (mass_ == 0) return;
  __builtin_prefetch(store.Get(LeafPoint(scratch.path.back())));
  if (!cache_boxes_) return;
  // Most climbs end within a few levels of the leaf.
  constexpr size_t kLevels = 4;
  const size_t internal = scratch.path.size() - 1;
  for (size_t k = internal; k-- > 0 && k + kLevels >= internal;) {
    const float* lo = CachedLo(scratch.path[k]);
    __builtin_prefetch(lo);
    __builtin_prefetch(lo + 2 * dims_ - 1);
  }
}

double RandomCutTree::ScoreDescended(const float* point, const PointStore& store, TreeScratch& scratch) const {
  if (mass_ == 0) return 0;
  const int leaf_depth = static_cast<int>(scratch.path.size()) - 1;
  const int32_t leaf_point = LeafPoint(scratch.path.back());
  const float* q = store.Get(leaf_point);
  if (std::equal(point, point + dims_, q)) {
    // A point in the tree lies inside every box above its leaf: nothing more to add.
    const int32_t leaf_mass = LeafMass(leaf_point);
    return Damp(leaf_mass, mass_) * ScoreSeen(leaf_depth, leaf_mass) * normalizer_;
  }
  double score = ScoreUnseen(leaf_depth);
  if (!cache_boxes_) {
    std::copy(q, q + dims_, scratch.lo.begin());
    std::copy(q, q + dims_, scratch.hi.begin());
  }
  Climb(point, store, scratch, [&](int depth, const float*, const float*, double outside, double range) {
    const double prob = outside / range;
    score = prob * ScoreUnseen(depth) + (1 - prob) * score;
  });
  return score * normalizer_;
}

void RandomCutTree::AddAttribution(const float* point, const PointStore& store, TreeScratch& scratch,
                                   double* high, double* low) const {
  if (mass_ == 0) return;
  Descend(point, scratch);
  const int leaf_depth = static_cast<int>(scratch.path.size()) - 1;
  const int32_t leaf_point = LeafPoint(scratch.path.back());
  const float* q = store.Get(leaf_point);
  const double normalizer = normalizer_;
  if (std::equal(point, point + dims_, q)) {
    // No direction isolates a seen point: spread its score evenly.
    const int32_t leaf_mass = LeafMass(leaf_point);
    const double share = Damp(leaf_mass, mass_) * ScoreSeen(leaf_depth, leaf_mass) * normalizer /
                         (2.0 * static_cast<double>(dims_));
    for (size_t d = 0; d < dims_; ++d) {
      high[d] += share;
      low[d] += share;
    }
    return;
  }
  std::vector<double>& tree_high = scratch.high;
  std::vector<double>& tree_low = scratch.low;
  std::fill(tree_high.begin(), tree_high.end(), 0.0);
  std::fill(tree_low.begin(), tree_low.end(), 0.0);
  // The scalar recursion of Score, one term per dimension and direction.
  auto blend = [&](int depth, const float* lo, const float* hi, double outside, double range) {
    const double prob = outside / range;
    const double unseen = ScoreUnseen(depth);
    for (size_t d = 0; d < dims_; ++d) {
      tree_high[d] = std::max(0.0, Wide(point[d]) - Wide(hi[d])) / range * unseen + (1 - prob) * tree_high[d];
      tree_low[d] = std::max(0.0, Wide(lo[d]) - Wide(point[d])) / range * unseen + (1 - prob) * tree_low[d];
    }
  };
  const double leaf_range = MergedRange(q, q, point, dims_);
  blend(leaf_depth, q, q, leaf_range, leaf_range);
  if (!cache_boxes_) {
    std::copy(q, q + dims_, scratch.lo.begin());
    std::copy(q, q + dims_, scratch.hi.begin());
  }
  Climb(point, store, scratch, blend);
  for (size_t d = 0; d < dims_; ++d) {
    high[d] += tree_high[d] * normalizer;
    low[d] += tree_low[d] * normalizer;
  }
}

std::vector<int32_t> RandomCutTree::LeafPoints() const {
  std::vector<int32_t> points;
  if (mass_ == 0) return points;
  std::vector<int32_t> stack{root_};
  while (!stack.empty()) {
    const int32_t ref = stack.back();
    stack.pop_back();
    if (IsLeaf(ref)) {
      points.push_back(LeafPoint(ref));
    } else {
      stack.push_back(node(ref).child[1]);
      stack.push_back(node(ref).child[0]);
    }
  }
  return points;
}

void RandomCutTree::RootBox(const PointStore& store, TreeScratch& scratch, std::vector<float>* lo,
                            std::vector<float>* hi) const {
  lo->assign(dims_, INFINITY);
  hi->assign(dims_, -INFINITY);
  MergeBox(root_, store, scratch, lo->data(), hi->data());
}

size_t RandomCutTree::MemoryBytes() const {
  // An unordered_map node holds the pair, a next pointer and the cached hash.
  constexpr size_t kMapNodeBytes = sizeof(std::pair<const int32_t, int32_t>) + 2 * sizeof(void*);
  return sizeof(*this) + nodes_.capacity() * sizeof(Node) + cut_dims_.capacity() * sizeof(uint16_t) +
         boxes_.capacity() * sizeof(float) + extra_mass_.bucket_count() * sizeof(void*) +
         extra_mass_.size() * kMapNodeBytes;
}

}  // namespace fleetlog::detect
