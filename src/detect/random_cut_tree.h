// RandomCutTree: one tree of a Random Cut Forest (Guha et al., ICML 2016).
//
// Each internal node splits its points by a cut `x[dim] <= value` (left) or `>` (right). Cuts are
// random: a new point p enters above the highest node on its root-to-leaf path whose box B a
// cut drawn uniformly over the ranges of B ∪ {p} separates from p, so a dimension is chosen in
// proportion to its range. Identical points share a leaf whose mass counts them.
//
// Layout: flat struct-of-arrays with int32 node references. A reference >= 0 is an internal
// node; a negative reference r is the leaf of point store index ~r, so leaves cost nothing but
// their parent's child slot. There are no parent pointers: paths are found again by descending
// with the point's coordinates. Bounding boxes are cached per internal node (float32) when
// `cache_boxes` is set; otherwise they are computed from the leaves, and only for the bottom
// of a path, up to the first box that contains the query point.
//
// Failure: the mutating calls trust their caller (the forest); Remove reports a point that is
// not in the tree as kInternal. Deserialize reports a bad blob as kCorruption.
// Thread-safety: not thread-safe. Const methods write to the caller's TreeScratch only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "detect/blob.h"
#include "detect/point_store.h"
#include "detect/random.h"

namespace fleetlog::detect {

// Reusable buffers so that the per-point paths never allocate. One per thread of use.
struct TreeScratch {
  explicit TreeScratch(int dimensions);
  std::vector<int32_t> path;   // node references from the root down to a leaf
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

  // Everything a descent reads about a node, in one 16-byte record.
  struct Node {
    int32_t left;   // while free: the next free node, or -1
    int32_t right;
    float cut;
    uint32_t dim;
  };
  Node& node(int32_t ref) { return nodes_[static_cast<size_t>(ref)]; }
  const Node& node(int32_t ref) const { return nodes_[static_cast<size_t>(ref)]; }
  static int32_t Child(const Node& n, const float* point) {
    return point[n.dim] <= n.cut ? n.left : n.right;
  }
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
  int32_t free_head_ = -1;  // free internal nodes, chained through Node::left
  std::vector<Node> nodes_;
  std::vector<float> boxes_;  // per internal node: dims lows then dims highs, if cache_boxes_
  std::unordered_map<int32_t, int32_t> extra_mass_;  // leaf point -> mass - 1, for duplicates
};

}  // namespace fleetlog::detect
