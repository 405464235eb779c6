// Test and benchmark support: writes small lakes through the real writer and commit
// protocol, so the server reads exactly what an export writes.
//   WriteTestLake       stl_query for clusters "alpha" and "beta" (the API tests)
//   WriteDashboardLake  stl_query, stl_querytext, stl_wlm_query and stl_alert_event_log for
//                       several clusters (the browser tests and the benchmark, until
//                       `fleetlog demo` provides a fleet)
// Thread-safety: call from one thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/commit_window.h"
#include "lake/lake_writer.h"
#include "query/engine.h"
#include "state/state_store.h"

namespace fleetlog::testing {

// Writes the rows `fill` appends into (table, cluster) and commits them with the cursor at `upper`.
inline Status CommitTestRows(LakeWriter& writer, StateStore& state, const std::string& table, const std::string& cluster,
                             const TableSchema& schema, const std::string& cursor_column,
                             const std::vector<std::string>& key, Timestamp upper,
                             const std::function<void(RowBatch&)>& fill) {
  struct FixedClock final : Clock {
    Timestamp at;
    Timestamp Now() const override { return at; }
  } clock;
  clock.at = upper;
  CommitWindow window(writer, state,
                      {.table = table, .cluster = cluster, .partition_column = cursor_column, .key = key,
                       .drop_committed_repeats = false});
  RowBatch batch(schema);
  fill(batch);
  RETURN_IF_ERROR(window.Append(batch));
  RunRecord run{.cluster = cluster, .table = table, .started_at = upper, .rows_read = static_cast<int64_t>(batch.rows())};
  ASSIGN_OR_RETURN(WindowCommitted committed, window.Commit(clock, run, upper));
  return committed.publish_error;
}

inline const TableSchema kTestQuerySchema = {
    {"userid", ColumnType::kInt32},      {"query", ColumnType::kInt32},     {"querytxt", ColumnType::kVarchar},
    {"starttime", ColumnType::kTimestamp}, {"endtime", ColumnType::kTimestamp}, {"aborted", ColumnType::kInt32}};

// Commits `rows` rows of stl_query for `cluster` into the lake at `root` (already prepared),
// one query a minute from `start`.
inline Status CommitTestQueries(LakeWriter& writer, StateStore& state, const std::string& cluster, int rows,
                                Timestamp start) {
  return CommitTestRows(writer, state, "stl_query", cluster, kTestQuerySchema, "endtime", {"query", "starttime"},
                        start + Duration::Minutes(rows + 1), [&](RowBatch& b) {
    for (int i = 0; i < rows; ++i) {
      const int64_t begin = start.micros() + int64_t{i} * 60'000'000;
      b.column(0).AppendInt(100 + i % 3);
      b.column(1).AppendInt(i + 1);
      b.column(2).AppendString("select " + std::to_string(i) + " from sales where note = 'it''s'");
      b.column(3).AppendInt(begin);
      b.column(4).AppendInt(begin + (i % 10 + 1) * 1'000'000);
      b.column(5).AppendInt(i % 17 == 0);
    }
  });
}

// Commits `rows` rows of stl_query per cluster ("alpha", "beta"), one query a minute from `start`.
inline Status WriteTestLake(const std::string& root, StateStore& state, int rows, Timestamp start) {
  LakeLayout lake(root);
  RETURN_IF_ERROR(lake.Prepare());
  ASSIGN_OR_RETURN(auto writer, LakeWriter::Open(lake, 256LL << 20, 1));
  for (const char* cluster : {"alpha", "beta"}) RETURN_IF_ERROR(CommitTestQueries(*writer, state, cluster, rows, start));
  return Status::Ok();
}

// A fleet of `clusters.size()` clusters with `hours` of history ending at `end`: one query
// every `every_s` seconds per cluster (busier clusters first), its text in 200-character
// pieces, its WLM row, and an alert for every 7th query.
inline Status WriteDashboardLake(const std::string& root, StateStore& state, const std::vector<std::string>& clusters,
                                 int hours, Timestamp end, int every_s = 60) {
  LakeLayout lake(root);
  RETURN_IF_ERROR(lake.Prepare());
  ASSIGN_OR_RETURN(auto writer, LakeWriter::Open(lake, 512LL << 20, 2));
  const TableSchema text_schema = {{"userid", ColumnType::kInt32}, {"xid", ColumnType::kInt64}, {"pid", ColumnType::kInt32},
                                   {"query", ColumnType::kInt32},  {"sequence", ColumnType::kInt32}, {"text", ColumnType::kVarchar}};
  const TableSchema wlm_schema = {{"query", ColumnType::kInt32}, {"service_class", ColumnType::kInt32},
                                  {"exec_start_time", ColumnType::kTimestamp}, {"total_queue_time", ColumnType::kInt64},
                                  {"total_exec_time", ColumnType::kInt64}, {"service_class_end_time", ColumnType::kTimestamp}};
  const TableSchema alert_schema = {{"query", ColumnType::kInt32}, {"event", ColumnType::kVarchar},
                                    {"solution", ColumnType::kVarchar}, {"event_time", ColumnType::kTimestamp}};
  const char* kEvents[] = {"Missing query planner statistics", "Nested Loop Join in the query plan",
                           "Very selective query filter", "Distributed a large number of rows across the network"};
  for (size_t c = 0; c < clusters.size(); ++c) {
    const int step = every_s * static_cast<int>(c + 1);
    const int n = hours * 3600 / step;
    const Timestamp start = end - Duration::Hours(hours);
    const auto begin_of = [&](int i) { return start.micros() + int64_t{i} * step * 1'000'000; };
    const auto run_us = [&](int i) { return int64_t{(i * 7919) % 50 + 1} * 200'000 * static_cast<int64_t>(c + 1); };
    RETURN_IF_ERROR(CommitTestRows(*writer, state, "stl_query", clusters[c], kTestQuerySchema, "endtime",
                                   {"query", "starttime"}, end, [&](RowBatch& b) {
      for (int i = 0; i < n; ++i) {
        b.column(0).AppendInt(100 + i % 5);
        b.column(1).AppendInt(i + 1);
        b.column(2).AppendString(fmt::format("select region, sum(amount) from sales_{} group by 1", i % 13));
        b.column(3).AppendInt(begin_of(i));
        b.column(4).AppendInt(begin_of(i) + run_us(i));
        b.column(5).AppendInt(0);
      }
    }));
    RETURN_IF_ERROR(CommitTestRows(*writer, state, "stl_querytext", clusters[c], text_schema, "",
                                   {"query", "sequence"}, end, [&](RowBatch& b) {
      for (int i = 0; i < n; ++i) {
        const std::string text = fmt::format("select region, sum(amount) as total /* {} */ from sales_{} where "
                                             "sold_at > getdate() - interval '7 days' group by 1 order by 2 desc",
                                             std::string(150, '-'), i % 13);
        for (size_t piece = 0; piece * 200 < text.size(); ++piece) {
          b.column(0).AppendInt(100 + i % 5);
          b.column(1).AppendInt(i);
          b.column(2).AppendInt(i);
          b.column(3).AppendInt(i + 1);
          b.column(4).AppendInt(static_cast<int64_t>(piece));
          b.column(5).AppendString(text.substr(piece * 200, 200));
          b.partition_ts().push_back(begin_of(i) + run_us(i));
        }
      }
    }));
    RETURN_IF_ERROR(CommitTestRows(*writer, state, "stl_wlm_query", clusters[c], wlm_schema, "service_class_end_time",
                                   {"query", "exec_start_time"}, end, [&](RowBatch& b) {
      for (int i = 0; i < n; ++i) {
        const int64_t queue_us = int64_t{(i * 104729) % 30} * 100'000;
        b.column(0).AppendInt(i + 1);
        b.column(1).AppendInt(6 + i % 3);
        b.column(2).AppendInt(begin_of(i));
        b.column(3).AppendInt(queue_us);
        b.column(4).AppendInt(run_us(i));
        b.column(5).AppendInt(begin_of(i) + run_us(i));
      }
    }));
    RETURN_IF_ERROR(CommitTestRows(*writer, state, "stl_alert_event_log", clusters[c], alert_schema, "event_time",
                                   {"query", "event"}, end, [&](RowBatch& b) {
      for (int i = 0; i < n; i += 7) {
        b.column(0).AppendInt(i + 1);
        b.column(1).AppendString(kEvents[(static_cast<size_t>(i) / 7 + c) % 4]);
        b.column(2).AppendString("Run ANALYZE or review the join");
        b.column(3).AppendInt(begin_of(i) + run_us(i) / 2);
      }
    }));
  }
  return Status::Ok();
}

}  // namespace fleetlog::testing
