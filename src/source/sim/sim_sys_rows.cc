// The SYS monitoring views of a simulated Serverless workgroup, from the same workload as
// the STL tables (sim_rows.cc): column by column as docs/sys-views.md lists them.
//
// What changes after it appears, as on Redshift: a query is in SYS_QUERY_HISTORY from its
// start, as queued or running, and in its final state (success, failed, canceled) once it
// ends; only the running read (RunningQueriesSpec) sees the first. A usage minute appears
// when the minute ends with charged_seconds 0, filled in 5 to 25 minutes later.
#include <fmt/format.h>

#include <algorithm>

#include "source/sim/sim_rows.h"
#include "source/table_spec.h"

namespace fleetlog::sim {
namespace {

constexpr size_t kSysPieceChars = 4000;
// SYS query ids are a number space of their own, never equal to STL's `query`.
constexpr int64_t kSysQueryIdBase = 10'000'000'000;

int64_t SysQueryId(const SimQuery& q) { return kSysQueryIdBase + q.query; }

bool Finished(const SimQuery& q, const RowWindow& w) {
  return q.end_us() >= w.lower && q.end_us() < w.upper && q.end_us() <= w.now;
}

const char* QueryType(const Workload& w, const SimQuery& q) {
  const StatementTemplate& t = w.catalog().at(q.template_id);
  if (t.loads_from_s3) return "COPY";
  switch (q.kind) {
    case WorkKind::kEtl: return "INSERT";
    case WorkKind::kInternal: return "UTILITY";
    default: return "SELECT";
  }
}

// An aborted query failed (WLM or an error) or was cancelled by its user, one in three.
const char* FinalStatus(const SimQuery& q) {
  if (!q.has(kAborted)) return "success";
  return Hash(q.detail, 0xca7) % 3 == 0 ? "canceled" : "failed";
}

Status AppendHistory(const Workload& w, const SimQuery& q, int64_t now, bool running, BatchWriter& out) {
  const StatementTemplate& t = w.catalog().at(q.template_id);
  const ServiceClass* sc = ServiceClassOf(q.kind);
  Rng rng(Hash(q.detail, 0x5e5));
  const std::string status = running ? (now < q.queue_end_us() ? "queued" : "running") : FinalStatus(q);
  const int64_t end = running ? now : q.end_us();
  const int64_t returned = q.has(kAborted) ? 0 : rng.Between(1, 5000);
  out.col(0).AppendInt(q.userid);
  out.col(1).AppendInt(SysQueryId(q));
  out.col(2).AppendString(t.label);
  out.col(3).AppendInt(q.xid);
  out.col(4).AppendInt(q.pid);
  out.col(5).AppendString(w.database());
  out.col(6).AppendString(QueryType(w, q));
  out.col(7).AppendString(status);
  out.col(8).AppendInt(q.has(kCacheHit) ? 1 : 0);
  out.col(9).AppendInt(q.start_us);
  if (running) out.col(10).AppendNull(); else out.col(10).AppendInt(q.end_us());
  out.col(11).AppendInt(end - q.start_us);
  out.col(12).AppendInt(std::min(q.queue_us, std::max<int64_t>(0, end - q.class_start_us())));
  out.col(13).AppendInt(std::clamp<int64_t>(end - q.queue_end_us(), 0, q.exec_us));
  if (status == "failed") out.col(14).AppendString(fmt::format("Query (query_id {}) cancelled by WLM abort action", SysQueryId(q)));
  else if (status == "canceled") out.col(14).AppendString("Query cancelled on user's request");
  else out.col(14).AppendNull();
  out.col(15).AppendInt(running ? 0 : returned);
  out.col(16).AppendInt(running ? 0 : returned * rng.Between(20, 300));
  out.col(17).AppendString(t.text.substr(0, kSysPieceChars));
  out.col(18).AppendString("1.0.81000");
  out.col(19).AppendNull();
  out.col(20).AppendString(q.has(kConcurrencyScaled) ? "secondary" : "primary");
  out.col(21).AppendInt(q.has(kCacheHit) ? 0 : rng.Between(0, 400000));
  out.col(22).AppendInt(q.plan_us);
  out.col(23).AppendInt(0);
  if (sc) out.col(24).AppendInt(sc->id); else out.col(24).AppendNull();
  if (sc) out.col(25).AppendString(sc->name); else out.col(25).AppendNull();
  if (sc) out.col(26).AppendString(sc->priority); else out.col(26).AppendNull();
  out.col(27).AppendString(q.kind == WorkKind::kShort ? "true" : "false");
  out.col(28).AppendString(fmt::format("{:016x}", Hash(q.template_id, q.userid)));
  out.col(29).AppendString(fmt::format("{:016x}", Hash(q.template_id, 0x9e)));
  out.col(30).AppendInt(1);
  return out.EndRow();
}

Status AppendText(const Workload& w, const SimQuery& q, BatchWriter& out) {
  const std::string& text = w.catalog().at(q.template_id).text;
  const size_t pieces = std::max<size_t>(1, (text.size() + kSysPieceChars - 1) / kSysPieceChars);
  for (size_t i = 0; i < pieces; ++i) {
    out.col(0).AppendInt(q.userid);
    out.col(1).AppendInt(SysQueryId(q));
    out.col(2).AppendInt(q.xid);
    out.col(3).AppendInt(q.pid);
    out.col(4).AppendInt(q.start_us);
    out.col(5).AppendInt(static_cast<int64_t>(i));
    out.col(6).AppendString(text.substr(i * kSysPieceChars, kSysPieceChars));
    out.col(7).AppendInt(q.end_us());
    RETURN_IF_ERROR(out.EndRow());
  }
  return Status::Ok();
}

// The alert text of a query's first scan step, as SYS_QUERY_DETAIL carries it.
std::string AlertOf(const SimQuery& q) {
  if (q.has(kNestedLoop)) return "Nested Loop Join in the query plan";
  if (q.has(kMissingStats)) return "Missing query planner statistics";
  if (q.has(kSelectiveFilter)) return "Very selective query filter";
  if (q.has(kDeletedRows)) return "Scanned a large number of deleted rows";
  if (q.has(kDistributed)) return "Distributed a large number of rows across the network";
  return "";
}

// One row per scan step (metrics_level "step"), figures summed over slices.
Status AppendDetail(const Workload& w, const SimQuery& q, BatchWriter& out) {
  const StatementTemplate& t = w.catalog().at(q.template_id);
  if (q.has(kCacheHit) || t.scans.empty()) return Status::Ok();
  const auto steps = static_cast<int64_t>(t.scans.size());
  const int64_t span = q.exec_us / (steps + 1);
  const std::string alert = AlertOf(q);
  for (int64_t s = 0; s < steps; ++s) {
    const CatalogTable& table = w.catalog().tables()[static_cast<size_t>(t.scans[static_cast<size_t>(s)])];
    Rng rng(Hash(q.detail, static_cast<uint64_t>(s), 0xde7));
    const int64_t start = q.queue_end_us() + span * s;
    const int64_t end = std::min(q.exec_end_us(), start + span + rng.Between(0, span + 1));
    const auto input = static_cast<int64_t>(static_cast<double>(table.rows) * (0.2 + 0.8 * rng.Uniform()));
    const auto output = static_cast<int64_t>(static_cast<double>(input) * (q.has(kSelectiveFilter) ? 0.0005 : rng.Uniform()));
    out.col(0).AppendInt(q.userid);
    out.col(1).AppendInt(SysQueryId(q));
    out.col(2).AppendInt(1);
    out.col(3).AppendInt(s);
    out.col(4).AppendInt(s);
    out.col(5).AppendInt(0);
    out.col(6).AppendString(t.loads_from_s3 ? "s3scan" : "scan");
    out.col(7).AppendInt(table.tbl);
    out.col(8).AppendString(table.name);
    out.col(9).AppendString(rng.Chance(0.4) ? "t" : "f");
    out.col(10).AppendInt(start);
    out.col(11).AppendInt(end);
    out.col(12).AppendInt(end - start);
    out.col(13).AppendString(s == 0 ? alert : "");
    out.col(14).AppendInt(input * 64);
    out.col(15).AppendInt(input);
    out.col(16).AppendInt(output * 64);
    out.col(17).AppendInt(output);
    out.col(18).AppendInt(input / 100000 + 1);
    out.col(19).AppendInt(0);
    out.col(20).AppendInt(q.has(kDiskBased) ? rng.Between(10, 5000) : 0);
    out.col(21).AppendInt(0);
    out.col(22).AppendInt(rng.Between(0, 30));
    out.col(23).AppendInt(rng.Between(0, 30));
    out.col(24).AppendString("step");
    out.col(25).AppendInt(s + 1);
    out.col(26).AppendInt(q.end_us());
    RETURN_IF_ERROR(out.EndRow());
  }
  return Status::Ok();
}

Status AppendSysExplain(const Workload& w, const SimQuery& q, BatchWriter& out) {
  if (q.has(kCacheHit)) return Status::Ok();
  for (const PlanNode& node : w.catalog().at(q.template_id).plan) {
    out.col(0).AppendInt(q.userid);
    out.col(1).AppendInt(SysQueryId(q));
    out.col(2).AppendInt(1);
    out.col(3).AppendInt(node.nodeid);
    out.col(4).AppendInt(node.parentid);
    out.col(5).AppendString(node.plannode);
    out.col(6).AppendString(node.info);
    out.col(7).AppendInt(q.end_us());
    RETURN_IF_ERROR(out.EndRow());
  }
  return Status::Ok();
}

Status AppendLoad(const Workload& w, const SimQuery& q, BatchWriter& out) {
  const StatementTemplate& t = w.catalog().at(q.template_id);
  if (!t.loads_from_s3) return Status::Ok();
  Rng rng(Hash(q.detail, 0x10ad));
  const std::string table = t.scans.empty() ? "staging" : w.catalog().tables()[static_cast<size_t>(t.scans[0])].name;
  const int64_t rows = q.has(kAborted) ? 0 : rng.Between(1000, 5000000);
  const int64_t files = rng.Between(1, 64);
  out.col(0).AppendInt(q.userid);
  out.col(1).AppendInt(SysQueryId(q));
  out.col(2).AppendInt(q.xid);
  out.col(3).AppendInt(q.pid);
  out.col(4).AppendString(w.database());
  out.col(5).AppendString(q.has(kAborted) ? "aborted" : "completed");
  out.col(6).AppendString(table);
  out.col(7).AppendInt(q.start_us);
  out.col(8).AppendInt(q.end_us());
  out.col(9).AppendInt(q.end_us() - q.start_us);
  out.col(10).AppendString(fmt::format("s3://ingest-{}/{}/", w.database(), table));
  out.col(11).AppendString("parquet");
  out.col(12).AppendInt(rows);
  out.col(13).AppendInt(rows * 90);
  out.col(14).AppendInt(files);
  out.col(15).AppendInt(rows * 40);
  out.col(16).AppendInt(files);
  out.col(17).AppendInt(rows * 40);
  out.col(18).AppendInt(q.has(kAborted) ? rng.Between(1, 100) : 0);
  out.col(19).AppendInt(0);
  return out.EndRow();
}

// The usage row of the minute that `minute` is: compute from the queries that started in it.
Status AppendUsage(const SimMinute& minute, const RowWindow& window, BatchWriter& out) {
  if (minute.queries.empty()) return Status::Ok();  // an idle minute is not billed
  const int64_t start = minute.queries.front().start_us / kMinuteUs * kMinuteUs;
  const int64_t end = start + kMinuteUs;
  if (end < window.lower || end >= window.upper || end > window.now) return Status::Ok();
  const double capacity = minute.queries.size() > 40 ? 32 : minute.queries.size() > 10 ? 16 : 8;
  const double busy = std::min(60.0, 6.0 * static_cast<double>(minute.queries.size()));
  const auto charged = static_cast<int64_t>(std::max(60.0, busy * capacity));
  const int64_t filled_at = end + (5 + static_cast<int64_t>(Hash(static_cast<uint64_t>(start), 0xb111) % 21)) * kMinuteUs;
  out.col(0).AppendInt(start);
  out.col(1).AppendInt(end);
  out.col(2).AppendDouble(busy * capacity);
  out.col(3).AppendDouble(capacity);
  out.col(4).AppendInt(20480 + start / (24 * 60 * kMinuteUs) % 1000);
  out.col(5).AppendInt(0);
  out.col(6).AppendInt(window.now >= filled_at ? charged : 0);
  return out.EndRow();
}

}  // namespace

Status AppendSysMinuteRows(SimTable table, const Workload& workload, const SimMinute& minute, const RowWindow& window,
                           bool running, BatchWriter& out) {
  if (table == SimTable::kSysServerlessUsage) return AppendUsage(minute, window, out);
  for (const SimQuery& q : minute.queries) {
    if (q.start_us > window.now) break;  // ordered by start
    if (running) {
      if (table == SimTable::kSysQueryHistory && q.start_us >= window.lower && q.start_us < window.upper &&
          q.end_us() > window.now)
        RETURN_IF_ERROR(AppendHistory(workload, q, window.now, /*running=*/true, out));
      continue;
    }
    if (!Finished(q, window)) continue;
    switch (table) {
      case SimTable::kSysQueryHistory: RETURN_IF_ERROR(AppendHistory(workload, q, window.now, false, out)); break;
      case SimTable::kSysQueryText: RETURN_IF_ERROR(AppendText(workload, q, out)); break;
      case SimTable::kSysQueryDetail: RETURN_IF_ERROR(AppendDetail(workload, q, out)); break;
      case SimTable::kSysQueryExplain: RETURN_IF_ERROR(AppendSysExplain(workload, q, out)); break;
      case SimTable::kSysLoadHistory: RETURN_IF_ERROR(AppendLoad(workload, q, out)); break;
      default: return Status::Ok();  // views the simulated workgroup leaves empty
    }
  }
  return Status::Ok();
}

}  // namespace fleetlog::sim
