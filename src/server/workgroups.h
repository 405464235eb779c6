// Workgroups: admission, queueing and counters for statements ([[workgroup]] in the config).
// A workgroup runs at most max_concurrent statements at once and holds at most max_queued
// more waiting; a statement beyond that is refused (the API's 429). Waiting statements of
// one workgroup start in submission order; workgroups take turns for free workers.
// Thread-safety: none; the StatementService guards its Workgroups with its own mutex.
#pragma once

#include <cstdint>
#include <climits>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"

namespace fleetlog {

struct WorkgroupCounters {
  int64_t queued = 0;    // now waiting
  int64_t running = 0;   // now picked or running
  int64_t finished = 0;  // totals since start
  int64_t failed = 0;
  int64_t aborted = 0;
  int64_t rejected = 0;  // refused because the queue was full
  int64_t keep_failures = 0;  // copies a worker could not keep in memory (query/keeper.h)
  int64_t warm_ups = 0;       // workers made ready over a new snapshot before a statement asked
  Duration queue_wait;   // total time finished-waiting statements spent queued
};

enum class Outcome { kFinished, kFailed, kAborted };

class Workgroups {
 public:
  explicit Workgroups(const std::vector<WorkgroupConfig>& configs);

  // nullptr when no workgroup has that name.
  const WorkgroupConfig* Find(const std::string& name) const;

  // Queues statement `id` in workgroup `name`. Fails with kResourceExhausted when the
  // workgroup already holds max_concurrent + max_queued statements, with a message naming
  // the limits. REQUIRES: Find(name) != nullptr.
  Status Enqueue(const std::string& name, const std::string& id);
  // Takes the next statement of a workgroup below its concurrency limit whose memory
  // (memory_limit_bytes) is at most `memory_free`, moving it from queued to running;
  // empty when none can start.
  struct Picked {
    std::string workgroup;
    std::string id;
  };
  std::optional<Picked> Pick(int64_t memory_free = INT64_MAX);
  // True when Pick() with enough free memory would take a statement.
  bool Startable() const;
  // Adds to the workgroup's total queue wait (the time a picked statement waited).
  void AddQueueWait(const std::string& name, Duration waited);
  // Removes a statement that is still queued (cancelled before it started); false when it
  // was not queued.
  bool RemoveQueued(const std::string& name, const std::string& id, Outcome outcome);
  // Marks a running statement as done.
  void Finish(const std::string& name, Outcome outcome);
  // Counts copies that a worker of the workgroup could not keep in memory.
  void AddKeepFailures(const std::string& name, int64_t n);
  // Counts a worker made ready over a new snapshot (WorkerPool::WarmUp).
  void AddWarmUp(const std::string& name);

  // Every workgroup with its config and counters, in config order.
  std::vector<std::pair<WorkgroupConfig, WorkgroupCounters>> Snapshot() const;

 private:
  struct Group {
    WorkgroupConfig config;
    WorkgroupCounters counters;
    std::deque<std::string> queue;
  };
  static void Count(WorkgroupCounters& c, Outcome outcome);
  Group* Named(const std::string& name);  // nullptr: no such workgroup
  std::vector<Group> groups_;
  size_t next_turn_ = 0;  // round-robin start for Pick()
};

}  // namespace fleetlog
