// Statements, after the Redshift Data API: SQL submitted to a workgroup, queued, run on a
// bounded pool of workers, each statement (or batch) in a query worker process (query/
// worker.h: a sandboxed QueryEngine over the state store's current snapshot, confined by
// the kernel) that runs one statement at a time and is kept for the workgroup's next
// statement while the snapshot is current (server/worker_pool.h; after a commit, a worker
// over the new snapshot is made ready before it is asked for: WarmLoop), and its result
// written by this service, never by the statement, and kept on disk for result_ttl.
//
// Lifecycle: SUBMITTED (queued) -> PICKED (a worker took it, the engine opens) -> STARTED
// (SQL running) -> FINISHED | FAILED | ABORTED. Cancel makes a queued or running statement
// ABORTED (a running one by killing its worker); the workgroup's time limit kills it the
// same way (within a watchdog tick, 20 ms) and makes it FAILED with a message naming the
// limit. Its memory is the worker's: the workgroup's memory_limit plus a stated headroom
// (WorkerMemoryHeadroom), beyond which the worker's allocations fail. Statements start only
// while the sum of their workers' memory, idle kept workers included, stays within
// memory_budget (one always may run): idle workers are ended to make room.
//
// A batch runs its statements in order on one engine; they are the sub-statements
// "<id>:1".."<id>:n", the batch stops at the first that does not finish, and the batch's
// status is that of the last one run.
//
// Scan limit: before a (sub-)statement runs, the bytes of every file its engine can open
// (the committed files of the views made for the request; DuckDB may open no other file)
// are summed; over the workgroup's max_scan_bytes the statement FAILS unrun. (A workgroup
// whose limit is below the whole lake gets a fresh worker per statement, with views for the
// tables the statement names only, so that this sum is the statement's.) This bounds
// what it reads however it names the files (query_table, quoting, computed names, globs).
// A table named anywhere in the text, even in a string, gets a view and so counts.
//
// Statements live in memory and, with their results, under results_dir/<id>/: a record
// (statement.json) is written when a statement is queued and when it ends, so Start()
// restores every statement of the previous run; those that were queued or running when it
// stopped become ABORTED. Results expire result_ttl after their statement ended.
// Thread-safety: every public method is safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"
#include "query/engine.h"
#include "query/worker.h"
#include "server/auth.h"
#include "server/result_store.h"
#include "server/sql_text.h"
#include "server/workgroups.h"
#include "server/worker_pool.h"
#include "state/state_store.h"

namespace fleetlog {

enum class StatementStatus { kSubmitted, kPicked, kStarted, kFinished, kAborted, kFailed };
const char* StatementStatusName(StatementStatus status);
std::optional<StatementStatus> ParseStatementStatus(std::string_view name);
inline bool IsTerminal(StatementStatus s) { return s >= StatementStatus::kFinished; }
// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" in lower-case hex: the form of a statement id.
bool LooksLikeStatementId(const std::string& name);

struct ExecuteRequest {
  std::vector<std::string> sqls;  // exactly one unless `batch`
  bool batch = false;
  std::vector<SqlParameter> parameters;  // bound into every statement of the request
  std::string workgroup;                 // empty: the token's workgroup, else "default"
  std::string name;
  std::string client_token;  // a repeat with the same token and request returns the same id
};

struct StatementInfo {
  std::string id;  // "<id>" or, for a sub-statement, "<id>:<n>"
  std::string name, workgroup, sql;
  bool is_batch = false;
  StatementStatus status = StatementStatus::kSubmitted;
  Timestamp created_at, updated_at;
  Duration duration;  // running time so far, or in total once done
  Duration queue;     // time spent SUBMITTED
  int64_t result_rows = 0, result_bytes = 0;
  bool has_result_set = false;
  std::string error;
  std::vector<StatementInfo> sub_statements;
};

struct StatementServiceOptions {
  std::string lake_root;
  std::string results_dir;
  std::vector<WorkgroupConfig> workgroups;  // must hold "default"
  Duration result_ttl = Duration::Hours(24);
  ResultLimits limits;
  int engine_threads = 2;      // DuckDB threads per running statement
  std::map<std::string, std::string> cursor_columns;  // WorkerPoolOptions::cursor_columns
  std::string query_worker;    // the fleetlog binary that runs `query-worker`; empty: this one
  int64_t memory_budget = 0;   // all running statements' memory together; 0: half of RAM
  int workers = 0;             // 0: the sum of max_concurrent, at most 32
  int list_page_size = 100;
  size_t max_retained = 10000;  // finished statements kept beyond this are forgotten, oldest first
  const Clock* clock = nullptr;  // null: the system clock
  // Test seam: called on the worker thread right after a statement becomes PICKED, before
  // its engine opens, without the service's lock held.
  std::function<void(const std::string& id)> on_picked;
};

class StatementService {
 public:
  // `state` may be null (an empty lake) and must outlive the service.
  StatementService(StatementServiceOptions options, StateStore* state);
  ~StatementService();
  StatementService(const StatementService&) = delete;
  StatementService& operator=(const StatementService&) = delete;

