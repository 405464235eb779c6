#include "detect/point_store.h"

#include <gtest/gtest.h>

#include <vector>

namespace fleetlog::detect {
namespace {

TEST(PointStoreTest, ShingledPointsShareValues) {
  PointStore store(1, 4);
  std::vector<int32_t> indices;
  std::vector<float> shingle = {0, 1, 2, 3};
  for (int t = 4; t < 100; ++t) {
    indices.push_back(store.Add(shingle));
    shingle.erase(shingle.begin());
    shingle.push_back(static_cast<float>(t));
  }
  // 96 points of 4 values, stored as one run of 99 values.
  EXPECT_EQ(store.stored_values(), 99u);
  const float* p = store.Get(indices[10]);
  EXPECT_EQ(std::vector<float>(p, p + 4), (std::vector<float>{10, 11, 12, 13}));
}

TEST(PointStoreTest, FreedPointsAreReclaimedAndSurvivorsKeepTheirValues) {
  PointStore store(2, 1);
  std::vector<int32_t> kept;
  for (int i = 0; i < 5000; ++i) {
    const float p[2] = {static_cast<float>(i), static_cast<float>(-i)};
    const int32_t index = store.Add(p);
    if (i % 100 == 0) {
      kept.push_back(index);
    } else {
      store.RemoveReference(index);
    }
  }
  EXPECT_EQ(store.live_points(), 50u);
  EXPECT_LT(store.stored_values(), 2500u);  // compaction dropped the freed values
  for (size_t k = 0; k < kept.size(); ++k) {
    EXPECT_EQ(store.Get(kept[k])[0], static_cast<float>(k * 100));
    EXPECT_EQ(store.Get(kept[k])[1], -static_cast<float>(k * 100));
  }
  BlobWriter out;
  store.Serialize(&out);
  const std::string blob = out.Release();
  PointStore copy(2, 1);
  BlobReader in(blob);
  ASSERT_TRUE(copy.Deserialize(&in).ok());
  EXPECT_EQ(copy.Get(kept[7])[0], 700);
  PointStore wrong_shape(3, 1);
  BlobReader again(blob);
  EXPECT_EQ(wrong_shape.Deserialize(&again).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace fleetlog::detect
