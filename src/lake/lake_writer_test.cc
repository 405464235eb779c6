#include "lake/lake_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <set>

#include "core/text.h"
#include "lake/commit.h"
#include "test_util.h"

namespace fleetlog {
namespace {

namespace fs = std::filesystem;

const TableSchema kSchema = {{"query", ColumnType::kInt64}, {"starttime", ColumnType::kTimestamp}, {"text", ColumnType::kVarchar}};

int64_t Us(const char* text) { return ParseTimestamp(text)->micros(); }

struct Row {
  int64_t query;
  const char* starttime;
  std::optional<std::string> text;
};

RowBatch Batch(const std::vector<Row>& rows) {
  RowBatch b(kSchema);
  for (const auto& r : rows) {
    b.column(0).AppendInt(r.query);
    b.column(1).AppendInt(Us(r.starttime));
    if (r.text) b.column(2).AppendString(*r.text);
    else b.column(2).AppendNull();
  }
  return b;
}

class LakeWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto state = OpenSqliteStateStore(dir_.Sub("fleetlog.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    state_ = std::move(state).value();
    auto writer = LakeWriter::Open(lake_, 256LL << 20, 1);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    writer_ = std::move(writer).value();
  }

  // Stages `rows` as one window, deduplicating by `query` against the committed files.
  Result<StageResult> StageRows(const std::vector<Row>& rows, const std::string& cluster = "c1") {
    ASSIGN_OR_RETURN(auto committed, state_->ListFiles({.table = "stl_query", .cluster = cluster,
                                                        .states = {FileState::kCommitted, FileState::kPublished}}));
    ASSIGN_OR_RETURN(auto window, writer_->BeginWindow("stl_query", cluster, kSchema, "starttime",
                                                       {.committed = committed, .key_columns = {"query"}}));
    RETURN_IF_ERROR(window->Append(Batch(rows)));
    return window->Stage();
  }

  Result<int64_t> Commit(const StageResult& staged, const std::string& cluster = "c1") {
    CommitRequest req;
    req.add = staged.files;
    req.run.cluster = cluster;
    req.run.table = "stl_query";
    ASSIGN_OR_RETURN(CommitOutcome outcome, CommitAndPublish(*state_, lake_, req));
    RETURN_IF_ERROR(outcome.publish_error);
    return outcome.commit_id;
  }

  // "query|starttime|text" of every row in the published files, sorted.
  std::vector<std::string> PublishedRows() {
    auto rows = test::PublishedFileRows(*state_, lake_.root(),
                                        "SELECT query::VARCHAR || '|' || strftime(starttime, '%Y-%m-%d %H:%M:%S.%f') || '|' || "
                                        "coalesce(text, '<null>') FROM {files} ORDER BY 1");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<std::string>{};
  }

  test::TempDir dir_;
  LakeLayout lake_{dir_.Sub("lake")};
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<LakeWriter> writer_;
};

TEST_F(LakeWriterTest, StagesOneFilePerDtThenCommitsAndPublishes) {
  auto staged = StageRows({{1, "2026-01-01 23:59:59.999999", "a"},
                           {2, "2026-01-02 00:00:00", "b"},
                           {3, "2026-01-02 10:00:00.5", std::nullopt},
                           {4, "2026-01-03 00:00:01", "d"}});
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->rows_in, 4);
  EXPECT_EQ(staged->rows_written, 4);
  EXPECT_EQ(staged->rows_duplicate, 0);
  ASSERT_EQ(staged->files.size(), 3u);
  EXPECT_EQ(staged->files[0].dt, "2026-01-01");
  EXPECT_EQ(staged->files[1].dt, "2026-01-02");
  EXPECT_EQ(staged->files[2].dt, "2026-01-03");
  const NewFile& jan2 = staged->files[1];
  EXPECT_EQ(jan2.rows, 2);
  EXPECT_EQ(jan2.min_cursor->micros(), Us("2026-01-02 00:00:00"));
  EXPECT_EQ(jan2.max_cursor->micros(), Us("2026-01-02 10:00:00.5"));
  EXPECT_THAT(jan2.path, ::testing::MatchesRegex(R"(stl_query/cluster=c1/dt=2026-01-02/[0-9]{8}T[0-9]{6}Z-[0-9a-f]{16}\.parquet)"));
  EXPECT_EQ(jan2.staging_path.rfind("_fleetlog/staging/", 0), 0u);
  int64_t bytes = 0;
  for (const auto& f : staged->files) {
    EXPECT_TRUE(fs::exists(lake_.Abs(f.staging_path))) << f.staging_path;
    EXPECT_FALSE(fs::exists(lake_.Abs(f.path))) << "visible before its commit: " << f.path;
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(lake_.Abs(f.staging_path))), f.bytes);
    EXPECT_EQ(f.checksum.size(), 64u);
    bytes += f.bytes;
  }
  EXPECT_EQ(staged->bytes_written, bytes);
  EXPECT_TRUE(PublishedRows().empty());

  ASSERT_TRUE(Commit(*staged).ok());
  for (const auto& f : staged->files) {
    EXPECT_FALSE(fs::exists(lake_.Abs(f.staging_path)));
    EXPECT_TRUE(fs::exists(lake_.Abs(f.path)));
  }
  EXPECT_EQ(state_->ListFiles({.states = {FileState::kPublished}})->size(), 3u);
  EXPECT_THAT(PublishedRows(), ::testing::ElementsAre("1|2026-01-01 23:59:59.999999|a", "2|2026-01-02 00:00:00.000000|b",
                                                      "3|2026-01-02 10:00:00.500000|<null>", "4|2026-01-03 00:00:01.000000|d"));
  EXPECT_TRUE(test::ListFilesUnder(lake_.Abs(LakeLayout::StagingDir())).empty());
}