  // Restores the statements recorded under results_dir and starts the workers and the watchdog.
  Status Start();
  // Aborts queued and running statements and joins every thread. Idempotent.
  void Stop();

  // Queues a statement or batch; returns its id. kInvalidArgument: bad request (empty SQL,
  // parameter errors, unknown workgroup, client token reused for another request);
  // kPermissionDenied: the token may not use that workgroup; kResourceExhausted: queue full.
  Result<std::string> Execute(const Principal& who, const ExecuteRequest& request);
  // kNotFound for unknown, expired or other workgroups' ids.
  Result<StatementInfo> Describe(const Principal& who, const std::string& id);
  // kInvalidArgument when the statement already ended.
  Status Cancel(const Principal& who, const std::string& id);
  // For a long poll: calls `wake` once, from any thread, when `id` (a statement, batch or
  // sub-statement) has ended, when `wait` has passed (within a watchdog tick), or when the
  // service stops; at once when it has ended already or is not `who`'s to see.
  void WhenEnded(const Principal& who, const std::string& id, Duration wait, std::function<void()> wake);

  struct ListFilter {
    std::optional<StatementStatus> status;
    std::string name_prefix;
    std::optional<uint64_t> before;  // the previous page's `next`
    int limit = 0;                   // statements per page; 0: list_page_size
  };
  struct ListPage {
    std::vector<StatementInfo> statements;  // newest first
    std::optional<uint64_t> next;
  };
  ListPage List(const Principal& who, const ListFilter& filter);

  // The stored result of a statement or sub-statement that FINISHED. kInvalidArgument when
  // it has not (yet) or `id` is a batch; kNotFound when unknown or expired.
  Result<StoredResult> GetResult(const Principal& who, const std::string& id);

  std::vector<std::pair<WorkgroupConfig, WorkgroupCounters>> WorkgroupStats();
  // Query worker processes started so far (kept workers serve many statements each).
  int64_t WorkersStarted() { return pool_.workers_started(); }
  // The lake's tables in the current snapshot (WorkerPool::Snapshot(): loaded again only when
  // the state store changed), with no engine opened.
  Result<std::vector<LakeTable>> Tables();
  // Forgets ended statements older than result_ttl and removes their results; returns how
  // many. The watchdog calls it every second.
  int ExpireResults();

 private:
  enum class StopReason { kNone, kCancel, kTimeout, kShutdown };
  struct SubStatement {
    std::string sql;
    StatementStatus status = StatementStatus::kSubmitted;
    Timestamp started, ended;
    int64_t rows = 0, bytes = 0;
    bool has_result = false;
    std::string error;
  };
  struct Statement {
    std::string id, name, workgroup, principal, client_key, request_digest;
    uint64_t seq = 0;
    bool batch = false;
    StatementStatus status = StatementStatus::kSubmitted;
    Timestamp created, updated, picked, started, ended, deadline;
    std::vector<SubStatement> subs;
    StopReason stop_reason = StopReason::kNone;
    std::atomic<bool> stop{false};   // read by the result writer without the lock
    QueryProcess* process = nullptr; // while running; Kill() only under mu_
    uint64_t record_version = 0;     // GUARDED_BY(mu_): records taken of this statement
    std::mutex record_mu;            // serialises writes of its record
    uint64_t record_written = 0;     // GUARDED_BY(record_mu)
  };
  using StatementPtr = std::shared_ptr<Statement>;

