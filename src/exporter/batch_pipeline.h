// BatchPipeline: hands the RowBatches a source reads to a thread of its own that consumes
// them (appends them to an export window, which stages and compresses Parquet parts as it
// fills), so that fetching and decoding the next batch overlaps writing this one. The queue
// between the two holds at most `max_queued_bytes` of batches (always at least one batch,
// however large); Push blocks while it is full, so memory stays bounded whichever side is
// slower.
//
// Errors: the consumer's first error ends the pipeline: it takes no more batches, and Push
// and Finish return that error. A producer that fails (the read broke or was cancelled)
// calls Abandon(): the batches still queued are dropped and the consumer stops after the
// batch in hand. Nothing here commits anything; the caller commits only after Finish()
// returned ok, so the whole window is written before its commit.
//
// Thread-safety: Push, Finish and Abandon are called from one producer thread. The consumer
// runs on the pipeline's thread; what it touches is handed back to the producer when
// Finish or Abandon returns (they join the thread).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/row_batch.h"
#include "core/status.h"

namespace fleetlog {

class BatchPipeline {
 public:
  using Consumer = std::function<Status(RowBatch& batch)>;

  BatchPipeline(Consumer consumer, size_t max_queued_bytes);
  ~BatchPipeline();  // Abandon()
  BatchPipeline(const BatchPipeline&) = delete;
  BatchPipeline& operator=(const BatchPipeline&) = delete;

  // Queues `batch` for the consumer, waiting while the queue is full. Returns the consumer's
  // error once it failed (the batch is then dropped). The thread starts at the first Push;
  // when no thread can be started, the batch is consumed here.
  Status Push(RowBatch batch);
  // Waits until every queued batch is consumed and stops the thread: ok, or the consumer's
  // first error.
  Status Finish();
  // Drops the queued batches, waits for the batch in hand and stops the thread.
  void Abandon();
  // Batches waiting for the consumer (any thread; for tests).
  size_t queued_batches();

 private:
  Status Consume(RowBatch& batch) noexcept;
  void Run();
  void Stop(bool drop_queued);

  const Consumer consumer_;
  const size_t max_queued_bytes_;
  std::thread thread_;
  bool synchronous_ = false;  // no thread could be started

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::pair<RowBatch, size_t>> queue_;  // guarded by mu_: batches and their bytes
  size_t queued_bytes_ = 0;                          // guarded by mu_
  bool closing_ = false;                             // guarded by mu_: no more batches will come
  Status error_;                                     // guarded by mu_: the consumer's first error
};

}  // namespace fleetlog
