// RandomCutTree: one tree of a Random Cut Forest (Guha et al., ICML 2016).
//
// Each internal node splits its points by a cut `x[dim] <= value` (left) or `>` (right). Cuts are
// random: a new point p enters above the highest node on its root-to-leaf path whose box B a
// cut drawn uniformly over the ranges of B ∪ {p} separates from p, so a dimension is chosen in
// proportion to its range. Identical points share a leaf whose mass counts them.
//
// Layout: flat arrays with int32 node references. A reference >= 0 is an internal node; a
// negative reference r is the leaf of point store index ~r, so leaves cost nothing but their
// parent's child slot. An internal node is 12 bytes (two children and the cut value) plus its
// cut dimension in a separate uint16 array, which one-dimensional trees do without. There are
// no parent pointers: paths are found again by descending with the point's coordinates.
// Bounding boxes are cached per internal node (float32) when `cache_boxes` is set; otherwise
// they are computed from the leaves, and only for the bottom of a path, up to the first box
// that contains the query point.
//
// Failure: the mutating calls trust their caller (the forest); Remove reports a point that is
// not in the tree as kInternal. Deserialize reports a bad blob as kCorruption.
// Thread-safety: not thread-safe. Const methods write to the caller's TreeScratch only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "detect/blob.h"
#include "detect/point_store.h"
#include "detect/random.h"

namespace fleetlog::detect {

// Node references from the root down to a leaf, the leaf's last. Its buffer only grows.
class TreePath {
 public:
  size_t size() const { return size_; }
  int32_t operator[](size_t i) const { return refs_[i]; }
  int32_t back() const { return refs_[size_ - 1]; }
  // Makes room for `max_size` references and empties the path; returns the buffer to fill.
  int32_t* Reset(size_t max_size) {
    if (refs_.size() < max_size) refs_.resize(max_size);
    size_ = 0;
    return refs_.data();
  }
  void set_size(size_t size) { size_ = size; }
  size_t MemoryBytes() const { return refs_.capacity() * sizeof(int32_t); }

 private:
  std::vector<int32_t> refs_;
  size_t size_ = 0;
};

// Reusable buffers so that the per-point paths never allocate. One per thread of use.
struct TreeScratch {
  explicit TreeScratch(int dimensions);
  TreePath path;
  std::vector<int32_t> stack;  // subtree traversal
  std::vector<double> high, low;  // one tree's attribution
  std::vector<float> lo, hi;   // the box being grown while climbing a path
};

class RandomCutTree {
 public:
  // REQUIRES: dimensions in [1, 65535]; capacity >= 1 is the most leaves the tree will hold.
  RandomCutTree(int dimensions, int capacity, bool cache_boxes);

  // Inserts the stored point `point`. Returns the index its leaf holds: `point`, or an earlier
  // index with identical coordinates whose leaf mass grew instead. The caller owns one more
  // reference to the returned index. REQUIRES: fewer than capacity distinct leaves.
  int32_t Add(int32_t point, const PointStore& store, Rng& rng, TreeScratch& scratch);

  // Removes one occurrence of `point`, an index Add returned. kInternal if it is not here.
  Status Remove(int32_t point, const PointStore& store, TreeScratch& scratch);

  // The reference library's anomaly score of `point` (any coordinates) for this tree: the
  // expected inverse depth at which a random cut would isolate it, normalised by log2(mass+1).
  // 0 for an empty tree.
  double Score(const float* point, const PointStore& store, TreeScratch& scratch) const;

  // Score() split in two, so that a forest can descend several trees together:
  // DescendTogether fills scratch[i].path for trees[i] (at most kDescentLanes trees); a descent is a chain of dependent loads, and interleaving independent chains
  // lets their latencies overlap. ScoreDescended then finishes one tree's score from its path.
  static constexpr size_t kDescentLanes = 4;
  static void DescendTogether(std::span<const RandomCutTree> trees, const float* point,
                              std::span<TreeScratch> scratch);
  // Asks the memory system for what ScoreDescended will read first (the leaf's point and the
  // boxes low on the path), so that several trees' reads overlap. Changes nothing.
  void PrefetchClimb(const PointStore& store, const TreeScratch& scratch) const;
  // REQUIRES: scratch.path is this tree's descent with `point`.
  double ScoreDescended(const float* point, const PointStore& store, TreeScratch& scratch) const;

  // Adds this tree's score of `point`, split by dimension and direction, to high[] and low[]
  // (dimensions() each); the added values sum to Score().
  void AddAttribution(const float* point, const PointStore& store, TreeScratch& scratch,
                      double* high, double* low) const;

