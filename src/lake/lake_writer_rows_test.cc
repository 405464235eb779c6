// The small-window path (rows held and deduplicated in C++, lake_writer_rows.h) against the
// DuckDB path (SetHeldWindowBytes(0)): the same windows into two lakes must stage the same
// files (dt, rows, cursor and id ranges) holding the same rows, and count the same repeats.
#include "lake/lake_writer_rows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "lake/commit.h"
#include "lake/lake_writer.h"
#include "test_util.h"

namespace fleetlog {
namespace {

// query (key, NULL sometimes), seq (key, NULL sometimes), label (key, text, invalid UTF-8
// sometimes), starttime (the cursor), xid (an id column, NULL sometimes), text.
const TableSchema kSchema = {{"query", ColumnType::kInt64},  {"seq", ColumnType::kInt32},
                             {"label", ColumnType::kVarchar}, {"starttime", ColumnType::kTimestamp},
                             {"xid", ColumnType::kInt64},    {"text", ColumnType::kVarchar}};
const std::vector<std::string> kKey = {"query", "seq", "label"};

struct Lake {
  explicit Lake(bool held) {
    auto opened = OpenSqliteStateStore(dir.Sub("fleetlog.db"), OpenMode::kReadWrite);
    EXPECT_TRUE(opened.ok());
    state = std::move(opened).value();
    auto w = LakeWriter::Open(layout, 64LL << 20, 1);
    EXPECT_TRUE(w.ok());
    writer = std::move(w).value();
    if (!held) writer->SetHeldWindowBytes(0);
  }

  // Stages the batches as one window against the committed files, commits it, and returns
  // what was staged.
  Result<StageResult> Export(const std::vector<RowBatch>& batches, int64_t repeats_from) {
    ASSIGN_OR_RETURN(auto committed, state->ListFiles({.table = "stl_query", .cluster = "c1",
                                                       .states = {FileState::kCommitted, FileState::kPublished}}));
    std::erase_if(committed, [&](const CommittedFile& f) { return f.max_cursor && f.max_cursor->micros() < repeats_from; });
    ASSIGN_OR_RETURN(auto window, writer->BeginWindow("stl_query", "c1", kSchema, "starttime",
                                                      {.committed = committed, .key_columns = kKey}));
    for (const auto& b : batches) RETURN_IF_ERROR(window->Append(b));
    ASSIGN_OR_RETURN(StageResult staged, window->Stage());
    CommitRequest req;
    req.add = staged.files;
    req.run.cluster = "c1";
    req.run.table = "stl_query";
    ASSIGN_OR_RETURN(CommitOutcome outcome, CommitAndPublish(*state, layout, req));
    RETURN_IF_ERROR(outcome.publish_error);
    return staged;
  }

  // Every published row as text, sorted, with its file's dt.
  std::vector<std::string> Rows() {
    auto rows = test::PublishedFileRows(
        *state, layout.root(),
        "SELECT concat_ws('|', dt, coalesce(query::VARCHAR, 'N'), coalesce(seq::VARCHAR, 'N'), coalesce(label, 'N'), "
        "starttime, coalesce(xid::VARCHAR, 'N'), coalesce(text, 'N')) FROM {files} ORDER BY 1");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<std::string>{};
  }

