#include "exporter/batch_pipeline.h"

#include <exception>
#include <system_error>
#include <utility>

namespace fleetlog {

BatchPipeline::BatchPipeline(Consumer consumer, size_t max_queued_bytes)
    : consumer_(std::move(consumer)), max_queued_bytes_(max_queued_bytes) {}

BatchPipeline::~BatchPipeline() { Abandon(); }

Status BatchPipeline::Push(RowBatch batch) {
  if (!synchronous_ && !thread_.joinable()) {
    try {
      thread_ = std::thread([this] { Run(); });
    } catch (const std::system_error&) {
      synchronous_ = true;
    }
  }
  if (synchronous_) {
    std::lock_guard lock(mu_);
    if (error_.ok()) error_ = Consume(batch);
    return error_;
  }
  const size_t bytes = batch.ApproxBytes();
  std::unique_lock lock(mu_);
  // Room for the batch, or an empty queue (a batch larger than the bound still goes through).
  changed_.wait(lock, [&] { return !error_.ok() || queue_.empty() || queued_bytes_ + bytes <= max_queued_bytes_; });
  if (!error_.ok()) return error_;
  queue_.emplace_back(std::move(batch), bytes);
  queued_bytes_ += bytes;
  changed_.notify_all();
  return Status::Ok();
}

// No exception may leave the pipeline's thread (it would end the process): one becomes the
// consumer's error, as RunCycle turns one on its own workers into a failed run.
Status BatchPipeline::Consume(RowBatch& batch) noexcept {
  try {
    return consumer_(batch);
  } catch (const std::exception& e) {
    return Internal("writing a batch: unexpected error: {}", e.what());
  } catch (...) {
    return Internal("writing a batch: unexpected error");
  }
}

void BatchPipeline::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    changed_.wait(lock, [&] { return closing_ || !queue_.empty(); });
    if (queue_.empty()) return;  // closing, and everything consumed
    RowBatch batch = std::move(queue_.front().first);
    queued_bytes_ -= queue_.front().second;
    queue_.pop_front();
    changed_.notify_all();  // room for the producer
    lock.unlock();
    Status status = Consume(batch);
    lock.lock();
    if (!status.ok()) {
      error_ = std::move(status);
      queue_.clear();
      queued_bytes_ = 0;
      changed_.notify_all();
      return;
    }
  }
}

void BatchPipeline::Stop(bool drop_queued) {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    if (drop_queued) {
      queue_.clear();
      queued_bytes_ = 0;
    }
    closing_ = true;
    changed_.notify_all();
  }
  thread_.join();
}

Status BatchPipeline::Finish() {
  Stop(/*drop_queued=*/false);
  std::lock_guard lock(mu_);
  return error_;
}

void BatchPipeline::Abandon() { Stop(/*drop_queued=*/true); }

size_t BatchPipeline::queued_batches() {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace fleetlog