TEST_F(LakeWriterTest, FilesRecordTheirIdRangesAndAreSortedByCursorThenId) {
  // Arrival order is neither time nor id order; two rows share a time.
  auto staged = StageRows({{30, "2026-01-02 05:00:00", "c"},
                           {12, "2026-01-02 01:00:00", "b"},
                           {11, "2026-01-02 05:00:00", "a"},
                           {7, "2026-01-03 00:00:00", "d"}});
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  ASSERT_EQ(staged->files.size(), 2u);
  EXPECT_EQ(staged->files[0].id_ranges, (IdRanges{{"query", {11, 30}}}));
  EXPECT_EQ(staged->files[1].id_ranges, (IdRanges{{"query", {7, 7}}}));
  ASSERT_TRUE(Commit(*staged).ok());
  auto files = state_->ListFiles({.states = {FileState::kPublished}});
  ASSERT_TRUE(files.ok());
  EXPECT_EQ((*files)[0].id_ranges, (IdRanges{{"query", {11, 30}}})) << "kept in the catalog";

  auto db = duck::Database::OpenInMemory({});
  auto conn = duck::Connection::Open(*db);
  auto rows = (*conn)->Query("SELECT query FROM read_parquet(" + duck::QuoteString(lake_.Abs((*files)[0].path)) + ")");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<int64_t> order;
  for (size_t i = 0; i < rows->row_count(); ++i) order.push_back(rows->int64(0, i));
  EXPECT_EQ(order, (std::vector<int64_t>{12, 11, 30})) << "file order: by the cursor, then by the id";
}

TEST(IdColumnsTest, IntegerIdColumnsOfBothFamilies) {
  EXPECT_EQ(IdColumnsOf({{"xid", ColumnType::kInt64}, {"query", ColumnType::kInt32}, {"text", ColumnType::kVarchar}}),
            (std::vector<std::string>{"query", "xid"}));
  EXPECT_EQ(IdColumnsOf({{"transaction_id", ColumnType::kInt64}, {"query_id", ColumnType::kInt64}}),
            (std::vector<std::string>{"query_id", "transaction_id"}));
  EXPECT_TRUE(IdColumnsOf({{"query", ColumnType::kVarchar}, {"queryid", ColumnType::kInt64}}).empty());
}

TEST_F(LakeWriterTest, DropsRepeatsWithinAWindow) {
  auto staged = StageRows({{1, "2026-01-02 00:00:00", "a"}, {1, "2026-01-02 00:00:00", "a"}, {2, "2026-01-02 00:00:01", "b"},
                           {1, "2026-01-02 00:00:00", "a"}});
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->rows_in, 4);
  EXPECT_EQ(staged->rows_written, 2);
  EXPECT_EQ(staged->rows_duplicate, 2);
  ASSERT_EQ(staged->files.size(), 1u);
  EXPECT_EQ(staged->files[0].rows, 2);
}

