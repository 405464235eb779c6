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

// Issue 11: the server's memory budget; a workgroup whose memory does not fit waits, others go.
TEST(WorkgroupsTest, PickSkipsWorkgroupsOverTheFreeMemory) {
  Workgroups w({{.name = "big", .memory_limit_bytes = 1LL << 30}, {.name = "small", .memory_limit_bytes = 64LL << 20}});
  ASSERT_TRUE(w.Enqueue("big", "b1").ok());
  ASSERT_TRUE(w.Enqueue("small", "s1").ok());
  auto p = w.Pick(128LL << 20);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->id, "s1");
  EXPECT_FALSE(w.Pick(128LL << 20).has_value());
  EXPECT_EQ(w.Pick(1LL << 30)->id, "b1");
}

}  // namespace
}  // namespace fleetlog
