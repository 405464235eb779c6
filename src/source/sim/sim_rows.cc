// Row layouts follow shared/reference/redshift-system-tables.md column by column. The figures
// of scan steps and alerts are drawn from each query's `detail` seed, so the same query always
// produces the same rows whichever table or window asks for it.
#include "source/sim/sim_rows.h"

#include <fmt/format.h>

#include <algorithm>

namespace fleetlog::sim {
namespace {

constexpr size_t kPieceChars = 200;

bool InWindow(int64_t cursor, int64_t done, const RowWindow& w) {
  return cursor >= w.lower && cursor < w.upper && done <= w.now;
}

// Text as Redshift splits it: 200-character pieces from sequence 0; only the last is shorter.
template <typename AppendHead>
Status AppendPieces(const std::string& text, size_t text_col, size_t seq_col, BatchWriter& out, AppendHead head) {
  const size_t pieces = std::max<size_t>(1, (text.size() + kPieceChars - 1) / kPieceChars);
  for (size_t i = 0; i < pieces; ++i) {
    head();
    out.col(seq_col).AppendInt(static_cast<int64_t>(i));
    out.col(text_col).AppendString(text.substr(i * kPieceChars, kPieceChars));
    RETURN_IF_ERROR(out.EndRow());
  }
  return Status::Ok();
}

Status AppendQuery(const Workload& w, const SimQuery& q, BatchWriter& out) {
  const StatementTemplate& t = w.catalog().at(q.template_id);
  out.col(0).AppendInt(q.userid);
  out.col(1).AppendInt(q.query);
  out.col(2).AppendString(t.label);
  out.col(3).AppendInt(q.xid);
  out.col(4).AppendInt(q.pid);
  out.col(5).AppendString(w.database());
  out.col(6).AppendString(t.querytxt);
  out.col(7).AppendInt(q.start_us);
  out.col(8).AppendInt(q.end_us());
  out.col(9).AppendInt(q.has(kAborted) ? 1 : 0);
  out.col(10).AppendInt(0);
  out.col(11).AppendInt(q.has(kConcurrencyScaled) ? 1 : 0);
  return out.EndRow();
}

Status AppendQueryText(const Workload& w, const SimQuery& q, BatchWriter& out) {
  return AppendPieces(w.catalog().at(q.template_id).text, 5, 4, out, [&] {
    out.col(0).AppendInt(q.userid);
    out.col(1).AppendInt(q.xid);
    out.col(2).AppendInt(q.pid);
    out.col(3).AppendInt(q.query);
    out.col(6).AppendInt(q.end_us());
  });
}

Status AppendExplain(const Workload& w, const SimQuery& q, BatchWriter& out) {
  for (const PlanNode& node : w.catalog().at(q.template_id).plan) {
    out.col(0).AppendInt(q.userid);
    out.col(1).AppendInt(q.query);
    out.col(2).AppendInt(node.nodeid);
    out.col(3).AppendInt(node.parentid);
    out.col(4).AppendString(node.plannode);
    out.col(5).AppendString(node.info);
    out.col(6).AppendInt(q.end_us());
    RETURN_IF_ERROR(out.EndRow());
  }
  return Status::Ok();
}

Status AppendWlm(const SimQuery& q, BatchWriter& out) {
  const ServiceClass& sc = *ServiceClassOf(q.kind);
  Rng rng(Hash(q.detail, 0x3a1));
  // A spilled query estimated more memory than its slot had.
  const double mem = q.has(kDiskBased) ? (1.2 + 3 * rng.Uniform()) : (0.02 + 0.5 * rng.Uniform());
  out.col(0).AppendInt(q.userid);
  out.col(1).AppendInt(q.xid);
  out.col(2).AppendInt(q.query);
  out.col(3).AppendInt(q.query);
  out.col(4).AppendInt(sc.id);
  out.col(5).AppendInt(sc.slot_count);
  out.col(6).AppendInt(q.class_start_us());
  out.col(7).AppendInt(q.class_start_us());
  out.col(8).AppendInt(q.queue_end_us());
  out.col(9).AppendInt(q.queue_us);
  out.col(10).AppendInt(q.queue_end_us());
  out.col(11).AppendInt(q.exec_end_us());
  out.col(12).AppendInt(q.exec_us);
  out.col(13).AppendInt(q.exec_end_us());
  out.col(14).AppendString(q.has(kAborted) ? "Evicted" : "Completed");
  out.col(15).AppendInt(static_cast<int64_t>(mem * static_cast<double>(sc.slot_memory)));
  out.col(16).AppendString(sc.priority);
  out.col(17).AppendString(sc.name);
  return out.EndRow();
}

// One scan step of a query: a table read, rows received from the network, or (for a spilled
// query) a row-wise temporary table read back from disk.
struct ScanStep {
  int segment;
  int type;  // 2 permanent table, 21 S3 load, 1 network, 3 row-wise temporary table
  const CatalogTable* table;
};

std::vector<ScanStep> ScanStepsOf(const Workload& w, const SimQuery& q) {
  const StatementTemplate& t = w.catalog().at(q.template_id);
  std::vector<ScanStep> steps;
  for (int tbl : t.scans)
    steps.push_back({static_cast<int>(steps.size()), t.loads_from_s3 ? 21 : 2, &w.catalog().tables()[tbl]});
  if (t.scans.size() > 1) steps.push_back({static_cast<int>(steps.size()), 1, nullptr});
  if (q.has(kDiskBased)) steps.push_back({static_cast<int>(steps.size()), 3, nullptr});
  return steps;
}

Status AppendScans(const Workload& w, const SimQuery& q, const RowWindow& window, BatchWriter& out) {
  const std::vector<ScanStep> steps = ScanStepsOf(w, q);
  const int64_t span = q.exec_us / static_cast<int64_t>(steps.size() + 1);
  for (const ScanStep& step : steps) {
    for (int slice = 0; slice < w.slices(); ++slice) {
      Rng rng(Hash(q.detail, static_cast<uint64_t>(step.segment), static_cast<uint64_t>(slice)));
      const int64_t start = q.queue_end_us() + span * step.segment + rng.Between(0, span / 4 + 1);
      const int64_t end = std::min(q.exec_end_us(), start + span + rng.Between(0, span + 1));
      if (!InWindow(end, end, window)) continue;
      const int64_t base = step.table ? step.table->rows / w.slices() : 50000;
      const auto pre = static_cast<int64_t>(static_cast<double>(base) * (0.5 + rng.Uniform())) * (step.type == 3 ? 20 : 1);
      const auto pre_user = static_cast<int64_t>(static_cast<double>(pre) * (0.3 + 0.7 * rng.Uniform()));
      const double selectivity = q.has(kSelectiveFilter) ? 0.0005 : 0.05 + 0.95 * rng.Uniform();
      const auto rows = static_cast<int64_t>(static_cast<double>(pre_user) * selectivity);
      out.col(0).AppendInt(q.userid);
      out.col(1).AppendInt(q.query);
      out.col(2).AppendInt(slice);
      out.col(3).AppendInt(step.segment);
      out.col(4).AppendInt(0);
      out.col(5).AppendInt(start);
      out.col(6).AppendInt(end);
      out.col(7).AppendInt(10 + slice);
      out.col(8).AppendInt(rows);
      out.col(9).AppendInt(rows * rng.Between(24, 400));
      out.col(10).AppendInt(rows / 1000 + 1);
      out.col(11).AppendInt(step.type);
      out.col(12).AppendInt(step.table ? step.table->tbl : 0);
      out.col(13).AppendString(step.type == 2 && rng.Chance(0.4) ? "t" : "f");
      out.col(14).AppendString("f");
      out.col(15).AppendInt(pre);
      out.col(16).AppendInt(pre_user);
      out.col(17).AppendString(step.table ? step.table->name : "Internal Worktable");
      out.col(18).AppendString("f");
      out.col(19).AppendInt(0);
      out.col(20).AppendInt(0);
      RETURN_IF_ERROR(out.EndRow());
    }
  }
  return Status::Ok();
}

Status AppendAlerts(const SimQuery& q, BatchWriter& out) {
  Rng rng(Hash(q.detail, 0xa1e));
  const auto alert = [&](int segment, int step, std::string event, const char* solution) {
    out.col(0).AppendInt(q.userid);
    out.col(1).AppendInt(q.query);
    out.col(2).AppendInt(0);
    out.col(3).AppendInt(segment);
    out.col(4).AppendInt(step);
    out.col(5).AppendInt(q.pid);
    out.col(6).AppendInt(q.xid);
    out.col(7).AppendString(std::move(event));
    out.col(8).AppendString(solution);
    out.col(9).AppendInt(q.start_us);  // event_time is when the query started
    return out.EndRow();
  };
  if (q.has(kMissingStats))
    RETURN_IF_ERROR(alert(0, 0, "Missing query planner statistics", "Run the ANALYZE command"));
  if (q.has(kNestedLoop))
    RETURN_IF_ERROR(alert(1, 2, "Nested Loop Join in the query plan",
                          "Review the join predicates to avoid Cartesian products"));
  if (q.has(kSelectiveFilter)) {
    const int64_t scanned = rng.Between(1000000, 500000000);
    const int64_t kept = rng.Between(1, scanned / 20000 + 2);
    RETURN_IF_ERROR(alert(0, 0,
                          fmt::format("Very selective query filter:ratio=rows({})/rows_pre_user_filter({})={:.6f}", kept,
                                      scanned, static_cast<double>(kept) / static_cast<double>(scanned)),
                          "Review the choice of sort key to enable range restricted scans"));
  }
  if (q.has(kDeletedRows))
    RETURN_IF_ERROR(alert(0, 0, "Scanned a large number of deleted rows", "Run the VACUUM command to reclaim deleted space"));
  if (q.has(kDistributed))
    RETURN_IF_ERROR(alert(2, 1,
                          fmt::format("Distributed a large number of rows across the network:{} rows were distributed "
                                      "in order to process the aggregation",
                                      rng.Between(1000000, 90000000)),
                          "Review the choice of distribution key to collocate the join or aggregation"));
  return Status::Ok();
}

Status AppendStatement(const SimStatement& s, BatchWriter& out) {
  return AppendPieces(s.text, 7, 6, out, [&] {
    out.col(0).AppendInt(s.userid);
    out.col(1).AppendInt(s.xid);
    out.col(2).AppendInt(s.pid);
    out.col(3).AppendString(s.label);
    out.col(4).AppendInt(s.start_us);
    out.col(5).AppendInt(s.end_us);
  });
}

// Work that ran on the main cluster's slices: what stl_scan, stl_explain and the alerts cover.
bool RanOnMainCluster(const SimQuery& q) { return !q.has(kCacheHit) && !q.has(kConcurrencyScaled); }

}  // namespace

std::optional<SimTable> SimTableNamed(std::string_view name) {
  static constexpr std::pair<std::string_view, SimTable> kNames[] = {
      {"stl_query", SimTable::kQuery},         {"stl_querytext", SimTable::kQueryText},
      {"stl_explain", SimTable::kExplain},     {"stl_wlm_query", SimTable::kWlmQuery},
      {"stl_scan", SimTable::kScan},           {"stl_alert_event_log", SimTable::kAlertEventLog},
      {"stl_ddltext", SimTable::kDdlText},     {"stl_utilitytext", SimTable::kUtilityText},
      {"sys_query_history", SimTable::kSysQueryHistory}, {"sys_query_text", SimTable::kSysQueryText},
      {"sys_query_detail", SimTable::kSysQueryDetail},   {"sys_query_explain", SimTable::kSysQueryExplain},
      {"sys_load_history", SimTable::kSysLoadHistory},   {"sys_serverless_usage", SimTable::kSysServerlessUsage},
      {"sys_unload_history", SimTable::kSysEmpty},       {"sys_connection_log", SimTable::kSysEmpty},
      {"sys_session_history", SimTable::kSysEmpty},      {"sys_transaction_history", SimTable::kSysEmpty}};
  for (const auto& [n, t] : kNames)
    if (n == name) return t;
  return std::nullopt;
}

BatchWriter::BatchWriter(TableSchema schema, size_t batch_rows, const BatchSink& sink)
    : batch_(std::move(schema)), batch_rows_(std::max<size_t>(1, batch_rows)), sink_(sink) {}

Status BatchWriter::Flush() {
  if (batch_.rows() == 0) return Status::Ok();
  rows_written_ += batch_.rows();
  Status status = sink_(batch_);
  batch_.Clear();
  return status;
}

Status AppendMinuteRows(SimTable table, const Workload& workload, const SimMinute& minute, const RowWindow& window,
                        BatchWriter& out) {
  if (IsSysSimTable(table)) return AppendSysMinuteRows(table, workload, minute, window, /*running=*/false, out);
  if (table == SimTable::kDdlText || table == SimTable::kUtilityText) {
    for (const SimStatement& s : minute.statements)
      if (s.utility == (table == SimTable::kUtilityText) && InWindow(s.end_us, s.end_us, window))
        RETURN_IF_ERROR(AppendStatement(s, out));
    return Status::Ok();
  }
  for (const SimQuery& q : minute.queries) {
    if (q.start_us >= window.upper || q.start_us > window.now) break;  // ordered by start
    switch (table) {
      case SimTable::kQuery:
        if (InWindow(q.end_us(), q.end_us(), window)) RETURN_IF_ERROR(AppendQuery(workload, q, out));
        break;
      case SimTable::kQueryText:
        if (InWindow(q.end_us(), q.end_us(), window)) RETURN_IF_ERROR(AppendQueryText(workload, q, out));
        break;
      case SimTable::kExplain:
        if (RanOnMainCluster(q) && InWindow(q.end_us(), q.end_us(), window))
          RETURN_IF_ERROR(AppendExplain(workload, q, out));
        break;
      case SimTable::kWlmQuery:
        if (!q.has(kCacheHit) && ServiceClassOf(q.kind) && InWindow(q.exec_end_us(), q.exec_end_us(), window))
          RETURN_IF_ERROR(AppendWlm(q, out));
        break;
      case SimTable::kScan:
        if (RanOnMainCluster(q) && q.end_us() >= window.lower) RETURN_IF_ERROR(AppendScans(workload, q, window, out));
        break;
      case SimTable::kAlertEventLog:
        if (RanOnMainCluster(q) && InWindow(q.start_us, q.end_us(), window)) RETURN_IF_ERROR(AppendAlerts(q, out));
        break;
      default:
        break;
    }
  }
  return Status::Ok();
}

}  // namespace fleetlog::sim
