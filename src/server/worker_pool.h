// Query workers kept between statements. A worker (query/worker.h) opens its engine once,
// over one snapshot of the lake, and is confined to that snapshot's files; kept alive, the
// next statement of its workgroup pays neither a process start nor the engine's opening
// (views, the catalog, Parquet footers, which the engine caches), only its own work.
//
// Snapshots: each Acquire() asks the state store whether anything changed (ChangeMark())
// and reloads the snapshot only then. A new snapshot (a commit, a compaction) starts a new
// generation: statements already running keep the worker and the snapshot they started
// with (files are immutable, so their answer is that snapshot's), are not waited for, and
// their workers are dropped when they end; idle workers of an older generation are dropped
// at once. New statements get workers over the new snapshot.
//
// Warm-ups: a workgroup whose kept worker a new snapshot replaced is likely to ask again
// soon (a dashboard left open), and a new worker takes a process start, an engine and the
// copies it keeps in memory (query/keeper.h) before it answers as fast as the old one. So
// the pool remembers, per such workgroup, the copies its last worker had started; the
// statement service (server/statements.h) takes these warm-ups and starts a worker for each,
// with no statements, asking it to start the same copies, and keeps it idle.
//   - Only for a workgroup that ran a statement within `warm_while_used_within`: one nobody
//     asks is not warmed at every commit forever. A warmed worker carries the time of the
//     statement its warm-up followed.
//   - Only once the snapshot has settled: TakeWarmUps() gives none in a call that found it
//     changed, so an export's run of commits is warmed once, after its last.
//   - A wish, not a promise: the service skips it when memory is short, and a statement that
//     comes first starts a worker of its own, as before.
//
// A worker is kept only after a job that ended cleanly (its `ready` event read); a worker
// that was killed (cancel, time limit) or left mid-result is dropped. (The statement
// service also drops one whose statement failed.) At most
// `max_idle_per_workgroup` idle workers are kept per workgroup; each holds up to its
// workgroup's memory limit, which IdleMemory() reports so that the caller can count it
// against its memory budget and EvictIdle() when it needs it back.
//
// A workgroup with max_scan_bytes smaller than the whole snapshot gets a one-shot worker
// per statement instead, as before: its engine has views only for the tables the statement
// names, so the bytes it can read bound the scan (CheckScanLimit). So does a lake in an
// object store: the files of the tables a statement names are fetched into the local cache
// (lake/lake_files.h) before its worker starts, since a confined worker fetches nothing.
// Thread-safety: every method is safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "query/engine.h"
#include "query/worker.h"
#include "state/state_store.h"

namespace fleetlog {

struct WorkerPoolOptions {
  std::string binary;  // the fleetlog binary that runs `query-worker`; empty: this one
  std::string lake_root;
  int threads = 2;     // DuckDB threads per worker
  int max_idle_per_workgroup = 1;
  // Table -> the cursor column its files record the range of (FileRangeColumns): workers
  // skip files by it and by the id columns (query/prune.h); empty: they read every file.
  std::map<std::string, std::string> cursor_columns;
  // How many bytes of the smallest tables a kept worker copies into memory
  // (EngineOptions::kept_table_bytes); unset: its default, from the workgroup's memory.
  std::optional<int64_t> kept_table_bytes;
  // Warm-ups follow a workgroup's statements for this long (see Warm-ups above).
  std::chrono::steady_clock::duration warm_while_used_within = std::chrono::minutes(15);
};

class WorkerPool {
 public:
  // `state` may be null (an empty lake) and must outlive the pool.
  WorkerPool(WorkerPoolOptions options, StateStore* state);
  ~WorkerPool();  // kills the idle workers
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  struct Lease {
    std::unique_ptr<QueryProcess> process;
    std::string workgroup;
    uint64_t generation = 0;
    int64_t memory = 0;    // the workgroup's memory limit when the worker started
    bool pooled = false;   // a long-lived worker that Release() may keep
    bool reused = false;   // it ran an earlier job: no `confined` event comes before this one
    // When it last started a statement (a warmed worker: that of the statement its warm-up
    // followed); the epoch: never.
    std::chrono::steady_clock::time_point used;
    std::shared_ptr<void> local_copies;  // an object store lake's files in the local cache, while the worker reads them
    std::vector<std::string> copies;     // what it keeps in memory, from its last `ready` (WorkerEvent::copies)
  };

  // A worker to make ready over the current snapshot (see Warm-ups above).
  struct WarmUp {
    std::string workgroup;
    int64_t memory = 0;                          // its memory limit when the replaced worker started
    std::vector<std::string> copies;             // to start at once (WorkerRequest::keep)
    std::chrono::steady_clock::time_point used;  // the replaced worker's Lease::used
  };

  // A worker running `statements` (a batch, in order) for workgroup `wg` over the current
  // snapshot: an idle worker of the current generation when there is one, else a new one,
  // which starts the copies named in `keep` as it opens (a warm-up: no statements).
  // Fails when the snapshot cannot be loaded or no worker can be started.
  Result<Lease> Acquire(const WorkgroupConfig& wg, const std::vector<std::string>& statements,
                        const std::vector<std::string>& keep = {});
  // Hands back a worker whose job ended with its `ready` event: kept while its snapshot is
  // current and its workgroup has room, else ended.
  void Release(Lease lease);

  // The current snapshot (reloaded only when the store's mark moved, as Acquire() does): what
  // new statements read, for answers about the lake that need no worker.
  Result<std::shared_ptr<const LakeSnapshot>> Snapshot();

  // Reloads the snapshot when the store changed, then takes the warm-ups due: none when it
  // did change (not settled yet), else one per workgroup whose recently used worker a newer
  // snapshot replaced, unless it has an idle worker of the current snapshot already. Each is
  // returned once.
  std::vector<WarmUp> TakeWarmUps();

  // The memory limits of the idle workers, summed.
  int64_t IdleMemory();
  // Ends the least recently used idle worker; false when there is none.
  bool EvictIdle();

  // Workers started since the pool was made, and snapshot generations seen: for tests and
  // /metrics.
  int64_t workers_started();
  uint64_t generation();

 private:
  // Reloads the snapshot when the store's mark moved; a changed snapshot is a new generation,
  // and the idle workers of the old one move to `doomed`, for the caller to end unlocked,
  // each leaving a warm-up.
  Status RefreshLocked(std::vector<Lease>* doomed);
  void WantWarmUpLocked(const Lease& replaced);

  const WorkerPoolOptions options_;
  StateStore* const state_;
  std::mutex mu_;
  std::string mark_;                                 // GUARDED_BY(mu_): ChangeMark() of snapshot_
  std::shared_ptr<const LakeSnapshot> snapshot_;     // GUARDED_BY(mu_)
  int64_t snapshot_bytes_ = 0;                       // GUARDED_BY(mu_)
  uint64_t generation_ = 0;                          // GUARDED_BY(mu_)
  std::list<Lease> idle_;                            // GUARDED_BY(mu_); least recently used first
  std::map<std::string, WarmUp> warm_ups_;           // GUARDED_BY(mu_); by workgroup, not yet taken
  int64_t workers_started_ = 0;                      // GUARDED_BY(mu_)
};

}  // namespace fleetlog