TEST_F(LakeWriterTest, DropsRowsAlreadyCommitted) {
  auto first = StageRows({{1, "2026-01-01 12:00:00", "a"}, {2, "2026-01-02 12:00:00", "b"}});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(Commit(*first).ok());
  // The next window re-reads the lookback: 1 and 2 again, plus 3 (on an old dt) and 4.
  auto second = StageRows({{2, "2026-01-02 12:00:00", "b"}, {1, "2026-01-01 12:00:00", "a"},
                           {3, "2026-01-01 13:00:00", "c"}, {4, "2026-01-02 13:00:00", "d"}});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->rows_written, 2);
  EXPECT_EQ(second->rows_duplicate, 2);
  ASSERT_TRUE(Commit(*second).ok());
  // Everything again: nothing new, no file.
  auto third = StageRows({{1, "2026-01-01 12:00:00", "a"}, {2, "2026-01-02 12:00:00", "b"},
                          {3, "2026-01-01 13:00:00", "c"}, {4, "2026-01-02 13:00:00", "d"}});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->rows_written, 0);
  EXPECT_EQ(third->rows_duplicate, 4);
  EXPECT_TRUE(third->files.empty());
  EXPECT_THAT(PublishedRows(), ::testing::ElementsAre("1|2026-01-01 12:00:00.000000|a", "2|2026-01-02 12:00:00.000000|b",
                                                      "3|2026-01-01 13:00:00.000000|c", "4|2026-01-02 13:00:00.000000|d"));
  // A second file per dt, never an overwrite.
  EXPECT_EQ(state_->ListFiles({})->size(), 4u);
}

TEST_F(LakeWriterTest, DedupeIsPerCluster) {
  auto a = StageRows({{1, "2026-01-01 12:00:00", "a"}}, "c1");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(Commit(*a, "c1").ok());
  auto b = StageRows({{1, "2026-01-01 12:00:00", "a"}}, "c2");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->rows_written, 1);
  ASSERT_EQ(b->files.size(), 1u);
  EXPECT_THAT(b->files[0].path, ::testing::StartsWith("stl_query/cluster=c2/dt=2026-01-01/"));
}

TEST_F(LakeWriterTest, NullKeysAreEqualForDedupe) {
  const TableSchema schema = {{"k", ColumnType::kInt32}, {"ts", ColumnType::kTimestamp}};
  RowBatch batch(schema);
  for (int i = 0; i < 2; ++i) {
    batch.column(0).AppendNull();
    batch.column(1).AppendInt(Us("2026-01-01 00:00:00"));
  }
  auto window = writer_->BeginWindow("t", "c1", schema, "ts", {.key_columns = {"k"}});
  ASSERT_TRUE(window.ok());
  ASSERT_TRUE((*window)->Append(batch).ok());
  auto staged = (*window)->Stage();
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->rows_written, 1);
}

// A part drops the rows whose key an earlier part staged, NULL keys equal to NULL ones, and
// keeps the rest: one part per batch here.
TEST_F(LakeWriterTest, RepeatsOfEarlierPartsAreDroppedNullKeysIncluded) {
  writer_->SetPartBytes(1);
  const TableSchema schema = {{"k", ColumnType::kInt32}, {"j", ColumnType::kInt32}, {"ts", ColumnType::kTimestamp}};
  auto window = writer_->BeginWindow("t", "c1", schema, "ts", {.key_columns = {"k", "j"}});
  ASSERT_TRUE(window.ok());
  // Keys per part: (1,1) (NULL,1) (1,NULL) | (1,1) (NULL,1) (2,1) | (1,NULL) (2,1) (NULL,NULL) (NULL,NULL)
  const std::vector<std::vector<std::pair<std::optional<int>, std::optional<int>>>> parts = {
      {{1, 1}, {std::nullopt, 1}, {1, std::nullopt}},
      {{1, 1}, {std::nullopt, 1}, {2, 1}},
      {{1, std::nullopt}, {2, 1}, {std::nullopt, std::nullopt}, {std::nullopt, std::nullopt}}};
  for (const auto& part : parts) {
    RowBatch batch(schema);
    for (const auto& [k, j] : part) {
      k ? batch.column(0).AppendInt(*k) : batch.column(0).AppendNull();
      j ? batch.column(1).AppendInt(*j) : batch.column(1).AppendNull();
      batch.column(2).AppendInt(Us("2026-01-01 00:00:00"));
    }
    ASSERT_TRUE((*window)->Append(batch).ok());
  }
  EXPECT_EQ((*window)->parts_staged(), 3);
  auto staged = (*window)->Stage();
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->rows_in, 10);
  EXPECT_EQ(staged->rows_written, 5);  // (1,1) (NULL,1) (1,NULL) (2,1) (NULL,NULL)
  EXPECT_EQ(staged->rows_duplicate, 5);
}