  test::TempDir dir;
  LakeLayout layout{dir.Sub("lake")};
  std::unique_ptr<StateStore> state;
  std::unique_ptr<LakeWriter> writer;
};

// A file's description without its name, checksum and size.
std::string Describe(const NewFile& f) {
  std::string out = fmt::format("{} rows={} cursor={}..{}", f.dt, f.rows, f.min_cursor ? f.min_cursor->micros() : -1,
                                f.max_cursor ? f.max_cursor->micros() : -1);
  for (const auto& [name, range] : f.id_ranges) out += fmt::format(" {}={}..{}", name, range.min, range.max);
  return out;
}

TEST(HeldWindowTest, StagesWhatTheDuckDbPathStages) {
  const int64_t start = ParseTimestamp("2026-03-01 23:50:00")->micros();
  const int64_t minute = 60'000'000;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
    Lake held(true), duck(false);
    // Five windows of 6 minutes each, 5 minutes apart, crossing midnight: each re-reads the
    // last minute of the one before (the lookback), repeats rows within itself, and has NULL
    // and invalid-UTF-8 keys.
    for (int w = 0; w < 5; ++w) {
      const int64_t lower = start + w * 5 * minute - minute, upper = start + (w + 1) * 5 * minute;
      std::vector<RowBatch> batches;
      const int nbatches = 1 + pick(4);
      for (int b = 0; b < nbatches; ++b) {
        RowBatch batch(kSchema);
        const int rows = pick(120);
        for (int r = 0; r < rows; ++r) {
          // The row's identity decides every column, so a repeat is the same row; a few
          // repeats differ in text (the first of a key is kept).
          const int64_t ts = lower + static_cast<int64_t>(rng() % static_cast<uint32_t>((upper - lower) / 1000)) * 1000;
          const int64_t id = (ts - start) / 50'000'000;  // ~one query per 50 s: repeats are common
          const int64_t t = start + id * 50'000'000 + (ts - start) % 3;
          if (id % 17 == 3) batch.column(0).AppendNull(); else batch.column(0).AppendInt(id);
          if (id % 11 == 5) batch.column(1).AppendNull(); else batch.column(1).AppendInt(id % 3);
          if (id % 13 == 7) batch.column(2).AppendString(pick(2) ? "bad\xff" : "bad\xfe");
          else if (id % 19 == 2) batch.column(2).AppendNull();
          else batch.column(2).AppendString("l" + std::to_string(id % 5));
          batch.column(3).AppendInt(t);
          if (pick(7) == 0) batch.column(4).AppendNull(); else batch.column(4).AppendInt(1000 - id);
          batch.column(5).AppendString(fmt::format("q{} {}", id, pick(10) == 0 ? "other" : "text"));
        }
        batches.push_back(std::move(batch));
      }
      auto a = held.Export(batches, lower);
      auto b = duck.Export(batches, lower);
      ASSERT_TRUE(a.ok()) << a.status().ToString();
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      EXPECT_EQ(a->rows_in, b->rows_in);
      EXPECT_EQ(a->rows_written, b->rows_written);
      EXPECT_EQ(a->rows_duplicate, b->rows_duplicate);
      ASSERT_EQ(a->files.size(), b->files.size());
      for (size_t i = 0; i < a->files.size(); ++i) EXPECT_EQ(Describe(a->files[i]), Describe(b->files[i]));
    }
    const auto rows = held.Rows();
    EXPECT_GT(rows.size(), 20u);
    EXPECT_EQ(rows, duck.Rows());
  }
}

// Rows come out of a held window's files ordered by the cursor, then by the ids, NULLs last.
TEST(HeldWindowTest, KeptRowsAreFirstOfEachKeyInCursorThenIdOrder) {
  const TableSchema schema = {{"k", ColumnType::kInt64}, {"ts", ColumnType::kTimestamp}, {"query", ColumnType::kInt64}};
  RowBatch rows(schema);
  // (k, ts, query): row 3 repeats row 0's key, row 4 is committed.
  const std::vector<std::tuple<int64_t, int64_t, std::optional<int64_t>>> in = {
      {1, 20, 5}, {2, 10, std::nullopt}, {3, 10, 7}, {1, 5, 1}, {4, 1, 1}, {5, 10, 6}};
  for (const auto& [k, ts, q] : in) {
    rows.column(0).AppendInt(k);
    rows.column(1).AppendInt(ts);
    q ? rows.column(2).AppendInt(*q) : rows.column(2).AppendNull();
  }
  RowBatch committed_row(schema);
  committed_row.column(0).AppendInt(4);
  committed_row.column(1).AppendInt(0);
  committed_row.column(2).AppendInt(0);
  const KeySet committed = {EncodeKey(committed_row, {0}, 0)};
  EXPECT_EQ(KeptRowsInFileOrder(rows, rows.column(1).ints, {0}, {2}, committed),
            (std::vector<uint32_t>{5, 2, 1, 0}));
}

}  // namespace
}  // namespace fleetlog
