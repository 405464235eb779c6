// The running half of StatementService: the worker pool, the watchdog, and one statement's
// execution. See statements.h for the contract.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "server/statements.h"

namespace fleetlog {
namespace {

constexpr auto kWatchdogTick = std::chrono::milliseconds(20);
constexpr int kExpireEveryTicks = 50;  // about once a second

// A "<table>_full" view (reassembled statement text) reads its table.
std::string BaseTable(const std::string& name) {
  constexpr std::string_view kSuffix = "_full";
  if (name.size() > kSuffix.size() && name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0)
    return name.substr(0, name.size() - kSuffix.size());
  return name;
}

Outcome OutcomeOf(StatementStatus s) {
  return s == StatementStatus::kFinished ? Outcome::kFinished
         : s == StatementStatus::kAborted ? Outcome::kAborted
                                          : Outcome::kFailed;
}

}  // namespace

void StatementService::WorkerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    std::optional<Workgroups::Picked> picked;
    work_cv_.wait(lock, [&] { return stopping_ || (picked = workgroups_.Pick()).has_value(); });
    if (!picked) return;
    StatementPtr st = by_id_.at(picked->id);
    st->status = StatementStatus::kPicked;
    st->picked = st->updated = Now();
    workgroups_.AddQueueWait(st->workgroup, st->picked - st->created);
    lock.unlock();
    if (options_.on_picked) options_.on_picked(st->id);
    Run(st);
    lock.lock();
  }
}

void StatementService::RequestStopLocked(Statement& st, StopReason reason) {
  if (st.stop_reason == StopReason::kNone) st.stop_reason = reason;
  st.stop = true;
  if (st.engine != nullptr) st.engine->Interrupt();
}

void StatementService::WatchdogLoop() {
  std::unique_lock lock(mu_);
  for (int tick = 1; !stopping_; ++tick) {
    stop_cv_.wait_for(lock, kWatchdogTick, [&] { return stopping_; });
    const Timestamp now = Now();
    for (const auto& st : running_) {
      if (st->stop_reason == StopReason::kNone && now >= st->deadline) RequestStopLocked(*st, StopReason::kTimeout);
      // Again every tick: an interrupt that arrives between two queries of an engine is
      // forgotten when the next one starts.
      else if (st->stop_reason != StopReason::kNone && st->engine != nullptr) st->engine->Interrupt();
    }
    if (tick % kExpireEveryTicks == 0) {
      lock.unlock();
      ExpireResults();
      lock.lock();
    }
  }
}

Status StatementService::CheckScanLimit(const WorkgroupConfig& wg, const QueryEngine& engine,
                                        const std::string& sql) const {
  if (wg.max_scan_bytes <= 0) return Status::Ok();
  std::vector<std::string> names;
  for (const auto& t : engine.tables()) {
    names.push_back(t.name);
    names.push_back(t.name + "_full");
  }
  int64_t bytes = 0;
  std::string which;
  for (const auto& name : ReferencedNames(sql, names)) {
    for (const auto& t : engine.tables()) {
      if (t.name != BaseTable(name) || which.find(" " + t.name + ",") != std::string::npos) continue;
      bytes += t.bytes;
      which += " " + t.name + ",";
    }
  }
  if (bytes <= wg.max_scan_bytes) return Status::Ok();
  which.pop_back();
  return Error(StatusCode::kResourceExhausted,
               "the statement may scan {} bytes (all files of{}), over the limit of {} bytes of workgroup \"{}\" "
               "(max_scan_bytes); the estimate counts whole tables, so query a smaller workgroup's data or raise the limit",
               bytes, which, wg.max_scan_bytes, wg.name);
}

void StatementService::Run(const StatementPtr& st) {
  WorkgroupConfig wg;
  {
    std::lock_guard lock(mu_);
    wg = *workgroups_.Find(st->workgroup);
  }
  EngineOptions options{.lake_root = options_.lake_root,
                        .extra_allowed_dirs = {options_.results_dir},
                        .memory_limit_bytes = wg.memory_limit_bytes,
                        .threads = options_.engine_threads,
                        .views_for_sql = ""};
  for (const auto& sub : st->subs) *options.views_for_sql += sub.sql + "\n";
  auto opened = QueryEngine::Open(options, state_);
  std::unique_ptr<QueryEngine> engine = opened.ok() ? std::move(opened).value() : nullptr;
  {
    std::lock_guard lock(mu_);
    st->engine = engine.get();
    st->status = StatementStatus::kStarted;
    st->started = st->updated = Now();
    st->deadline = st->started + wg.timeout;
    running_.push_back(st);
  }

  size_t last = 0;
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
      status = engine ? CheckScanLimit(wg, *engine, sub.sql) : opened.status().WithContext("cannot open the query engine");
      if (status.ok() && !st->stop) {
        auto result = engine->Run(sub.sql);
        if (result.ok()) {
          has_result = result->column_count() > 0;
          if (has_result) {
            auto written = WriteStoredResult(ResultDir(st->id, static_cast<int>(i)), *result, options_.limits, &st->stop);
            if (written.ok()) stored = *written;
            else status = written.status();
          }
        } else {
          status = result.status();
        }
      }
    } catch (const std::exception& e) {
      status = Internal("unexpected error: {}", e.what());
    }
    std::lock_guard lock(mu_);
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
  }

  {
    std::lock_guard lock(mu_);
    st->engine = nullptr;  // before `engine` is destroyed, so the watchdog no longer touches it
    running_.erase(std::find(running_.begin(), running_.end(), st));
    for (size_t i = last + 1; i < st->subs.size(); ++i) {
      st->subs[i].status = StatementStatus::kAborted;
      st->subs[i].error = "not run: an earlier statement of the batch did not finish";
    }
    st->status = st->subs[last].status;
    st->ended = st->updated = Now();
    workgroups_.Finish(st->workgroup, OutcomeOf(st->status));
    spdlog::debug("statement {} {} in workgroup {}", st->id, StatementStatusName(st->status), st->workgroup);
  }
  Persist(st);
}

}  // namespace fleetlog
