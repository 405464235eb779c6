// The running half of StatementService: the worker pool, the watchdog, and one statement's
// execution. See statements.h for the contract.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "server/statements.h"

namespace fleetlog {
namespace {

constexpr auto kWatchdogTick = std::chrono::milliseconds(20);
constexpr int kExpireEveryTicks = 50;  // about once a second
// How often the pool is asked whether a new snapshot replaced kept workers (warm-ups).
constexpr auto kWarmEvery = std::chrono::seconds(1);
// How long a query worker may take to start (exec, open its engine) before the workgroup's
// own time limit starts counting.
constexpr Duration kWorkerStartLimit = Duration::Seconds(30);

Outcome OutcomeOf(StatementStatus s) {
  return s == StatementStatus::kFinished ? Outcome::kFinished
         : s == StatementStatus::kAborted ? Outcome::kAborted
                                          : Outcome::kFailed;
}

void WarnIfNotConfined(const WorkerEvent& confined) {
  if (!confined.line.empty() && confined.line.find("\"landlocked\":true") == std::string::npos)
    spdlog::warn("query worker not confined by Landlock: {}", confined.line);
}

}  // namespace

void StatementService::WorkerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    std::optional<Workgroups::Picked> picked;
    // The budget counts workgroup memory limits, of running and of kept idle workers; each
    // worker may add its headroom on top. Idle workers are ended while a statement waits
    // for their memory, never merely because the queue is empty.
    work_cv_.wait(lock, [&] {
      if (stopping_) return true;
      for (;;) {
        const int64_t used = memory_in_use_ + pool_.IdleMemory();
        if ((picked = workgroups_.Pick(used == 0 ? INT64_MAX : memory_budget_ - used))) return true;
        // Idle workers are ended only for a statement that waits for their memory.
        if (!workgroups_.Startable() || !pool_.EvictIdle()) return false;
      }
    });
    if (!picked) return;
    StatementPtr st = by_id_.at(picked->id);
    const int64_t memory = workgroups_.Find(st->workgroup)->memory_limit_bytes;
    memory_in_use_ += memory;
    st->status = StatementStatus::kPicked;
    st->picked = st->updated = Now();
    workgroups_.AddQueueWait(st->workgroup, st->picked - st->created);
    lock.unlock();
    if (options_.on_picked) options_.on_picked(st->id);
    Run(st);
    lock.lock();
    memory_in_use_ -= memory;
    work_cv_.notify_all();  // a statement that did not fit may now
  }
}

void StatementService::WarmLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, kWarmEvery, [&] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    for (const auto& w : pool_.TakeWarmUps()) WarmUp(w);
    lock.lock();
  }
}

void StatementService::WarmUp(const WorkerPool::WarmUp& w) {
  WorkgroupConfig wg;
  {
    std::lock_guard lock(mu_);
    const WorkgroupConfig* found = workgroups_.Find(w.workgroup);
    // A warm-up is a guess: it takes no memory a queued statement could use.
    if (stopping_ || found == nullptr || found->memory_limit_bytes != w.memory || workgroups_.Startable() ||
        memory_in_use_ + pool_.IdleMemory() + w.memory > memory_budget_)
      return;
    wg = *found;
    memory_in_use_ += w.memory;
  }
  auto lease = pool_.Acquire(wg, {}, w.copies);
  bool ready = false;
  if (lease.ok()) {
    {
      std::lock_guard lock(mu_);
      warming_ = lease->process.get();
      warming_deadline_ = Now() + kWorkerStartLimit;
      if (stopping_) warming_->Kill();
    }
    for (;;) {
      auto event = lease->process->Next(1 << 20);
      if (!event.ok() || !event->has_value()) break;
      if ((*event)->kind == WorkerEvent::Kind::kConfined) {
        WarnIfNotConfined(**event);
        continue;
      }
      ready = (*event)->kind == WorkerEvent::Kind::kReady;
      if (ready) {
        lease->copies = (*event)->copies;
        lease->used = w.used;
      }
      break;
    }
  } else {
    spdlog::debug("workgroup {}: no worker made ready over the new snapshot: {}", wg.name, lease.status().message());
  }
  std::lock_guard lock(mu_);
  warming_ = nullptr;
  if (ready && !stopping_) {
    workgroups_.AddWarmUp(wg.name);
    pool_.Release(std::move(lease).value());  // the pool never takes mu_
  }
  memory_in_use_ -= w.memory;
  work_cv_.notify_all();
}

void StatementService::RequestStopLocked(Statement& st, StopReason reason) {
  if (st.stop_reason == StopReason::kNone) st.stop_reason = reason;
  st.stop = true;
  if (st.process != nullptr) st.process->Kill();
}

