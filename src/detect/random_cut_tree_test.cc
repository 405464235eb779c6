#include "detect/random_cut_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "detect/point_store.h"
#include "detect/random.h"

namespace fleetlog::detect {
namespace {

class RandomCutTreeTest : public ::testing::TestWithParam<bool> {};

TEST_P(RandomCutTreeTest, RemoveTakesPointsOutOfLeavesAndBoxes) {
  PointStore store(2, 1);
  RandomCutTree tree(2, 64, /*cache_boxes=*/GetParam());
  TreeScratch scratch(2);
  Rng rng(1);
  std::vector<int32_t> points;
  for (int i = 0; i < 40; ++i) {
    const float p[2] = {static_cast<float>(i % 7), static_cast<float>(i / 7)};
    points.push_back(tree.Add(store.Add(p), store, rng, scratch));
  }
  const float far[2] = {100, -50};
  const int32_t outlier = tree.Add(store.Add(far), store, rng, scratch);
  ASSERT_TRUE(tree.Validate(store).ok());
  std::vector<float> lo, hi;
  tree.RootBox(store, scratch, &lo, &hi);
  EXPECT_EQ(hi[0], 100);
  EXPECT_EQ(lo[1], -50);

  ASSERT_TRUE(tree.Remove(outlier, store, scratch).ok());
  ASSERT_TRUE(tree.Validate(store).ok()) << tree.Validate(store).ToString();
  const std::vector<int32_t> leaves = tree.LeafPoints();
  EXPECT_EQ(std::count(leaves.begin(), leaves.end(), outlier), 0);
  tree.RootBox(store, scratch, &lo, &hi);
  EXPECT_EQ(hi[0], 6);
  EXPECT_EQ(lo[1], 0);
  EXPECT_EQ(tree.mass(), 40);
  EXPECT_FALSE(tree.Remove(outlier, store, scratch).ok());

  for (int32_t point : points) ASSERT_TRUE(tree.Remove(point, store, scratch).ok());
  EXPECT_EQ(tree.mass(), 0);
  EXPECT_TRUE(tree.LeafPoints().empty());
}

TEST_P(RandomCutTreeTest, DuplicatesShareALeaf) {
  PointStore store(1, 1);
  RandomCutTree tree(1, 8, GetParam());
  TreeScratch scratch(1);
  Rng rng(2);
  const float a[1] = {3};
  const float b[1] = {5};
  const int32_t first = tree.Add(store.Add(a), store, rng, scratch);
  tree.Add(store.Add(b), store, rng, scratch);
  EXPECT_EQ(tree.Add(store.Add(a), store, rng, scratch), first);
  EXPECT_EQ(tree.mass(), 3);
  EXPECT_EQ(tree.LeafPoints().size(), 2u);
  ASSERT_TRUE(tree.Remove(first, store, scratch).ok());
  EXPECT_EQ(tree.LeafPoints().size(), 2u);
  ASSERT_TRUE(tree.Remove(first, store, scratch).ok());
  EXPECT_EQ(tree.LeafPoints().size(), 1u);
  EXPECT_TRUE(tree.Validate(store).ok());
}

TEST_P(RandomCutTreeTest, SerializedTreeScoresTheSame) {
  PointStore store(3, 1);
  RandomCutTree tree(3, 128, GetParam());
  TreeScratch scratch(3);
  Rng rng(3);
  for (int i = 0; i < 100; ++i) {
    const float p[3] = {static_cast<float>(rng.NextOpenUnit()), static_cast<float>(rng.NextOpenUnit()),
                        static_cast<float>(i % 5)};
    tree.Add(store.Add(p), store, rng, scratch);
  }
  BlobWriter out;
  tree.Serialize(&out);
  const std::string blob = out.Release();
  RandomCutTree copy(3, 128, GetParam());
  BlobReader in(blob);
  ASSERT_TRUE(copy.Deserialize(&in, store).ok());
  const float probe[3] = {0.5f, 2.0f, 9.0f};
  EXPECT_EQ(copy.Score(probe, store, scratch), tree.Score(probe, store, scratch));
  BlobReader truncated(std::string_view(blob).substr(0, 20));
  EXPECT_FALSE(copy.Deserialize(&truncated, store).ok());
}

INSTANTIATE_TEST_SUITE_P(BoxCache, RandomCutTreeTest, ::testing::Bool());

}  // namespace
}  // namespace fleetlog::detect
