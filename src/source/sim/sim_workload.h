// The workload of one simulated cluster: which queries and statements start in each minute,
// how long they queue and run, and what happened to them (cache hit, spill, alerts). A minute
// is a pure function of (cluster seed, minute); the source turns minutes into table rows.
//
// Two streams keep reads cheap. Ordinary work (at most kMaxRegularUs from start to end) is
// drawn per minute; the few queries that run for hours are drawn per hour from a stream of
// their own, so a read needs to generate only the last half hour of minutes in full, plus the
// handful of minutes in which a still-running long query started.
//
// Thread-safety: a Workload is immutable after construction; share it freely.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "source/sim/anomaly_schedule.h"
#include "source/sim/statement_catalog.h"

namespace fleetlog::sim {

inline constexpr int64_t kMinuteUs = 60LL * 1000000;
inline constexpr int64_t kHourUs = 60 * kMinuteUs;
// Longest start-to-end of the per-minute stream and of the long-running stream.
inline constexpr int64_t kMaxRegularUs = 30 * kMinuteUs;
inline constexpr int64_t kMaxLongUs = 6 * kHourUs;
// Id slots per minute: queries take [0, kQueriesPerMinute), DDL and utility the rest.
inline constexpr int kIdsPerMinute = 400;
inline constexpr int kQueriesPerMinute = 320;

struct ServiceClass {
  int id;
  const char* name;
  const char* priority;
  int slot_count;
  int64_t slot_memory;  // bytes a slot may use before a query spills
};
// The WLM queue of a kind of work; null for Redshift's internal queries, which take no slot.
const ServiceClass* ServiceClassOf(WorkKind kind);

enum QueryFlag : uint16_t {
  kAborted = 1 << 0,
  kCacheHit = 1 << 1,          // answered from the result cache: no WLM, scan or plan rows
  kConcurrencyScaled = 1 << 2, // ran on a scaling cluster: no scan, plan or alert rows
  kDiskBased = 1 << 3,
  kMissingStats = 1 << 4,
  kSelectiveFilter = 1 << 5,
  kDeletedRows = 1 << 6,
  kDistributed = 1 << 7,
  kNestedLoop = 1 << 8,
};

struct SimQuery {
  int64_t start_us = 0;  // stl_query.starttime
  int64_t queue_us = 0;  // stl_wlm_query.total_queue_time
  int64_t exec_us = 0;   // stl_wlm_query.total_exec_time
  int64_t xid = 0;
  int32_t query = 0;
  int32_t pid = 0;
  int32_t userid = 0;
  int32_t plan_us = 0;    // starttime -> service_class_start_time
  int32_t return_us = 0;  // exec_end_time -> endtime
  uint32_t detail = 0;    // seeds per-row details (scan figures, alert numbers)
  uint32_t template_id = 0;
  uint16_t flags = 0;
  WorkKind kind = WorkKind::kShort;

  bool has(QueryFlag f) const { return (flags & f) != 0; }
  int64_t class_start_us() const { return start_us + plan_us; }
  int64_t queue_end_us() const { return class_start_us() + queue_us; }
  int64_t exec_end_us() const { return queue_end_us() + exec_us; }
  int64_t end_us() const { return exec_end_us() + return_us; }  // stl_query.endtime
};

// A DDL (stl_ddltext) or utility (stl_utilitytext) statement.
struct SimStatement {
  bool utility = false;
  int32_t userid = 0;
  int32_t pid = 0;
  int64_t xid = 0;
  int64_t start_us = 0;
  int64_t end_us = 0;
  std::string label;
  std::string text;  // newlines encoded
};

struct SimMinute {
  std::vector<SimQuery> queries;  // ordered by start, ids ascending
  std::vector<SimStatement> statements;
};

class Workload {
 public:
  // REQUIRES: scale > 0.
  Workload(uint64_t cluster_seed, double scale);

  // Everything that starts in [minute, minute + 1) minutes since the epoch, with ids.
  SimMinute Minute(int64_t minute) const { return Minute(minute, 0, true); }
  // The same minute under other luck, with or without the anomalies under way in it: draw 0
  // with anomalies is Minute(minute); each other draw is another minute as likely at the same
  // load (the long-running queries are the same in every draw). For benchmarks that ask how
  // unusual what happened was (bench/alert_calibration's oracle).
  SimMinute Minute(int64_t minute, uint64_t draw, bool anomalies) const;
  // The long-running queries that start in [hour, hour + 1) hours since the epoch, without
  // ids: Minute() of their start minute holds them with ids.
  std::vector<SimQuery> LongQueries(int64_t hour) const;

  const StatementCatalog& catalog() const { return catalog_; }
  int slices() const { return slices_; }
  const std::string& database() const { return database_; }

 private:
  struct Load {
    double per_hour[5];  // by WorkKind
    double utilization;  // 0 idle, 1 all slots busy
  };
  Load LoadAt(int64_t us) const;
  SimQuery MakeQuery(WorkKind kind, int64_t start_us, bool long_running, const AnomalyEffects& fx, double utilization,
                     Rng& rng) const;
  int32_t SessionPid(int32_t userid, int64_t us) const;

  uint64_t seed_;
  double peak_per_hour_;
  double tz_hours_;
  double weekend_factor_;
  int slices_;
  std::string database_;
  StatementCatalog catalog_;
};

}  // namespace fleetlog::sim
