// Compaction benchmark: a lake exported at a 1-minute interval for several days (one small
// file per cluster and minute, written through the real stage -> commit -> publish path),
// then a diagnostic query timed before and after compaction, with the file counts, as a ratio.
//   compaction_bench [--days N] [--clusters N] [--rows-per-minute N] [--repeat N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/fs.h"
#include "lake/commit.h"
#include "lake/lake_writer.h"
#include "upkeep/compaction.h"
#include "upkeep/policy.h"
#include "lake/replace.h"
#include "query/engine.h"

namespace fleetlog {
namespace {

using Clock = std::chrono::steady_clock;

const TableSchema kSchema = {{"userid", ColumnType::kInt32},      {"query", ColumnType::kInt64},
                             {"querytxt", ColumnType::kVarchar},  {"starttime", ColumnType::kTimestamp},
                             {"endtime", ColumnType::kTimestamp}, {"aborted", ColumnType::kInt32}};

// Queries per cluster and hour with run-time percentiles, and the slowest queries: what the
// dashboard asks.
const char* const kDiagnostic =
    "SELECT cluster, date_trunc('hour', endtime) AS hour, count(*) AS queries, "
    "quantile_cont(epoch(endtime) - epoch(starttime), 0.95) AS p95_s, sum(aborted) AS aborted "
    "FROM stl_query WHERE querytxt LIKE '%orders%' GROUP BY ALL ORDER BY ALL";

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Timing {
  double open_ms = 0, query_ms = 0;
  int64_t files = 0, bytes = 0, rows = 0;
};

Status Check(const Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "compaction_bench: %s: %s\n", what, s.message().c_str());
  return s;
}

// Median over `repeat` runs of opening a snapshot and running the diagnostic query.
Result<Timing> TimeDiagnostic(StateStore& state, const LakeLayout& lake, int repeat) {
  std::vector<double> open, query;
  Timing t;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = Clock::now();
    ASSIGN_OR_RETURN(auto engine, QueryEngine::Open({.lake_root = lake.root(), .threads = 2}, &state));
    const auto t1 = Clock::now();
    ASSIGN_OR_RETURN(auto result, engine->Run(kDiagnostic));
    const auto t2 = Clock::now();
    open.push_back(Ms(t1 - t0));
    query.push_back(Ms(t2 - t1));
    t.rows = static_cast<int64_t>(result.row_count());
  }
  std::sort(open.begin(), open.end());
  std::sort(query.begin(), query.end());
  t.open_ms = open[open.size() / 2];
  t.query_ms = query[query.size() / 2];
  ASSIGN_OR_RETURN(auto files, state.ListFiles({.table = "stl_query", .states = {FileState::kPublished}}));
  t.files = static_cast<int64_t>(files.size());
  for (const auto& f : files) t.bytes += f.bytes;
  return t;
}

