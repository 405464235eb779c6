// RandomCutTree persistence and self-checks.
//
// A tree is saved as a pre-order walk: internal nodes as (dimension, cut), leaves as (point,
// mass). Node numbers are not saved; they are reassigned on load, which changes no score.
// Cached boxes are not saved either; they are recomputed from the leaves.

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "detect/random_cut_tree.h"

namespace fleetlog::detect {
namespace {

constexpr uint8_t kLeafTag = 0;
constexpr uint8_t kNodeTag = 1;

}  // namespace

void RandomCutTree::Serialize(BlobWriter* out) const {
  out->Put<int32_t>(mass_);
  if (mass_ == 0) return;
  std::vector<int32_t> stack{root_};
  while (!stack.empty()) {
    const int32_t ref = stack.back();
    stack.pop_back();
    if (IsLeaf(ref)) {
      out->Put<uint8_t>(kLeafTag);
      out->Put<int32_t>(LeafPoint(ref));
      out->Put<int32_t>(LeafMass(LeafPoint(ref)));
    } else {
      const Node& n = node(ref);
      out->Put<uint8_t>(kNodeTag);
      out->Put<uint16_t>(static_cast<uint16_t>(CutDim(ref)));
      out->Put<float>(n.cut);
      stack.push_back(n.child[1]);
      stack.push_back(n.child[0]);
    }
  }
}

Status RandomCutTree::Deserialize(BlobReader* in, const PointStore& store) {
  const Status corrupt(StatusCode::kCorruption, "random cut tree: truncated or inconsistent");
  Clear();
  int32_t mass = 0;
  if (!in->Get(&mass) || mass < 0) return corrupt;
  if (mass == 0) return Status::Ok();

  struct Slot {
    int32_t parent;  // -1: the root
    bool right;
  };
  std::vector<Slot> slots{{-1, false}};
  std::vector<int32_t> internal_nodes;  // in pre-order
  std::unordered_set<int32_t> leaves;
  int64_t total_mass = 0;
  while (!slots.empty()) {
    const Slot slot = slots.back();
    slots.pop_back();
    uint8_t tag = 0;
    if (!in->Get(&tag)) return corrupt;
    int32_t ref = 0;
    if (tag == kNodeTag) {
      uint16_t dim = 0;
      float cut = 0;
      if (!in->Get(&dim) || !in->Get(&cut) || dim >= dims_ || !std::isfinite(cut) ||
          free_head_ < 0) {
        return corrupt;
      }
      ref = AllocateNode();
      if (dims_ > 1) cut_dims_[static_cast<size_t>(ref)] = dim;
      node(ref).cut = cut;
      internal_nodes.push_back(ref);
      slots.push_back({ref, true});
      slots.push_back({ref, false});
    } else if (tag == kLeafTag) {
      int32_t point = 0, leaf_mass = 0;
      if (!in->Get(&point) || !in->Get(&leaf_mass) || leaf_mass < 1 || !store.IsLive(point) ||
          !leaves.insert(point).second) {
        return corrupt;
      }
      if (leaf_mass > 1) extra_mass_[point] = leaf_mass - 1;
      total_mass += leaf_mass;
      ref = LeafRef(point);
    } else {
      return corrupt;
    }
    if (slot.parent < 0) {
      root_ = ref;
    } else {
      node(slot.parent).child[slot.right ? 1 : 0] = ref;
    }
  }
  if (total_mass != mass || leaves.size() > static_cast<size_t>(capacity_)) return corrupt;
  SetMass(mass);
  if (cache_boxes_) {
    // Reverse pre-order visits children before their parents.
    TreeScratch scratch(dimensions_);
    for (auto it = internal_nodes.rbegin(); it != internal_nodes.rend(); ++it) {
      RefreshCachedBox(*it, store, scratch);
    }
  }
  return Validate(store);
}

Status RandomCutTree::Validate(const PointStore& store) const {
  if (mass_ == 0) return Status::Ok();
  TreeScratch scratch(dimensions_);
  int64_t total_mass = 0;
  size_t leaf_count = 0, node_count = 0;
  // Returns the subtree's box in lo/hi, computed from its leaves.
  auto check = [&](auto& self, int32_t ref, std::vector<float>& lo, std::vector<float>& hi) -> Status {
    if (IsLeaf(ref)) {
      const int32_t point = LeafPoint(ref);
      if (!store.IsLive(point)) return Internal("leaf point {} is not live", point);
      const float* p = store.Get(point);
      Descend(p, scratch);
      if (scratch.path.back() != ref) return Internal("leaf point {} is not where its cuts lead", point);
      total_mass += LeafMass(point);
      ++leaf_count;
      lo.assign(p, p + dims_);
      hi.assign(p, p + dims_);
      return Status::Ok();
    }
    ++node_count;
    std::vector<float> right_lo, right_hi;
    RETURN_IF_ERROR(self(self, node(ref).child[0], lo, hi));
    RETURN_IF_ERROR(self(self, node(ref).child[1], right_lo, right_hi));
    for (size_t d = 0; d < dims_; ++d) {
      lo[d] = std::min(lo[d], right_lo[d]);
      hi[d] = std::max(hi[d], right_hi[d]);
    }
    if (cache_boxes_ && (!std::equal(lo.begin(), lo.end(), CachedLo(ref)) ||
                         !std::equal(hi.begin(), hi.end(), CachedHi(ref)))) {
      return Internal("cached box of node {} differs from its leaves", ref);
    }
    return Status::Ok();
  };
  std::vector<float> lo, hi;
  RETURN_IF_ERROR(check(check, root_, lo, hi));
  if (total_mass != mass_) return Internal("leaf masses sum to {}, tree mass is {}", total_mass, mass_);
  if (node_count + 1 != leaf_count) return Internal("{} internal nodes for {} leaves", node_count, leaf_count);
  return Status::Ok();
}

}  // namespace fleetlog::detect
