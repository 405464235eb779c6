#include "server/worker_pool.h"

#include <algorithm>
#include <utility>

#include "lake/lake_files.h"

namespace fleetlog {
namespace {

// Equal when a worker over `a` answers every statement as one over `b` would.
bool SameSnapshot(const LakeSnapshot& a, const LakeSnapshot& b) {
  if (a.files.size() != b.files.size() || a.schemas.size() != b.schemas.size()) return false;
  for (size_t i = 0; i < a.files.size(); ++i)
    if (a.files[i].id != b.files[i].id || a.files[i].path != b.files[i].path) return false;
  for (auto i = a.schemas.begin(), j = b.schemas.begin(); i != a.schemas.end(); ++i, ++j)
    if (i->first != j->first || SchemaToText(i->second) != SchemaToText(j->second)) return false;
  return true;
}

}  // namespace

WorkerPool::WorkerPool(WorkerPoolOptions options, StateStore* state) : options_(std::move(options)), state_(state) {}

WorkerPool::~WorkerPool() {
  std::lock_guard lock(mu_);
  idle_.clear();  // closing a worker's input ends it; the QueryProcess reaps it
}

Status WorkerPool::RefreshLocked(std::vector<Lease>* doomed) {
  std::string mark;
  if (state_ != nullptr) {
    ASSIGN_OR_RETURN(mark, state_->ChangeMark());
  }
  if (snapshot_ && (state_ == nullptr || (!mark.empty() && mark == mark_))) return Status::Ok();
  ASSIGN_OR_RETURN(LakeSnapshot fresh, LoadLakeSnapshot(state_));
  mark_ = mark;
  if (snapshot_ && SameSnapshot(*snapshot_, fresh)) return Status::Ok();
  ++generation_;
  snapshot_bytes_ = 0;
  for (const auto& f : fresh.files) snapshot_bytes_ += f.bytes;
  snapshot_ = std::make_shared<const LakeSnapshot>(std::move(fresh));
  for (auto& lease : idle_) {
    WantWarmUpLocked(lease);
    doomed->push_back(std::move(lease));
  }
  idle_.clear();
  return Status::Ok();
}

void WorkerPool::WantWarmUpLocked(const Lease& replaced) {
  const auto never = std::chrono::steady_clock::time_point{};
  if (replaced.used == never || std::chrono::steady_clock::now() - replaced.used > options_.warm_while_used_within)
    return;
  warm_ups_[replaced.workgroup] = {
      .workgroup = replaced.workgroup, .memory = replaced.memory, .copies = replaced.copies, .used = replaced.used};
}

std::vector<WorkerPool::WarmUp> WorkerPool::TakeWarmUps() {
  std::vector<Lease> doomed;  // ended after the lock is released
  std::vector<WarmUp> due;
  std::lock_guard lock(mu_);
  const uint64_t before = generation_;
  if (!RefreshLocked(&doomed).ok()) return due;  // the next statement reports why
  if (generation_ != before) return due;         // not settled: the next call
  for (auto& [workgroup, warm_up] : warm_ups_) {
    const bool has_idle =
        std::any_of(idle_.begin(), idle_.end(), [&](const Lease& l) { return l.workgroup == workgroup; });
    if (!has_idle) due.push_back(std::move(warm_up));
  }
  warm_ups_.clear();
  return due;
}

Result<std::shared_ptr<const LakeSnapshot>> WorkerPool::Snapshot() {
  std::vector<Lease> doomed;  // ended after the lock is released
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(RefreshLocked(&doomed));
  return snapshot_;
}

Result<WorkerPool::Lease> WorkerPool::Acquire(const WorkgroupConfig& wg, const std::vector<std::string>& statements,
                                              const std::vector<std::string>& keep) {
  std::vector<Lease> doomed;  // ended after the lock is released
  Lease lease{.workgroup = wg.name, .memory = wg.memory_limit_bytes};
  std::shared_ptr<const LakeSnapshot> snapshot;
  {
    std::lock_guard lock(mu_);
    RETURN_IF_ERROR(RefreshLocked(&doomed));
    snapshot = snapshot_;
    lease.generation = generation_;
    lease.pooled = (wg.max_scan_bytes <= 0 || snapshot_bytes_ <= wg.max_scan_bytes) &&
                   !HasLakeFileResolver(options_.lake_root);
    if (lease.pooled) {
      auto it = std::find_if(idle_.begin(), idle_.end(), [&](const Lease& l) {
        return l.workgroup == wg.name && l.memory == wg.memory_limit_bytes && l.generation == generation_;
      });
      if (it != idle_.end()) {
        lease = std::move(*it);
        idle_.erase(it);
        lease.reused = true;
      }
    }
  }
  doomed.clear();
  if (!statements.empty()) lease.used = std::chrono::steady_clock::now();
  if (lease.reused) {
    if (lease.process->Send(EncodeWorkerJob(statements)).ok()) return lease;
    // It died while idle (its memory limit, a signal): a new one takes its place.
    lease.process.reset();
    lease.reused = false;
  }

  WorkerRequest request{.engine = {.lake_root = options_.lake_root,
                                   .memory_limit_bytes = wg.memory_limit_bytes,
                                   .threads = options_.threads,
                                   .cursor_columns = options_.cursor_columns,
                                   .kept_table_bytes = options_.kept_table_bytes},
                        .snapshot = *snapshot,
                        .statements = statements,
                        .keep = keep,
                        .max_scan_bytes = wg.max_scan_bytes,
                        .workgroup = wg.name};
  // A one-shot worker makes views only for the tables the statements name (see the header).
  if (!lease.pooled) {
    request.engine.views_for_sql = "";
    for (const auto& sql : statements) *request.engine.views_for_sql += sql + "\n";
  }
  if (HasLakeFileResolver(options_.lake_root)) {
    ASSIGN_OR_RETURN(LocalSnapshot local, LocalizeSnapshot(request.engine, request.snapshot));
    request.engine.lake_root = local.root;
    request.snapshot = std::move(local.snapshot);
    lease.local_copies = std::move(local.hold);
  }
  ASSIGN_OR_RETURN(lease.process, QueryProcess::Start(options_.binary, EncodeWorkerRequest(request), lease.pooled));
  std::lock_guard lock(mu_);
  ++workers_started_;
  return lease;
}

void WorkerPool::Release(Lease lease) {
  std::lock_guard lock(mu_);
  if (!lease.pooled || !lease.process) return;
  if (lease.generation != generation_) {  // a newer snapshot came while it ran
    WantWarmUpLocked(lease);
    return;
  }
  const auto kept = std::count_if(idle_.begin(), idle_.end(), [&](const Lease& l) { return l.workgroup == lease.workgroup; });
  if (kept >= options_.max_idle_per_workgroup) return;
  lease.reused = false;
  idle_.push_back(std::move(lease));
}

int64_t WorkerPool::IdleMemory() {
  std::lock_guard lock(mu_);
  int64_t sum = 0;
  for (const auto& l : idle_) sum += l.memory;
  return sum;
}

bool WorkerPool::EvictIdle() {
  Lease evicted;
  {
    std::lock_guard lock(mu_);
    if (idle_.empty()) return false;
    evicted = std::move(idle_.front());
    idle_.pop_front();
  }
  return true;
}

int64_t WorkerPool::workers_started() {
  std::lock_guard lock(mu_);
  return workers_started_;
}

uint64_t WorkerPool::generation() {
  std::lock_guard lock(mu_);
  return generation_;
}

}  // namespace fleetlog