int Run(int days, int clusters, int rows_per_minute, int repeat) {
  const std::string dir = (std::filesystem::temp_directory_path() / ("fleetlog-compaction-bench-" + RandomHex(4))).string();
  LakeLayout lake(dir + "/lake");
  auto state = OpenSqliteStateStore(dir + "/fleetlog.db", OpenMode::kReadWrite);
  auto writer = LakeWriter::Open(lake, 256LL << 20, 1);
  if (!Check(state.status(), "state store").ok() || !Check(writer.status(), "lake writer").ok()) return 1;
  if (!Check(RecordSchema(**state, "stl_query", kSchema), "schema").ok()) return 1;

  // Whole days that ended before today, so compaction treats them as closed.
  const Timestamp start = *upkeep::DayStart(DateOf(Timestamp::Now())) - Duration::Days(days);
  const auto w0 = Clock::now();
  int64_t query = 0, rows = 0;
  for (int m = 0; m < days * 24 * 60; ++m) {
    const Timestamp minute = start + Duration::Minutes(m);
    for (int c = 0; c < clusters; ++c) {
      const std::string cluster = "cluster-" + std::to_string(c + 1);
      RowBatch batch(kSchema);
      for (int r = 0; r < rows_per_minute; ++r, ++query) {
        const Timestamp end = minute + Duration::Micros(r * 60'000'000LL / rows_per_minute);
        batch.column(0).AppendInt(100 + query % 17);
        batch.column(1).AppendInt(query);
        batch.column(2).AppendString(query % 3 ? "select * from orders where id = " + std::to_string(query)
                                               : "select count(*) from lineitem l join part p using (partkey)");
        batch.column(3).AppendInt((end - Duration::Millis(query % 9000)).micros());
        batch.column(4).AppendInt(end.micros());
        batch.column(5).AppendInt(query % 97 == 0 ? 1 : 0);
      }
      auto window = (*writer)->BeginWindow("stl_query", cluster, kSchema, "endtime", {.key_columns = {"query", "starttime"}});
      if (!Check(window.status(), "window").ok() || !Check((*window)->Append(batch), "append").ok()) return 1;
      auto staged = (*window)->Stage();
      if (!Check(staged.status(), "stage").ok()) return 1;
      rows += staged->rows_written;
      CommitRequest request{.add = staged->files,
                            .cursor = CursorRecord{cluster, "stl_query", minute + Duration::Minutes(1), minute},
                            .run = {.cluster = cluster, .table = "stl_query"}};
      if (!Check(CommitAndPublish(**state, lake, request).status(), "commit").ok()) return 1;
    }
  }
  const double write_s = Ms(Clock::now() - w0) / 1000;

  auto before = TimeDiagnostic(**state, lake, repeat);
  if (!Check(before.status(), "query before").ok()) return 1;
  Config config;
  config.lake_path = lake.root();
  const auto c0 = Clock::now();
  // Every day is compacted: the days before the exporter's cursor minus its lookback as
  // closed, the last one because it holds more than max_files_per_partition files.
  auto report = upkeep::CompactLake(**state, lake, config, {}, Timestamp::Now());
  const double compact_s = Ms(Clock::now() - c0) / 1000;
  if (!Check(report.status(), "compaction").ok()) return 1;
  auto after = TimeDiagnostic(**state, lake, repeat);
  if (!Check(after.status(), "query after").ok()) return 1;
  if (after->rows != before->rows) {
    std::fprintf(stderr, "compaction_bench: the diagnostic query returned %lld rows before and %lld after\n",
                 static_cast<long long>(before->rows), static_cast<long long>(after->rows));
    return 1;
  }

  std::printf("lake: %d clusters x %d days of 1-minute export windows, %lld rows of stl_query (written in %.1f s)\n",
              clusters, days, static_cast<long long>(rows), write_s);
  std::printf("compaction: %d partitions, %d files -> %d, %.1f s\n", report->partitions, report->files_in,
              report->files_out, compact_s);
  std::printf("%-18s %10s %12s %12s %12s %12s\n", "", "files", "bytes", "open ms", "query ms", "total ms");
  auto line = [](const char* name, const Timing& t) {
    std::printf("%-18s %10lld %12lld %12.1f %12.1f %12.1f\n", name, static_cast<long long>(t.files),
                static_cast<long long>(t.bytes), t.open_ms, t.query_ms, t.open_ms + t.query_ms);
  };
  line("before", *before);
  line("after", *after);
  std::printf("%-18s %10.1fx %11.2fx %11.1fx %11.1fx %11.1fx\n", "ratio before/after",
              static_cast<double>(before->files) / static_cast<double>(after->files),
              static_cast<double>(before->bytes) / static_cast<double>(after->bytes), before->open_ms / after->open_ms,
              before->query_ms / after->query_ms,
              (before->open_ms + before->query_ms) / (after->open_ms + after->query_ms));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

}  // namespace
}  // namespace fleetlog

int main(int argc, char** argv) {
  int days = 2, clusters = 2, rows_per_minute = 20, repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--days") days = value;
    else if (flag == "--clusters") clusters = value;
    else if (flag == "--rows-per-minute") rows_per_minute = value;
    else if (flag == "--repeat") repeat = value;
    else {
      std::fprintf(stderr, "usage: compaction_bench [--days N] [--clusters N] [--rows-per-minute N] [--repeat N]\n");
      return 2;
    }
  }
  if (days < 1 || clusters < 1 || rows_per_minute < 1 || repeat < 1) return 2;
  return fleetlog::Run(days, clusters, rows_per_minute, repeat);
}
