#include "server/workgroups.h"

#include <gtest/gtest.h>

namespace fleetlog {
namespace {

TEST(WorkgroupsTest, AdmitsUpToConcurrentPlusQueuedAndCountsOutcomes) {
  Workgroups w({{.name = "default", .max_concurrent = 1, .max_queued = 1}});
  ASSERT_TRUE(w.Enqueue("default", "a").ok());
  ASSERT_TRUE(w.Enqueue("default", "b").ok());
  EXPECT_EQ(w.Enqueue("default", "c").code(), StatusCode::kResourceExhausted);
  auto first = w.Pick();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, "a");
  EXPECT_FALSE(w.Pick().has_value());  // one at a time
  EXPECT_EQ(w.Enqueue("default", "c").code(), StatusCode::kResourceExhausted);
  w.Finish("default", Outcome::kFailed);
  EXPECT_TRUE(w.RemoveQueued("default", "b", Outcome::kAborted));
  EXPECT_FALSE(w.Pick().has_value());
  const auto& c = w.Snapshot()[0].second;
  EXPECT_EQ(c.queued, 0);
  EXPECT_EQ(c.running, 0);
  EXPECT_EQ(c.failed, 1);
  EXPECT_EQ(c.aborted, 1);
  EXPECT_EQ(c.rejected, 2);
}

TEST(WorkgroupsTest, WorkgroupsTakeTurns) {
  Workgroups w({{.name = "a", .max_concurrent = 4}, {.name = "b", .max_concurrent = 4}});
  for (const char* id : {"a1", "a2"}) ASSERT_TRUE(w.Enqueue("a", id).ok());
  for (const char* id : {"b1", "b2"}) ASSERT_TRUE(w.Enqueue("b", id).ok());
  std::string order;
  while (auto p = w.Pick()) order += p->id + " ";
  EXPECT_EQ(order, "a1 b1 a2 b2 ");
}

}  // namespace
}  // namespace fleetlog
