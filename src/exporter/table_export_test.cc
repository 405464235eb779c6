// One table's export through the pipeline (exporter/batch_pipeline.h): a window staged in
// parts while it is read, and the pipeline's failures, after each of which nothing of the
// window is committed, nothing is left in staging, and the retry exports each row once:
// a write failing mid-window, a fetch failing while batches are being written, a read
// cancelled mid-window.
#include "exporter/table_export.h"

#include <gtest/gtest.h>

#include "fake_source.h"
#include "fault_env.h"
#include "lake/lake_writer.h"
#include "test_util.h"

namespace fleetlog {
namespace {

const Timestamp kNoon = *ParseTimestamp("2026-03-10 12:00:00");
constexpr int kRows = 600;
constexpr size_t kBatchRows = 50;  // 12 batches per window

class TableExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.lake_path = dir_.Sub("lake");
    config_.state_path = dir_.Sub("fleetlog.db");
    config_.export_.tables = {"stl_query"};
    config_.export_.initial_backfill = Duration::Hours(2);
    config_.clusters.push_back({.name = "c1", .kind = SourceKind::kSim});
    state_ = std::move(OpenSqliteStateStore(config_.state_path, OpenMode::kReadWrite)).value();
    fleet_.SetNow("c1", kNoon);
    // Rows 1..kRows, one every 10 s in the two hours before noon: across no midnight.
    for (int i = 1; i <= kRows; ++i) fleet_.Add("c1", "stl_query", i, kNoon - Duration::Seconds(10 * (kRows - i) + 5));
  }

  // One ExportTable of stl_query up to noon through a lake reached by `env`; every batch
  // the window is appended makes a part of its own.
  TableRun Export(Env* env = Env::Default()) {
    auto writer = LakeWriter::Open(LakeLayout(config_.lake_path, env), 64LL << 20, 1);
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    if (!writer.ok()) return {.status = writer.status()};
    (*writer)->SetPartBytes(1);
    ExportContext ctx{.config = &config_, .state = state_.get(), .writer = writer->get(), .clock = &clock_,
                      .batch_rows = kBatchRows};
    auto source = fleet_.Factory()(config_.clusters[0]);
    EXPECT_TRUE(source.ok());
    return ExportTable(ctx, "c1", *FindRedshiftTable("stl_query"), **source, kNoon, kNoon);
  }

  // "rows|distinct|min|max" of the query ids in the published files.
  std::string LakeIds() {
    auto rows = test::PublishedFileRows(
        *state_, config_.lake_path,
        "SELECT concat_ws('|', count(*), count(DISTINCT query), min(query), max(query)) FROM {files}", {.table = "stl_query"});
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return !rows.ok() ? "?" : rows->empty() ? "empty" : rows->front();
  }

  // After a failed window: no cursor, no committed file, empty staging; the run says why.
  void ExpectNothingCommitted(const TableRun& run, StatusCode code) {
    EXPECT_EQ(run.status.code(), code) << run.status.ToString();
    EXPECT_EQ(run.run.status, RunStatus::kFailed);
    auto cursor = state_->GetCursor("c1", "stl_query");
    ASSERT_TRUE(cursor.ok());
    EXPECT_FALSE(cursor->has_value());
    EXPECT_EQ(LakeIds(), "empty");
    EXPECT_TRUE(test::ListFilesUnder(config_.lake_path + "/" + LakeLayout::StagingDir()).empty());
  }

  // The retry exports every row once.
  void ExpectRetryExportsEachRowOnce() {
    TableRun retry = Export();
    ASSERT_TRUE(retry.status.ok()) << retry.status.ToString();
    EXPECT_EQ(retry.run.rows_written, kRows);
    EXPECT_EQ(LakeIds(), fmt::format("{0}|{0}|1|{0}", kRows));
    EXPECT_TRUE(test::ListFilesUnder(config_.lake_path + "/" + LakeLayout::StagingDir()).empty());
  }

  test::TempDir dir_;
  Config config_;
  std::unique_ptr<StateStore> state_;
  SystemClock clock_;
  test::FakeFleet fleet_;
};

TEST_F(TableExportTest, AWindowWrittenInPartsHoldsEachRowOnce) {
  TableRun first = Export();
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  EXPECT_EQ(first.run.rows_read, kRows);
  EXPECT_EQ(first.run.rows_written, kRows);
  auto files = state_->ListFiles({.table = "stl_query", .states = {FileState::kPublished}});
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), kRows / kBatchRows) << "one file per part";
  EXPECT_EQ(LakeIds(), fmt::format("{0}|{0}|1|{0}", kRows));

  // The next window re-reads the lookback (15 minutes: 90 rows) across several parts, and
  // adds 30 new rows: the repeats are dropped in every part.
  for (int i = kRows + 1; i <= kRows + 30; ++i) fleet_.Add("c1", "stl_query", i, kNoon + Duration::Seconds(i - kRows));
  const Timestamp later = kNoon + Duration::Minutes(1);
  fleet_.SetNow("c1", later);
  auto writer = LakeWriter::Open(LakeLayout(config_.lake_path), 64LL << 20, 1);
  ASSERT_TRUE(writer.ok());
  (*writer)->SetPartBytes(1);
  ExportContext ctx{.config = &config_, .state = state_.get(), .writer = writer->get(), .clock = &clock_,
                    .batch_rows = 20};
  auto source = fleet_.Factory()(config_.clusters[0]);
  ASSERT_TRUE(source.ok());
  TableRun second = ExportTable(ctx, "c1", *FindRedshiftTable("stl_query"), **source, later, later);
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  EXPECT_EQ(second.run.rows_read, 90 + 30);
  EXPECT_EQ(second.run.rows_duplicate, 90);
  EXPECT_EQ(second.run.rows_written, 30);
  EXPECT_EQ(LakeIds(), fmt::format("{0}|{0}|1|{0}", kRows + 30));
}

// The n-th write of the window (a part's Parquet file handed to DuckDB, its sync, ...) fails
// while later batches are still being read.
TEST_F(TableExportTest, AWriteFailingMidWindowCommitsNothing) {
  test::FaultEnv env;
  env.FailAt(test::FaultEnv::Op::kWrite, 4, /*dead_after=*/false);
  TableRun failed = Export(&env);
  EXPECT_TRUE(env.fired());
  ExpectNothingCommitted(failed, StatusCode::kInternal);
  ExpectRetryExportsEachRowOnce();
}

TEST_F(TableExportTest, AFetchFailingWhileBatchesAreWrittenCommitsNothing) {
  fleet_.FailAfterBatches("c1", "stl_query", 7);
  TableRun failed = Export();
  ExpectNothingCommitted(failed, StatusCode::kUnavailable);
  EXPECT_NE(failed.run.error.find("connection broke"), std::string::npos) << failed.run.error;
  fleet_.FailAfterBatches("c1", "stl_query", -1);
  ExpectRetryExportsEachRowOnce();
}

TEST_F(TableExportTest, ACancelledReadCommitsNothing) {
  fleet_.FailAfterBatches("c1", "stl_query", 5, /*cancel=*/true);
  TableRun cancelled = Export();
  ExpectNothingCommitted(cancelled, StatusCode::kCancelled);
  fleet_.FailAfterBatches("c1", "stl_query", -1);
  ExpectRetryExportsEachRowOnce();
}

}  // namespace
}  // namespace fleetlog