  // statements.cc
  Timestamp Now() const { return clock_->Now(); }
  Result<bool> EnqueueLocked(const Principal& who, const std::string& client_token, const StatementPtr& st);
  StatementPtr FindLocked(const Principal& who, const std::string& id, int* sub) const;
  StatementInfo InfoLocked(const Statement& st, int sub) const;
  void ForgetLocked(const StatementPtr& st);
  // Takes the long polls on `id` (with `subs`, also those on its sub-statements "<id>:n"),
  // for the caller to wake once it has released mu_.
  std::vector<std::function<void()>> TakeWaitersLocked(const std::string& id, bool subs);
  static void Wake(const std::vector<std::function<void()>>& wakes);
  void EvictLocked();
  // statement_records.cc
  std::string RecordPath(const std::string& id) const;
  static std::string RecordTextLocked(const Statement& st);
  static Result<StatementPtr> ParseRecord(std::string_view text);
  Status ValidateRecordLocked(const Statement& st, const std::string& folder) const;
  // Writes the statement's record as it is now. Call without mu_ held.
  void Persist(const StatementPtr& st);
  // Loads the records under results_dir into the maps; returns the statements that were
  // not over, now ABORTED, for the caller to Persist().
  std::vector<StatementPtr> RestoreLocked();
  // statement_worker.cc
  void WorkerLoop();
  void WatchdogLoop();
  // Once a second, the pool's warm-ups (server/worker_pool.h), each made by WarmUp().
  void WarmLoop();
  // Starts a worker for `w` and keeps it idle once it is ready; skipped when a statement
  // waits or the memory budget has no room for it.
  void WarmUp(const WorkerPool::WarmUp& w);
  void Run(const StatementPtr& st);
  // Runs sub-statement `i` of `st` to its end in `worker` (the worker runs them in order).
  // `*in_step` says whether the worker's output ended where the sub-statement's did (its
  // `end` or `error` event), so that it may run more.
  Status RunSub(const StatementPtr& st, size_t i, QueryProcess& worker, StoredResultInfo* stored, bool* has_result,
                bool* in_step);
  void RequestStopLocked(Statement& st, StopReason reason);
  std::string ResultDir(const std::string& id, int sub) const;

  const StatementServiceOptions options_;
  StateStore* const state_;
  SystemClock system_clock_;
  const Clock* const clock_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // a statement was queued, or stopping_
  std::condition_variable stop_cv_;  // stopping_, for the watchdog's sleep
  Workgroups workgroups_;                          // GUARDED_BY(mu_)
  std::map<std::string, StatementPtr> by_id_;      // GUARDED_BY(mu_)
  std::map<uint64_t, StatementPtr> by_seq_;        // GUARDED_BY(mu_)
  std::map<std::string, std::string> by_client_;   // client key -> id, GUARDED_BY(mu_)
  std::vector<StatementPtr> running_;              // GUARDED_BY(mu_)
  struct Waiter {
    std::chrono::steady_clock::time_point deadline;
    std::function<void()> wake;
  };
  std::multimap<std::string, Waiter> waiters_;     // (sub-)statement id -> long polls, GUARDED_BY(mu_)
  uint64_t next_seq_ = 1;                          // GUARDED_BY(mu_)
  int64_t memory_budget_ = 0;                      // what running statements may hold together
  int64_t memory_in_use_ = 0;                      // GUARDED_BY(mu_)
  bool started_ = false, stopping_ = false;        // GUARDED_BY(mu_)
  QueryProcess* warming_ = nullptr;                // GUARDED_BY(mu_): the warm-up's worker while it starts
  Timestamp warming_deadline_;                     // GUARDED_BY(mu_): when the watchdog kills it
  std::vector<std::thread> threads_;
  int lock_fd_ = -1;  // flock()ed <results_dir>/.lock, held while the service lives
  WorkerPool pool_;   // after the threads' members: ended once Stop() joined them
};

}  // namespace fleetlog