void StatementService::WatchdogLoop() {
  std::unique_lock lock(mu_);
  for (int tick = 1; !stopping_; ++tick) {
    stop_cv_.wait_for(lock, kWatchdogTick, [&] { return stopping_; });
    const Timestamp now = Now();
    for (const auto& st : running_) {
      if (st->stop_reason == StopReason::kNone && now >= st->deadline) RequestStopLocked(*st, StopReason::kTimeout);
      // Again every tick: harmless for a worker already killed.
      else if (st->stop_reason != StopReason::kNone && st->process != nullptr) st->process->Kill();
    }
    if (warming_ && now >= warming_deadline_) warming_->Kill();
    // Long polls whose wait has passed answer with the status as it is.
    std::vector<std::function<void()>> expired;
    const auto steady_now = std::chrono::steady_clock::now();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.deadline > steady_now) {
        ++it;
        continue;
      }
      expired.push_back(std::move(it->second.wake));
      it = waiters_.erase(it);
    }
    if (!expired.empty()) {
      lock.unlock();
      Wake(expired);
      lock.lock();
    }
    if (tick % kExpireEveryTicks == 0) {
      lock.unlock();
      ExpireResults();
      lock.lock();
    }
  }
}

Status StatementService::RunSub(const StatementPtr& st, size_t i, QueryProcess& worker, StoredResultInfo* stored,
                                bool* has_result, bool* in_step) {
  *in_step = false;
  // A row may be as long as the whole result may be; the line bound keeps a worker from
  // making this process buffer more.
  const size_t max_line = static_cast<size_t>(std::max<int64_t>(options_.limits.cap_bytes, 1 << 20));
  std::unique_ptr<StoredResultWriter> writer;
  for (;;) {
    auto event = worker.Next(max_line);
    if (!event.ok()) return event.status();
    if (!event->has_value()) {
      const std::string how = worker.Reap();
      return Status(StatusCode::kInternal,
                    fmt::format("the query worker {} before the statement ended (its memory is capped at the "
                                "workgroup's memory_limit plus a headroom, docs/security.md)", how));
    }
    WorkerEvent& e = **event;
    switch (e.kind) {
      case WorkerEvent::Kind::kConfined: {
        WarnIfNotConfined(e);
        // The time limit counts from here: starting a worker (exec, engine) is not the
        // statement's time, and is bounded by kWorkerStartLimit instead.
        std::lock_guard lock(mu_);
        if (const WorkgroupConfig* wg = workgroups_.Find(st->workgroup)) st->deadline = Now() + wg->timeout;
        break;
      }
      case WorkerEvent::Kind::kColumns: {
        std::vector<ResultColumn> columns;
        for (auto& [name, type] : e.columns) columns.push_back({std::move(name), std::move(type)});
        *has_result = !columns.empty();
        if (*has_result) {
          ASSIGN_OR_RETURN(writer, StoredResultWriter::Create(ResultDir(st->id, static_cast<int>(i)), std::move(columns),
                                                              options_.limits));
        }
        break;
      }
      case WorkerEvent::Kind::kRow:
        if (!writer) return Status(StatusCode::kInternal, "the query worker sent a row before its columns");
        RETURN_IF_ERROR(writer->AddRow(e.line));
        break;
      case WorkerEvent::Kind::kEnd:
        *in_step = true;
        if (writer) {
          ASSIGN_OR_RETURN(*stored, writer->Finish());
        }
        return Status::Ok();
      case WorkerEvent::Kind::kError:
        *in_step = true;
        return e.error;
      case WorkerEvent::Kind::kReady:
        return Status(StatusCode::kInternal, "the query worker ended the job before the statement");
    }
  }
}