TEST_F(LakeWriterTest, FileNamesAreUnique) {
  std::set<std::string> paths;
  for (int i = 0; i < 1000; ++i) paths.insert(LakeLayout::NewFilePath("stl_query", "c1", "2026-01-01", Timestamp::Now()));
  EXPECT_EQ(paths.size(), 1000u);
  std::set<std::string> staged_paths;
  for (int i = 0; i < 3; ++i) {
    auto staged = StageRows({{100 + i, "2026-01-01 00:00:00", "x"}});
    ASSERT_TRUE(staged.ok());
    ASSERT_EQ(staged->files.size(), 1u);
    staged_paths.insert(staged->files[0].path);
    staged_paths.insert(staged->files[0].staging_path);
  }
  EXPECT_EQ(staged_paths.size(), 6u);
}

TEST_F(LakeWriterTest, EmptyWindowWritesNothing) {
  auto staged = StageRows({});
  ASSERT_TRUE(staged.ok());
  EXPECT_EQ(staged->rows_in, 0);
  EXPECT_TRUE(staged->files.empty());
  EXPECT_TRUE(Commit(*staged).ok());
  EXPECT_TRUE(test::ListFilesUnder(lake_.Abs(LakeLayout::StagingDir())).empty());
}

TEST_F(LakeWriterTest, RefusesNullCursorAndUnknownColumns) {
  auto window = writer_->BeginWindow("stl_query", "c1", kSchema, "starttime", {});
  ASSERT_TRUE(window.ok());
  RowBatch batch(kSchema);
  batch.column(0).AppendInt(1);
  batch.column(1).AppendNull();
  batch.column(2).AppendString("x");
  auto s = (*window)->Append(batch);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("starttime"));

  EXPECT_EQ(writer_->BeginWindow("stl_query", "c1", kSchema, "nope", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(writer_->BeginWindow("stl_query", "c1", kSchema, "text", {}).status().code(), StatusCode::kInvalidArgument);

  auto w2 = writer_->BeginWindow("stl_query", "c1", kSchema, "starttime", {.key_columns = {"nope"}});
  ASSERT_TRUE((*w2)->Append(Batch({{1, "2026-01-01 00:00:00", "a"}})).ok());
  EXPECT_EQ((*w2)->Stage().status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LakeWriterTest, PartitionTimesDecideWhenThereIsNoCursorColumn) {
  const TableSchema schema = {{"query", ColumnType::kInt64}, {"sequence", ColumnType::kInt32}, {"text", ColumnType::kVarchar}};
  RowBatch batch(schema);
  const int64_t day1 = Us("2026-03-01 23:00:00"), day2 = Us("2026-03-02 01:00:00");
  for (int i = 0; i < 3; ++i) {
    batch.column(0).AppendInt(i < 2 ? 7 : 8);
    batch.column(1).AppendInt(i);
    batch.column(2).AppendString("piece");
    batch.partition_ts().push_back(i < 2 ? day1 : day2);
  }
  auto window = writer_->BeginWindow("stl_querytext", "c1", schema, "", {.key_columns = {"query", "sequence"}});
  ASSERT_TRUE(window.ok());
  ASSERT_TRUE((*window)->Append(batch).ok());
  auto staged = (*window)->Stage();
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  ASSERT_EQ(staged->files.size(), 2u);
  EXPECT_EQ(staged->files[0].dt, "2026-03-01");
  EXPECT_EQ(staged->files[0].rows, 2);
  EXPECT_EQ(staged->files[1].dt, "2026-03-02");
  // The partition time is not a column of the file.
  auto db = duck::Database::OpenInMemory({});
  auto conn = duck::Connection::Open(*db);
  auto r = (*conn)->Query("SELECT string_agg(column_name, ',') FROM (DESCRIBE SELECT * FROM read_parquet(" +
                          duck::QuoteString(writer_->lake().Abs(staged->files[0].staging_path)) + "))");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text(0, 0), "query,sequence,text");
}

TEST_F(LakeWriterTest, InvalidUtf8IsStoredAsReplacementCharacters) {
  auto staged = StageRows({{1, "2026-01-01 00:00:00", std::string("ok \xC3\xA9 bad \xFF\xC3 end")}});
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  ASSERT_TRUE(Commit(*staged).ok());
  EXPECT_THAT(PublishedRows(), ::testing::ElementsAre("1|2026-01-01 00:00:00.000000|ok \xC3\xA9 bad \xEF\xBF\xBD\xEF\xBF\xBD end"));
}

// Rows go to DuckDB in chunks of 2,048: values and NULLs of every type survive chunk
// boundaries (a NULL in one chunk must not leak into the next).
TEST_F(LakeWriterTest, ValuesAndNullsOfEveryTypeSurviveChunkBoundaries) {
  const TableSchema schema = {{"i", ColumnType::kInt32}, {"b", ColumnType::kInt64}, {"d", ColumnType::kDouble},
                              {"f", ColumnType::kBool},  {"t", ColumnType::kVarchar}, {"ts", ColumnType::kTimestamp}};
  RowBatch batch(schema);
  const int64_t start = Us("2026-01-01 00:00:00");
  constexpr int kN = 5000;
  for (int r = 0; r < kN; ++r) {
    const bool null = r % 7 == 3 || (r >= 2040 && r < 2050);
    for (size_t c = 0; c + 1 < schema.size(); ++c) {
      if (null) {
        batch.column(c).AppendNull();
        continue;
      }
      switch (schema[c].type) {
        case ColumnType::kDouble: batch.column(c).AppendDouble(r * 0.5); break;
        case ColumnType::kBool: batch.column(c).AppendInt(r % 2); break;
        case ColumnType::kVarchar: batch.column(c).AppendString(std::string(static_cast<size_t>(r % 40), 'x')); break;
        default: batch.column(c).AppendInt(r); break;
      }
    }
    batch.column(schema.size() - 1).AppendInt(start + r);
  }
  auto window = writer_->BeginWindow("t", "c1", schema, "ts", {.key_columns = {"ts"}});
  ASSERT_TRUE(window.ok());
  ASSERT_TRUE((*window)->Append(batch).ok());
  auto staged = (*window)->Stage();
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  ASSERT_EQ(staged->files.size(), 1u);
  auto db = duck::Database::OpenInMemory({});
  auto conn = duck::Connection::Open(*db);
  auto r = (*conn)->Query(
      "SELECT count(*), count(i), count(b), count(d), count(f), count(t), "
      "count(*) FILTER (WHERE i = epoch_us(ts) - epoch_us(TIMESTAMP '2026-01-01') AND b = i AND d = i * 0.5 AND "
      "f = (i % 2 = 1) AND length(t) = i % 40), "
      "count(*) FILTER (WHERE (i IS NULL) <> ((epoch_us(ts) - epoch_us(TIMESTAMP '2026-01-01')) % 7 = 3 OR "
      "epoch_us(ts) - epoch_us(TIMESTAMP '2026-01-01') BETWEEN 2040 AND 2049)) "
      "FROM read_parquet(" + duck::QuoteString(writer_->lake().Abs(staged->files[0].staging_path)) + ")");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  int nulls = 0;
  for (int i = 0; i < kN; ++i) nulls += (i % 7 == 3 || (i >= 2040 && i < 2050)) ? 1 : 0;
  EXPECT_EQ(r->int64(0, 0), kN);
  for (size_t c = 1; c <= 5; ++c) EXPECT_EQ(r->int64(c, 0), kN - nulls) << "column " << c;
  EXPECT_EQ(r->int64(6, 0), kN - nulls) << "rows whose values are not their own";
  EXPECT_EQ(r->int64(7, 0), 0) << "NULLs on the wrong rows";
}

// A window abandoned after parts were staged (the read failed) leaves no staging file.
TEST_F(LakeWriterTest, AnAbandonedWindowDeletesItsStagedParts) {
  writer_->SetPartBytes(1);
  {
    auto window = writer_->BeginWindow("stl_query", "c1", kSchema, "starttime", {.key_columns = {"query"}});
    ASSERT_TRUE(window.ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*window)->Append(Batch({{i, "2026-01-01 00:00:00", "x"}})).ok());
    EXPECT_EQ((*window)->parts_staged(), 3);
    EXPECT_EQ(test::ListFilesUnder(lake_.Abs(LakeLayout::StagingDir())).size(), 3u);
  }
  EXPECT_TRUE(test::ListFilesUnder(lake_.Abs(LakeLayout::StagingDir())).empty());
}

