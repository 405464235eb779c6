// What a long-lived engine keeps in memory: copies of rows it would otherwise read from many
// small files for every statement (workload_hourly's roll-ups, the small tables, the text
// views' reassembled statements), made after first use in a thread of the keeper's own, on
// a DuckDB connection of its own, while statements go on.
//
// A job is a list of statements: the first ones copy rows into tables, the last repoints a
// view to them. A statement that starts before then reads the files, as it would without the
// job, and none waits for it; one that is running when the view is repointed does not see
// the change (DuckDB's catalog is transactional). A job that fails runs its clean-up
// statements (its tables dropped) and leaves the views as they were: slower, the same answer.
//
// Thread-safety: every method may be called from any thread. The destructor interrupts the
// job under way and joins the thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "duck/duck.h"
#include "query/engine.h"

namespace fleetlog {

struct KeepJob {
  std::string name;                // the view it serves: "workload_hourly", "stl_ddltext_full"
  std::set<std::string> names;     // a statement naming one of these (lower case) starts it
  std::vector<std::string> steps;  // run in order; the last repoints the view
  std::vector<std::string> undo;   // after a failed step
};

class Keeper {
 public:
  Keeper(std::shared_ptr<duck::Database> db, std::vector<KeepJob> jobs);
  ~Keeper();
  Keeper(const Keeper&) = delete;
  Keeper& operator=(const Keeper&) = delete;

  // Whether some job has not been started.
  bool pending() const;
  // Starts, once each, the jobs whose names are among `words`; every job with `all`.
  // Returns whether some job is still not started.
  bool Start(const std::set<std::string>& words, bool all = false);
  // Whether job `name` has repointed its view (it succeeded).
  bool Done(const std::string& name) const;
  // The names of the jobs that have.
  std::vector<std::string> Finished() const;
  // The names of the jobs started, finished or not.
  std::vector<std::string> Started() const;
  // Why jobs failed since the last call ("stl_ddltext_full: Out of Memory Error: ..."), each
  // once: the keeper's thread cannot say it itself (a query worker may not log).
  std::vector<std::string> TakeFailures();
  // Waits until every started job has ended: for tests.
  void Wait();

 private:
  void Loop();
  bool stopping() const;
  bool AnyUnstarted() const;  // REQUIRES: mu_ held
  // The names of the jobs whose entry in `which` (started_ or done_) is set. REQUIRES: mu_ held
  std::vector<std::string> NamesLocked(const std::vector<bool>& which) const;

  std::shared_ptr<duck::Database> db_;
  std::vector<KeepJob> jobs_;               // immutable after construction
  std::unique_ptr<duck::Connection> conn_;  // the thread's; Interrupt() from the destructor
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<bool> started_;  // GUARDED_BY(mu_), by job
  std::vector<bool> done_;     // GUARDED_BY(mu_), by job
  std::deque<size_t> queue_;   // GUARDED_BY(mu_): started, not yet run
  std::vector<std::string> failures_;  // GUARDED_BY(mu_): not yet taken
  bool running_ = false;       // GUARDED_BY(mu_): a job is under way
  bool stop_ = false;          // GUARDED_BY(mu_)
};

// What keeping a table takes in DuckDB's memory per byte of its Parquet files, as measured
// (duckdb_memory()) on the bench lake's small tables, 31 days of 20 clusters: 8.3 to 12.7
// times as rows (stl_alert_event_log 8.5, sys_serverless_usage 12.7), and 6.9 and 7.5 times
// as the reassembled statements of stl_utilitytext and stl_ddltext.
inline constexpr int64_t kKeptBytesPerStoredByte = 10;
inline constexpr int64_t kKeptTextBytesPerStoredByte = 8;

// The tables a long-lived engine keeps whole in memory: the smallest first, while their
// reckoned memory fits `budget_bytes` together (a table with a text view as its statements,
// TextViewOf). Not the roll-ups, which workload_hourly keeps its own way.
std::vector<std::string> TablesToKeep(const std::vector<LakeTable>& tables, int64_t budget_bytes);

}  // namespace fleetlog