void StatementService::Run(const StatementPtr& st) {
  WorkgroupConfig wg;
  {
    std::lock_guard lock(mu_);
    wg = *workgroups_.Find(st->workgroup);
  }
  std::vector<std::string> statements;
  for (const auto& sub : st->subs) statements.push_back(sub.sql);
  WorkerPool::Lease lease;
  Status start_error;
  if (auto acquired = pool_.Acquire(wg, statements); acquired.ok()) lease = std::move(acquired).value();
  else start_error = acquired.status();
  QueryProcess* const worker = lease.process.get();
  {
    std::lock_guard lock(mu_);
    st->process = worker;
    st->status = StatementStatus::kStarted;
    st->started = st->updated = Now();
    // A kept worker's engine is open already: no `confined` event starts the clock.
    st->deadline = st->started + wg.timeout + (lease.reused ? Duration() : kWorkerStartLimit);
    running_.push_back(st);
    if (st->stop && worker) worker->Kill();
  }

  size_t last = 0;
  bool in_step = worker != nullptr;  // whether the worker may run another job afterwards
  for (size_t i = 0; i < st->subs.size(); ++i) {
    last = i;
    SubStatement& sub = st->subs[i];
    {
      std::lock_guard lock(mu_);
      sub.status = StatementStatus::kStarted;
      sub.started = st->updated = Now();
    }
    StoredResultInfo stored;
    bool has_result = false;
    // No exception may leave a worker thread: one thrown here fails this statement only.
    Status status;
    try {
      status = worker ? RunSub(st, i, *worker, &stored, &has_result, &in_step)
                      : start_error.WithContext("cannot start the query worker");
    } catch (const std::exception& e) {
      status = Internal("unexpected error: {}", e.what());
      in_step = false;
    }
    std::unique_lock lock(mu_);
    sub.ended = st->updated = Now();
    switch (st->stop_reason) {
      case StopReason::kNone:
        sub.status = status.ok() ? StatementStatus::kFinished : StatementStatus::kFailed;
        sub.error = status.message();
        break;
      case StopReason::kCancel:
        sub.status = StatementStatus::kAborted;
        sub.error = "cancelled";
        break;
      case StopReason::kShutdown:
        sub.status = StatementStatus::kAborted;
        sub.error = "the server shut down";
        break;
      case StopReason::kTimeout:
        sub.status = StatementStatus::kFailed;
        sub.error = fmt::format("the statement ran longer than the time limit of workgroup \"{}\" ({}, timeout in "
                                "[[workgroup]]) and was stopped", wg.name, FormatDuration(wg.timeout));
        break;
    }
    if (sub.status == StatementStatus::kFinished) {
      sub.rows = stored.rows;
      sub.bytes = stored.bytes;
      sub.has_result = has_result;
    } else {
      RemoveStoredResult(ResultDir(st->id, static_cast<int>(i)));
      break;
    }
    // A batch's sub-statement ended: its long polls may answer (the batch's wait for the end).
    if (st->batch) {
      const auto wakes = TakeWaitersLocked(st->id + ":" + std::to_string(i + 1), /*subs=*/false);
      lock.unlock();
      Wake(wakes);
    }
  }

  std::vector<std::function<void()>> wakes;
  // The worker runs another statement only if this one's job finished in step and
  // unstopped (its last event read is the job's `ready`). After a failure it is not kept:
  // an engine that ran out of memory, say, is not trusted with the next statement.
  bool reusable = in_step && lease.pooled;
  {
    std::lock_guard lock(mu_);
    reusable = reusable && st->subs[last].status == StatementStatus::kFinished;
  }
  if (reusable) {
    auto ready = worker->Next(1 << 20);
    reusable = ready.ok() && ready->has_value() && (*ready)->kind == WorkerEvent::Kind::kReady;
    if (reusable) lease.copies = (*ready)->copies;
    // The worker cannot log: what it could not keep in memory is said and counted here.
    if (reusable && !(*ready)->keep_failures.empty()) {
      for (const auto& failure : (*ready)->keep_failures)
        spdlog::warn("workgroup {}: a query worker reads files for every statement instead of rows kept in memory: {}",
                     wg.name, failure);
      std::lock_guard lock(mu_);
      workgroups_.AddKeepFailures(wg.name, static_cast<int64_t>((*ready)->keep_failures.size()));
    }
  }

  {
    std::lock_guard lock(mu_);
    // A stop requested until here may have killed the worker: it is not kept.
    reusable = reusable && st->stop_reason == StopReason::kNone;
    st->process = nullptr;  // before the worker is kept or ended, so the watchdog no longer touches it
    running_.erase(std::find(running_.begin(), running_.end(), st));
    // Kept before the status says the statement ended, so that a client that sees it ended
    // and sends the next statement finds the worker idle. (The pool never takes mu_.)
    if (reusable) pool_.Release(std::move(lease));
    for (size_t i = last + 1; i < st->subs.size(); ++i) {
      st->subs[i].status = StatementStatus::kAborted;
      st->subs[i].error = "not run: an earlier statement of the batch did not finish";
    }
    st->status = st->subs[last].status;
    st->ended = st->updated = Now();
    workgroups_.Finish(st->workgroup, OutcomeOf(st->status));
    spdlog::debug("statement {} {} in workgroup {}", st->id, StatementStatusName(st->status), st->workgroup);
    wakes = TakeWaitersLocked(st->id, /*subs=*/true);
  }
  Wake(wakes);
  lease = {};
  Persist(st);
}

}  // namespace fleetlog
