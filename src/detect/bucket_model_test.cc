#include "detect/bucket_model.h"

#include <gtest/gtest.h>

namespace fleetlog::detect {
namespace {

TEST(BucketModelTest, AModelOfAnotherVersionIsToBeRebuiltAndADamagedOneIsCorrupt) {
  const BucketModel model = BucketModel::New(Duration::Minutes(5), *ParseTimestamp("2026-01-05 00:00:00"));
  const std::string blob = model.Serialize();
  ASSERT_TRUE(BucketModel::Deserialize(blob).ok());

  std::string older = blob;
  older[5] = static_cast<char>(older[5] - 1);  // "FLDET" and the format number before this one
  EXPECT_EQ(BucketModel::Deserialize(older).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(BucketModel::Deserialize(blob.substr(0, blob.size() / 2)).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(BucketModel::Deserialize("not a model").status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace fleetlog::detect
