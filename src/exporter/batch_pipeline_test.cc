#include "exporter/batch_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

namespace fleetlog {
namespace {

const TableSchema kSchema = {{"n", ColumnType::kInt64}};

RowBatch BatchOf(int64_t n) {
  RowBatch batch(kSchema);
  batch.column(0).AppendInt(n);
  return batch;
}

TEST(BatchPipelineTest, ConsumesEveryBatchInOrderOnItsOwnThread) {
  std::vector<int64_t> seen;
  std::thread::id consumer_thread;
  BatchPipeline pipeline(
      [&](RowBatch& batch) {
        consumer_thread = std::this_thread::get_id();
        seen.push_back(batch.column(0).ints[0]);
        return Status::Ok();
      },
      /*max_queued_bytes=*/1);  // one batch at a time
  for (int64_t n = 0; n < 100; ++n) ASSERT_TRUE(pipeline.Push(BatchOf(n)).ok());
  ASSERT_TRUE(pipeline.Finish().ok());
  ASSERT_EQ(seen.size(), 100u);
  for (int64_t n = 0; n < 100; ++n) EXPECT_EQ(seen[static_cast<size_t>(n)], n);
  EXPECT_NE(consumer_thread, std::this_thread::get_id());
}

TEST(BatchPipelineTest, TheConsumersErrorStopsItAndReachesTheProducer) {
  std::atomic<int> consumed{0};
  BatchPipeline pipeline(
      [&](RowBatch& batch) {
        ++consumed;
        if (batch.column(0).ints[0] == 3) return Error(StatusCode::kIoError, "disk full at batch 3");
        return Status::Ok();
      },
      1);
  Status pushed;
  int64_t n = 0;
  // The producer learns of the failure at a later Push (the queue is bounded, so soon).
  for (; n < 1000 && pushed.ok(); ++n) pushed = pipeline.Push(BatchOf(n));
  EXPECT_EQ(pushed.code(), StatusCode::kIoError);
  EXPECT_LT(n, 1000);
  const Status finished = pipeline.Finish();
  EXPECT_EQ(finished.code(), StatusCode::kIoError);
  EXPECT_EQ(finished.message(), "disk full at batch 3");
  EXPECT_EQ(consumed.load(), 4) << "no batch after the failing one is consumed";
}

TEST(BatchPipelineTest, AnExceptionInTheConsumerIsAnError) {
  BatchPipeline pipeline([](RowBatch&) -> Status { throw std::runtime_error("boom"); }, 1);
  (void)pipeline.Push(BatchOf(1));
  const Status finished = pipeline.Finish();
  EXPECT_EQ(finished.code(), StatusCode::kInternal);
  EXPECT_NE(finished.message().find("boom"), std::string::npos);
}

// The read failed while the consumer writes a batch: Abandon drops what is queued and waits
// for the batch in hand, so the window is the producer's again when it returns.
TEST(BatchPipelineTest, AbandonDropsQueuedBatchesAndWaitsForTheOneInHand) {
  std::promise<void> writing, release;
  std::shared_future<void> released = release.get_future().share();
  std::vector<int64_t> consumed;
  BatchPipeline pipeline(
      [&](RowBatch& batch) {
        consumed.push_back(batch.column(0).ints[0]);
        if (consumed.size() == 1) {
          writing.set_value();
          released.wait();
        }
        return Status::Ok();
      },
      1 << 20);
  ASSERT_TRUE(pipeline.Push(BatchOf(1)).ok());
  writing.get_future().wait();  // the consumer holds batch 1
  ASSERT_TRUE(pipeline.Push(BatchOf(2)).ok());
  ASSERT_TRUE(pipeline.Push(BatchOf(3)).ok());
  std::atomic<bool> abandoned{false};
  std::thread producer([&] {
    pipeline.Abandon();
    abandoned = true;
  });
  // Abandon cannot return while batch 1 is in hand; once the queue is dropped, release it.
  while (pipeline.queued_batches() > 0) std::this_thread::yield();
  EXPECT_FALSE(abandoned.load());
  release.set_value();
  producer.join();
  EXPECT_TRUE(abandoned.load());
  EXPECT_EQ(consumed, std::vector<int64_t>{1});
}

}  // namespace
}  // namespace fleetlog