// A window several times the writer's memory limit, staged in parts as it is appended (or,
// with parts off, in one piece that spills), drops exactly the repeats within it (across
// parts too) and the rows committed before, on every dt it touches.
class LargeWindowTest : public LakeWriterTest, public ::testing::WithParamInterface<int64_t> {};

TEST_P(LargeWindowTest, ExportsExactly) {
  auto small = LakeWriter::Open(lake_, 48LL << 20, 2);
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  writer_ = std::move(small).value();
  const int64_t part_bytes = GetParam();
  if (part_bytes >= 0) writer_->SetPartBytes(part_bytes);
  const int64_t day = 86'400'000'000LL;
  const int64_t start = Us("2026-02-01 00:00:00");
  // Query q starts at start + q * (3 days / 50,000): three dt partitions.
  const auto row_at = [&](RowBatch& b, int64_t q) {
    b.column(0).AppendInt(q);
    b.column(1).AppendInt(start + q * (3 * day / 50'000));
    b.column(2).AppendString(fmt::format("{:08}", q) + std::string(2000, static_cast<char>('a' + q % 26)));
  };
  RowBatch first(kSchema);
  for (int64_t q = 0; q < 100; ++q) row_at(first, q);
  auto first_window = writer_->BeginWindow("stl_query", "c1", kSchema, "starttime", {.key_columns = {"query"}});
  ASSERT_TRUE(first_window.ok());
  ASSERT_TRUE((*first_window)->Append(first).ok());
  auto first_staged = (*first_window)->Stage();
  ASSERT_TRUE(first_staged.ok()) << first_staged.status().ToString();
  ASSERT_TRUE(Commit(*first_staged).ok());

  // 60,000 rows of ~2 KB (~120 MB of text): queries 0..49,999, the first 10,000 twice.
  auto committed = state_->ListFiles({.table = "stl_query", .cluster = "c1",
                                      .states = {FileState::kCommitted, FileState::kPublished}});
  ASSERT_TRUE(committed.ok());
  auto window = writer_->BeginWindow("stl_query", "c1", kSchema, "starttime",
                                     {.committed = *committed, .key_columns = {"query"}});
  ASSERT_TRUE(window.ok());
  for (int64_t from = 0; from < 60'000; from += 2'000) {
    RowBatch b(kSchema);
    for (int64_t i = from; i < from + 2'000; ++i) row_at(b, i % 50'000);
    ASSERT_TRUE((*window)->Append(b).ok());
  }
  if (part_bytes == 0) {
    EXPECT_EQ((*window)->parts_staged(), 0);
  } else {
    EXPECT_GE((*window)->parts_staged(), 5) << "parts of a quarter of the limit, ~12 MB";
  }
  auto staged = (*window)->Stage();
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->rows_in, 60'000);
  EXPECT_EQ(staged->rows_written, 49'900);
  EXPECT_EQ(staged->rows_duplicate, 10'100);
  if (part_bytes == 0) {
    EXPECT_EQ(staged->files.size(), 3u);
  }
  std::set<std::string> dts;
  for (const auto& f : staged->files) dts.insert(f.dt);
  EXPECT_EQ(dts.size(), 3u);
  int64_t rows = 0;
  for (const auto& f : staged->files) rows += f.rows;
  EXPECT_EQ(rows, 49'900);
  ASSERT_TRUE(Commit(*staged).ok());

  auto files = state_->ListFiles({.states = {FileState::kPublished}});
  ASSERT_TRUE(files.ok());
  std::string list;
  for (const auto& f : *files) list += (list.empty() ? "" : ", ") + duck::QuoteString(lake_.Abs(f.path));
  auto db = duck::Database::OpenInMemory({});
  auto conn = duck::Connection::Open(*db);
  auto r = (*conn)->Query(fmt::format(
      "SELECT count(*), count(DISTINCT query), min(query), max(query), "
      "count(*) FILTER (WHERE text <> lpad(query::VARCHAR, 8, '0') || repeat(chr(97 + (query % 26)::INTEGER), 2000)), "
      "count(*) FILTER (WHERE dt::VARCHAR <> strftime(starttime, '%Y-%m-%d')) "
      "FROM read_parquet([{}], hive_partitioning = true)",
      list));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->int64(0, 0), 50'000);
  EXPECT_EQ(r->int64(1, 0), 50'000);
  EXPECT_EQ(r->int64(2, 0), 0);
  EXPECT_EQ(r->int64(3, 0), 49'999);
  EXPECT_EQ(r->int64(4, 0), 0) << "rows whose text does not belong to their query";
  EXPECT_EQ(r->int64(5, 0), 0) << "rows in another dt than their cursor's";
}

// -1: the writer's default part size; 0: one part, spilled.
INSTANTIATE_TEST_SUITE_P(PartSizes, LargeWindowTest, ::testing::Values(-1, 0));

}  // namespace
}  // namespace fleetlog
