// Shared by the upkeep tests: a lake with a state store, rows of stl_query and
// stl_querytext written through the real stage -> commit -> publish path (one commit, one
// file per window and day), and the lake read back through the query engine.
// Thread-safety: a fixture belongs to one test; Rows() may be called from reader threads.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "lake/commit_window.h"
#include "lake/lake_writer.h"
#include "query/engine.h"
#include "test_util.h"

namespace fleetlog::upkeep::testing {

inline const TableSchema kQuerySchema = {{"userid", ColumnType::kInt32},      {"query", ColumnType::kInt64},
                                         {"querytxt", ColumnType::kVarchar},  {"starttime", ColumnType::kTimestamp},
                                         {"endtime", ColumnType::kTimestamp}, {"aborted", ColumnType::kInt32}};
inline const TableSchema kTextSchema = {{"userid", ColumnType::kInt32},
                                        {"query", ColumnType::kInt64},
                                        {"sequence", ColumnType::kInt32},
                                        {"text", ColumnType::kVarchar}};

inline Timestamp Day(const char* date) { return *ParseTimestamp(date); }

class UpkeepLake {
 public:
  UpkeepLake() {
    auto state = OpenSqliteStateStore(db_path(), OpenMode::kReadWrite);
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    state_ = std::move(state).value();
    config_.lake_path = lake_.root();
    config_.state_path = db_path();
  }

  StateStore& state() { return *state_; }
  const LakeLayout& lake() const { return lake_; }
  Config& config() { return config_; }
  std::string db_path() const { return dir_.Sub("fleetlog.db"); }
  // Before fork(): no SQLite connection or DuckDB threads may cross it.
  void CloseForFork() {
    writer_.reset();
    state_.reset();
  }
  void ReopenState() { state_ = std::move(OpenSqliteStateStore(db_path(), OpenMode::kReadWrite)).value(); }
  // Replaces the state store (a test wraps the SQLite one at db_path(), e.g. in the lake's
  // journal); nullptr closes it.
  void set_state(std::unique_ptr<StateStore> state) {
    writer_.reset();
    state_ = std::move(state);
  }

  // The stl_query rows of queries first..last: query q ends at `start` + q minutes (minus
  // the first), runs q % 50 seconds, user q % 5, aborted when q % 11 == 0.
  static RowBatch QueryRows(int64_t first, int64_t last, Timestamp start) {
    RowBatch q(kQuerySchema);
    for (int64_t i = first; i <= last; ++i) {
      const Timestamp end = start + Duration::Minutes(i - first);
      q.column(0).AppendInt(i % 5);
      q.column(1).AppendInt(i);
      q.column(2).AppendString("select " + std::to_string(i));
      q.column(3).AppendInt((end - Duration::Seconds(i % 50)).micros());
      q.column(4).AppendInt(end.micros());
      q.column(5).AppendInt(i % 11 == 0 ? 1 : 0);
    }
    return q;
  }

  // Commits QueryRows(first, last, start) of `cluster` as one window, and their
  // stl_querytext rows (two pieces per query) when `with_text`.
  void WriteQueries(const std::string& cluster, int64_t first, int64_t last, Timestamp start, bool with_text = false) {
    RowBatch t(kTextSchema);
    for (int64_t i = first; i <= last; ++i) {
      const Timestamp end = start + Duration::Minutes(i - first);
      for (int s = 0; s < 2; ++s) {
        t.column(0).AppendInt(i % 5);
        t.column(1).AppendInt(i);
        t.column(2).AppendInt(s);
        t.column(3).AppendString(s == 0 ? "select " : std::to_string(i));
        t.partition_ts().push_back(end.micros());
      }
    }
    Commit("stl_query", cluster, "endtime", QueryRows(first, last, start));
    if (with_text) Commit("stl_querytext", cluster, "", t);
  }

  void Commit(const std::string& table, const std::string& cluster, const std::string& cursor, const RowBatch& batch) {
    if (!writer_) writer_ = std::move(LakeWriter::Open(lake_, 256LL << 20, 1)).value();
    CommitWindow window(*writer_, *state_,
                        {.table = table, .cluster = cluster, .partition_column = cursor, .drop_committed_repeats = false});
    ASSERT_TRUE(window.Append(batch).ok());
    auto committed = window.Commit(SystemClock(), {.cluster = cluster, .table = table}, std::nullopt);
    ASSERT_TRUE(committed.ok() && committed->publish_error.ok()) << committed.status().ToString();
  }

  // The rows of `sql` through a fresh query engine (a new snapshot), one string per row.
  std::vector<std::string> Rows(const std::string& sql) { return RowsOf(*state_, lake_, sql); }

  static std::vector<std::string> RowsOf(StateStore& state, const LakeLayout& lake, const std::string& sql) {
    auto engine = QueryEngine::Open({.lake_root = lake.root(), .memory_limit_bytes = 256LL << 20, .threads = 1}, &state);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return engine.ok() ? RowsOf(**engine, sql) : std::vector<std::string>{};
  }

  // The rows of `sql` through `engine`, one string per row: values joined by '|', NULL as "NULL".
  static std::vector<std::string> RowsOf(QueryEngine& engine, const std::string& sql) {
    std::vector<std::string> out;
    auto r = engine.Run(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << sql;
    if (!r.ok()) return out;
    for (size_t row = 0; row < r->row_count(); ++row) {
      std::string line;
      for (size_t c = 0; c < r->column_count(); ++c) line += (c ? "|" : "") + (r->is_null(c, row) ? "NULL" : r->text(c, row));
      out.push_back(std::move(line));
    }
    return out;
  }

  std::vector<CommittedFile> Files(const std::string& table, std::vector<FileState> states = {FileState::kPublished}) {
    return std::move(state_->ListFiles({.table = table, .states = std::move(states)})).value();
  }

 private:
  test::TempDir dir_;
  LakeLayout lake_{dir_.Sub("lake")};
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<LakeWriter> writer_;
  Config config_;
};

inline constexpr const char* kAllQueries =
    "SELECT cluster, dt, userid, query, querytxt, starttime, endtime, aborted FROM stl_query ORDER BY ALL";
inline constexpr const char* kAllText = "SELECT cluster, dt, query, sequence, text FROM stl_querytext ORDER BY ALL";

}  // namespace fleetlog::upkeep::testing