  int dimensions() const { return dimensions_; }
  int32_t mass() const { return mass_; }
  // Each leaf's point index once, in depth-first order.
  std::vector<int32_t> LeafPoints() const;
  // Bounding box of all points. REQUIRES: mass() > 0.
  void RootBox(const PointStore& store, TreeScratch& scratch, std::vector<float>* lo,
               std::vector<float>* hi) const;
  // Checks every structural invariant (routing, masses, cached boxes); for tests.
  Status Validate(const PointStore& store) const;

  size_t MemoryBytes() const;

  void Serialize(BlobWriter* out) const;
  // Rebuilds the tree from Serialize's output. Leaves must be live in `store`.
  Status Deserialize(BlobReader* in, const PointStore& store);

 private:
  static bool IsLeaf(int32_t ref) { return ref < 0; }
  static int32_t LeafPoint(int32_t ref) { return ~ref; }
  static int32_t LeafRef(int32_t point) { return ~point; }

  // What a descent reads about a node besides its cut dimension.
  struct Node {
    int32_t child[2];  // [0]: x[dim] <= cut, [1]: above. While free, child[0] is the next free or -1
    float cut;
  };
  Node& node(int32_t ref) { return nodes_[static_cast<size_t>(ref)]; }
  const Node& node(int32_t ref) const { return nodes_[static_cast<size_t>(ref)]; }
  uint32_t CutDim(int32_t ref) const { return dims_ == 1 ? 0 : cut_dims_[static_cast<size_t>(ref)]; }
  int32_t Child(int32_t ref, const float* point) const {
    const Node& n = node(ref);
    // An index rather than a branch: the branch would be mispredicted half the time.
    return n.child[point[CutDim(ref)] > n.cut ? 1 : 0];
  }
  // The child slot of `parent` that holds `child`.
  int32_t& SlotOf(int32_t parent, int32_t child) {
    Node& n = node(parent);
    return n.child[0] == child ? n.child[0] : n.child[1];
  }
  int32_t Sibling(int32_t parent, int32_t child) const {
    const Node& n = node(parent);
    return n.child[0] == child ? n.child[1] : n.child[0];
  }
  void SetMass(int32_t mass);
  int32_t LeafMass(int32_t point) const;
  // Fills scratch.path with the references from the root to the leaf `point` falls into.
  void Descend(const float* point, TreeScratch& scratch) const;
  // Climbs scratch.path from the leaf's parent to the root and calls
  //   visit(depth, lo, hi, outside, range)
  // for each subtree whose box [lo, hi] does not contain `point`, where `outside` is the sum
  // over dimensions of the point's distance from the box and `range` the summed ranges of
  // box ∪ {point}. Stops at the first box that contains the point. Without a box cache,
  // scratch.lo/hi must hold the leaf's box on entry and are grown level by level.
  template <typename Visit>
  void Climb(const float* point, const PointStore& store, TreeScratch& scratch, Visit&& visit) const;
  // Grows lo/hi to cover the subtree `ref`.
  void MergeBox(int32_t ref, const PointStore& store, TreeScratch& scratch, float* lo,
                float* hi) const;
  float* CachedLo(int32_t node) { return &boxes_[static_cast<size_t>(node) * 2 * dims_]; }
  float* CachedHi(int32_t node) { return CachedLo(node) + dims_; }
  const float* CachedLo(int32_t node) const { return &boxes_[static_cast<size_t>(node) * 2 * dims_]; }
  const float* CachedHi(int32_t node) const { return CachedLo(node) + dims_; }
  // Recomputes a cached box from its children; returns whether it changed.
  bool RefreshCachedBox(int32_t node, const PointStore& store, TreeScratch& scratch);
  int32_t AllocateNode();
  void FreeNode(int32_t node);
  void Clear();

  int dimensions_;
  size_t dims_;  // dimensions_ as an index type
  int capacity_;
  bool cache_boxes_;
  int32_t root_ = 0;  // meaningful only when mass_ > 0
  int32_t mass_ = 0;
  double normalizer_ = 0;   // log2(mass_ + 1), the score's scale, kept to save a log per score
  int32_t free_head_ = -1;  // free internal nodes, chained through Node::child[0]
  std::vector<Node> nodes_;
  std::vector<uint16_t> cut_dims_;  // per internal node; empty when dimensions == 1
  std::vector<float> boxes_;  // per internal node: dims lows then dims highs, if cache_boxes_
  std::unordered_map<int32_t, int32_t> extra_mass_;  // leaf point -> mass - 1, for duplicates
};

}  // namespace fleetlog::detect
