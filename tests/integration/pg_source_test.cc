// PgSource against a real PostgreSQL 15 server standing in for Redshift (pg_harness.h):
// decoding of every type, streaming in batches, the export window, the child-table join,
// and each failure a cluster can produce, by its Status code and message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include "integration/pg_harness.h"
#include "source/pg/pg_source.h"
#include "source/table_spec.h"

namespace fleetlog {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using integration::PgHarness;

constexpr const char* kCluster = "test-cluster";

Timestamp Ts(std::string_view text) {
  auto t = ParseTimestamp(text);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : Timestamp();
}

TableSpec CustomSpec(std::string name, std::string sql, std::string cursor) {
  return {.name = std::move(name), .cursor = std::move(cursor), .sql = std::move(sql)};
}

// Rows read from a source, batch by batch.
struct ReadResult {
  Status status;
  std::vector<RowBatch> batches;
  size_t rows() const {
    size_t n = 0;
    for (const auto& b : batches) n += b.rows();
    return n;
  }
};

class PgSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PgHarness::Available()) GTEST_SKIP() << "PostgreSQL 15 is not installed (/usr/lib/postgresql/15/bin/initdb)";
    auto pg = PgHarness::Shared();
    ASSERT_TRUE(pg.ok()) << pg.status().ToString();
    pg_ = *pg;
    auto db = pg_->CreateUniqueDatabase(::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = *db;
    ASSERT_TRUE(pg_->CreateRedshiftFixture(db_).ok());
  }

  PgSourceOptions Options() const {
    return {.cluster = kCluster,
            .dsn = pg_->Dsn(db_),
            .password = PgHarness::kPassword,
            .statement_timeout = Duration::Seconds(30),
            .connect_timeout = Duration::Seconds(5)};
  }

  void Exec(std::string_view sql) {
    Status status = pg_->Exec(db_, sql);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  static ReadResult ReadAll(Source& source, const TableSpec& spec, Timestamp lower, Timestamp upper,
                            size_t batch_rows = 8192) {
    ReadResult out;
    out.status = source.Read({.spec = &spec, .lower = lower, .upper = upper, .batch_rows = batch_rows},
                             [&](RowBatch& batch) {
                               out.batches.push_back(std::move(batch));
                               return Status::Ok();
                             });
    return out;
  }

  PgHarness* pg_ = nullptr;
  std::string db_;
};

TEST_F(PgSourceTest, DecodesEveryTypeWithExactValues) {
  Exec(R"sql(
    CREATE TABLE all_types (i2 smallint, i4 int, i8 bigint, f4 real, f8 double precision, num numeric(12,4),
      b bool, ts timestamp, tstz timestamptz, c char(10), vc varchar(40), t text, nm name, "MixedCase" int, c30 char(30));
    INSERT INTO all_types VALUES (-32768, 2147483647, -9223372036854775808, 1.5, 0.1, 12345.6789, true,
      '2024-02-29 23:59:59.123456', '2024-03-01 01:00:00.5+02', 'ab', 'héllo wörld ✓ 日本', 'tail  ', 'nm', 7, 'abc def ghij k');
    INSERT INTO all_types (ts) VALUES ('2024-02-29 00:00:00');
  )sql");
  auto source = MakePgSource(Options());
  const TableSpec spec = CustomSpec("all_types", "select * from all_types order by i2 nulls last", "ts");
  ReadResult read = ReadAll(*source, spec, Ts("2024-01-01"), Ts("2025-01-01"));
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  ASSERT_EQ(read.batches.size(), 1u);
  const RowBatch& b = read.batches[0];

  using T = ColumnType;
  const TableSchema expected_schema = {{"i2", T::kInt32},  {"i4", T::kInt32},     {"i8", T::kInt64},
                                       {"f4", T::kDouble}, {"f8", T::kDouble},    {"num", T::kDouble},
                                       {"b", T::kBool},    {"ts", T::kTimestamp}, {"tstz", T::kTimestamp},
                                       {"c", T::kVarchar}, {"vc", T::kVarchar},   {"t", T::kVarchar},
                                       {"nm", T::kVarchar}, {"mixedcase", T::kInt32}, {"c30", T::kVarchar}};
  EXPECT_EQ(b.schema(), expected_schema);
  ASSERT_EQ(b.rows(), 2u);
  EXPECT_EQ(b.column(0).ints[0], -32768);
  EXPECT_EQ(b.column(1).ints[0], 2147483647);
  EXPECT_EQ(b.column(2).ints[0], INT64_MIN);
  EXPECT_EQ(b.column(3).doubles[0], 1.5);
  EXPECT_EQ(b.column(4).doubles[0], 0.1);
  EXPECT_EQ(b.column(5).doubles[0], 12345.6789);
  EXPECT_EQ(b.column(6).ints[0], 1);
  EXPECT_EQ(b.column(7).ints[0], Ts("2024-02-29 23:59:59.123456").micros());
  EXPECT_EQ(b.column(8).ints[0], Ts("2024-02-29 23:00:00.5").micros());
  EXPECT_EQ(b.column(9).strings[0], "ab");  // char(10) padding removed
  EXPECT_EQ(b.column(10).strings[0], "héllo wörld ✓ 日本");
  EXPECT_EQ(b.column(11).strings[0], "tail  ");  // text keeps its blanks
  EXPECT_EQ(b.column(12).strings[0], "nm");
  EXPECT_EQ(b.column(13).ints[0], 7);
  EXPECT_EQ(b.column(14).strings[0], "abc def ghij k");
  for (size_t c = 0; c < b.schema().size(); ++c) {
    EXPECT_EQ(b.column(c).valid[0], 1) << b.schema()[c].name;
    EXPECT_EQ(b.column(c).valid[1], b.schema()[c].name == "ts" ? 1 : 0) << b.schema()[c].name;
  }
  EXPECT_EQ(b.column(7).ints[1], Ts("2024-02-29").micros());
}

TEST_F(PgSourceTest, TrimsCharPaddingExceptInKeepPaddingTextPieces) {
  Exec(R"sql(INSERT INTO stl_ddltext VALUES
      (1, 10, 20, 'my label', '2024-05-01 10:00:00', '2024-05-01 10:00:01', 0, 'CREATE TABLE café GROUP '))sql");
  auto source = MakePgSource(Options());
  ReadResult read = ReadAll(*source, *FindRedshiftTable("stl_ddltext"), Ts("2024-05-01"), Ts("2024-05-02"));
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  ASSERT_EQ(read.rows(), 1u);
  const RowBatch& b = read.batches[0];
  EXPECT_EQ(b.column(FindColumn(b.schema(), "label")).strings[0], "my label");
  // char(200) counts characters: 24 of them, then 176 blanks that are content of the piece.
  const std::string piece = "CREATE TABLE café GROUP ";
  EXPECT_EQ(b.column(FindColumn(b.schema(), "text")).strings[0], piece + std::string(200 - 24, ' '));
}

TEST_F(PgSourceTest, StreamsInBatchesOfBatchRows) {
  Exec(R"sql(INSERT INTO stl_query (userid, query, label, xid, pid, database, querytxt, starttime, endtime, aborted)
      SELECT 100, g, 'default', g * 10, 4000 + g % 7, 'dev', 'select ' || g, timestamp '2024-05-01 00:00:00' + g * interval '1 ms',
        timestamp '2024-05-01 00:00:01' + g * interval '1 ms', 0 FROM generate_series(1, 2500) g)sql");
  auto source = MakePgSource(Options());
  ReadResult read = ReadAll(*source, *FindRedshiftTable("stl_query"), Ts("2024-05-01"), Ts("2024-05-02"), 1000);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  std::vector<size_t> sizes;
  std::set<int64_t> queries;
  for (const auto& b : read.batches) {
    sizes.push_back(b.rows());
    for (int64_t q : b.column(1).ints) queries.insert(q);
    EXPECT_EQ(b.schema().size(), FindRedshiftTable("stl_query")->columns.size());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{1000, 1000, 500}));
  EXPECT_EQ(queries.size(), 2500u);
  EXPECT_EQ(*queries.begin(), 1);
  EXPECT_EQ(*queries.rbegin(), 2500);
}

// After the first batch, FETCH asks for about batch_bytes of rows (at least 256): padded
// stl_query rows are ~4.4 KB on the wire, so 1 MB is under 256 of them.
TEST_F(PgSourceTest, SizesLaterBatchesByBytes) {
  Exec(R"sql(INSERT INTO stl_query (userid, query, label, xid, pid, database, querytxt, starttime, endtime, aborted)
      SELECT 100, g, 'default', g * 10, 4000 + g % 7, 'dev', 'select ' || g, timestamp '2024-05-01 00:00:00' + g * interval '1 ms',
        timestamp '2024-05-01 00:00:01' + g * interval '1 ms', 0 FROM generate_series(1, 2500) g)sql");
  auto source = MakePgSource(Options());
  ReadResult read;
  read.status = source->Read({.spec = FindRedshiftTable("stl_query"), .lower = Ts("2024-05-01"), .upper = Ts("2024-05-02"),
                              .batch_rows = 8192, .batch_bytes = 1 << 20},
                             [&](RowBatch& batch) {
                               read.batches.push_back(std::move(batch));
                               return Status::Ok();
                             });
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  std::vector<size_t> sizes;
  for (const auto& b : read.batches) sizes.push_back(b.rows());
  EXPECT_EQ(sizes, (std::vector<size_t>{1024, 256, 256, 256, 256, 256, 196}));
  EXPECT_EQ(read.rows(), 2500u);
}

TEST_F(PgSourceTest, WindowIncludesLowerAndExcludesUpper) {
  Exec(R"sql(INSERT INTO stl_query (query, endtime) VALUES
      (1, '2024-05-01 09:59:59.999999'), (2, '2024-05-01 10:00:00'), (3, '2024-05-01 10:59:59.999999'),
      (4, '2024-05-01 11:00:00'))sql");
  auto source = MakePgSource(Options());
  ReadResult read = ReadAll(*source, *FindRedshiftTable("stl_query"), Ts("2024-05-01 10:00:00"),
                            Ts("2024-05-01 11:00:00"));
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  ASSERT_EQ(read.rows(), 2u);
  const Column& query = read.batches[0].column(1);
  EXPECT_EQ(std::set<int64_t>(query.ints.begin(), query.ints.end()), (std::set<int64_t>{2, 3}));
}

TEST_F(PgSourceTest, EmptyWindowIsSuccessWithNoBatches) {
  auto source = MakePgSource(Options());
  ReadResult read = ReadAll(*source, *FindRedshiftTable("stl_scan"), Ts("2024-05-01"), Ts("2024-05-02"));
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_TRUE(read.batches.empty());
}

TEST_F(PgSourceTest, ChildTableTakesTheRowsOfTheParentsWindow) {
  Exec(R"sql(
    INSERT INTO stl_query (query, starttime, endtime) VALUES
      (1, '2024-05-01 09:00:00', '2024-05-01 10:30:00'),   -- in the window
      (2, '2024-05-01 10:00:00', '2024-05-01 11:30:00');   -- finished after it
    INSERT INTO stl_querytext VALUES
      (100, 7, 8, 1, 0, 'select * from sales GROUP '), (100, 7, 8, 1, 1, 'BY region'),
      (100, 9, 8, 2, 0, 'select 2'), (100, 9, 8, 3, 0, 'no parent row');
  )sql");
  auto source = MakePgSource(Options());
  ReadResult read = ReadAll(*source, *FindRedshiftTable("stl_querytext"), Ts("2024-05-01 10:00:00"),
                            Ts("2024-05-01 11:00:00"));
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  ASSERT_EQ(read.rows(), 2u);
  const RowBatch& b = read.batches[0];
  ASSERT_EQ(b.schema().size(), 7u);
  EXPECT_EQ(b.schema().back(), (ColumnSchema{kPartitionColumn, ColumnType::kTimestamp}));
  std::map<int64_t, std::string> text_by_sequence;
  for (size_t r = 0; r < b.rows(); ++r) {
    EXPECT_EQ(b.column(3).ints[r], 1);  // query
    EXPECT_EQ(b.column(6).ints[r], Ts("2024-05-01 10:30:00").micros());
    text_by_sequence[b.column(4).ints[r]] = b.column(5).strings[r];
  }
  // Pieces keep their blanks, so reassembly does not merge "GROUP" and "BY".
  EXPECT_EQ(text_by_sequence[0], "select * from sales GROUP " + std::string(200 - 26, ' '));
  EXPECT_EQ(text_by_sequence[1].substr(0, 9), "BY region");
}

TEST_F(PgSourceTest, MissingTableIsNotFoundAndTheConnectionStaysUsable) {
  Exec("DROP TABLE stl_scan; INSERT INTO stl_query (query, endtime) VALUES (1, '2024-05-01 10:00:00')");
  auto source = MakePgSource(Options());
  ReadResult missing = ReadAll(*source, *FindRedshiftTable("stl_scan"), Ts("2024-05-01"), Ts("2024-05-02"));
  EXPECT_EQ(missing.status.code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status.message(), HasSubstr("table stl_scan does not exist on cluster test-cluster"));

  ReadResult next = ReadAll(*source, *FindRedshiftTable("stl_query"), Ts("2024-05-01"), Ts("2024-05-02"));
  ASSERT_TRUE(next.status.ok()) << next.status.ToString();
  EXPECT_EQ(next.rows(), 1u);
}

TEST_F(PgSourceTest, WrongPasswordIsPermissionDeniedWithoutThePassword) {
  PgSourceOptions options = Options();
  options.password = "wrong-pw-hunter2";
  auto source = MakePgSource(options);
  Status status = source->Connect();
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(kCluster));
  EXPECT_THAT(status.message(), HasSubstr(fmt::format("127.0.0.1:{}", pg_->port())));
  EXPECT_THAT(status.message(), HasSubstr("password authentication failed"));
  EXPECT_THAT(status.message(), Not(HasSubstr("hunter2")));
}

TEST_F(PgSourceTest, StatementTimeoutIsTimeoutNamingTableClusterAndLimit) {
  PgSourceOptions options = Options();
  options.statement_timeout = Duration::Millis(200);
  auto source = MakePgSource(options);
  const TableSpec spec = CustomSpec("slow_query", "select getdate() as ts, pg_sleep(10) as slept", "ts");
  const auto started = std::chrono::steady_clock::now();
  ReadResult read = ReadAll(*source, spec, Ts("2000-01-01"), Ts("2100-01-01"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(read.status.code(), StatusCode::kTimeout) << read.status.ToString();
  EXPECT_THAT(read.status.message(), HasSubstr("slow_query"));
  EXPECT_THAT(read.status.message(), HasSubstr(kCluster));
  EXPECT_THAT(read.status.message(), HasSubstr("200ms"));
  EXPECT_TRUE(source->Now().ok());  // rolled back; the connection is usable
}

TEST_F(PgSourceTest, CancelFromAnotherThreadIsCancelled) {
  auto source = MakePgSource(Options());
  ASSERT_TRUE(source->Connect().ok());
  const TableSpec spec = CustomSpec("sleepy", "select getdate() as ts, pg_sleep(30) as slept", "ts");
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    source->Cancel();
  });
  const auto started = std::chrono::steady_clock::now();
  ReadResult read = ReadAll(*source, spec, Ts("2000-01-01"), Ts("2100-01-01"));
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(read.status.code(), StatusCode::kCancelled) << read.status.ToString();
  EXPECT_THAT(read.status.message(), HasSubstr("sleepy"));

  Exec("INSERT INTO stl_query (query, endtime) VALUES (1, '2024-05-01 10:00:00')");
  ReadResult next = ReadAll(*source, *FindRedshiftTable("stl_query"), Ts("2024-05-01"), Ts("2024-05-02"));
  ASSERT_TRUE(next.status.ok()) << next.status.ToString();
  EXPECT_EQ(next.rows(), 1u);
}

TEST_F(PgSourceTest, SinkErrorStopsTheReadAndTheConnectionStaysUsable) {
  Exec(R"sql(INSERT INTO stl_query (query, endtime)
      SELECT g, timestamp '2024-05-01 10:00:00' FROM generate_series(1, 50) g)sql");
  auto source = MakePgSource(Options());
  const TableSpec& spec = *FindRedshiftTable("stl_query");
  int calls = 0;
  Status status = source->Read({.spec = &spec, .lower = Ts("2024-05-01"), .upper = Ts("2024-05-02"), .batch_rows = 10},
                               [&](RowBatch&) {
                                 ++calls;
                                 return IoError("disk full");
                               });
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_EQ(calls, 1);
  ReadResult next = ReadAll(*source, spec, Ts("2024-05-01"), Ts("2024-05-02"));
  ASSERT_TRUE(next.status.ok()) << next.status.ToString();
  EXPECT_EQ(next.rows(), 50u);
}

TEST_F(PgSourceTest, NowIsTheSourceClockInUtc) {
  auto source = MakePgSource(Options());
  auto now = source->Now();
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_LT(std::llabs((*now - Timestamp::Now()).micros()), Duration::Seconds(5).micros());
}

// Issue 11: a stock PostgreSQL (kind = "postgres") has no getdate().
TEST_F(PgSourceTest, NowWorksOnStockPostgresqlWithoutGetdate) {
  auto db = pg_->CreateUniqueDatabase("stock");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  PgSourceOptions options = Options();
  options.dsn = pg_->Dsn(*db);
  options.redshift = false;
  auto now = MakePgSource(options)->Now();
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_LT(std::llabs((*now - Timestamp::Now()).micros()), Duration::Seconds(5).micros());
  options.redshift = true;
  EXPECT_FALSE(MakePgSource(options)->Now().ok()) << "the stock database really has no getdate()";
}

TEST_F(PgSourceTest, StoppedServerIsUnavailableAndReconnectsWhenBack) {
  Exec("INSERT INTO stl_query (query, endtime) VALUES (1, '2024-05-01 10:00:00')");
  auto source = MakePgSource(Options());
  ASSERT_TRUE(source->Connect().ok());
  ASSERT_TRUE(pg_->Stop().ok());
  struct Restart {
    PgHarness* pg;
    ~Restart() { EXPECT_TRUE(pg->Start().ok()); }
  } restart{pg_};

  const TableSpec& spec = *FindRedshiftTable("stl_query");
  ReadResult lost = ReadAll(*source, spec, Ts("2024-05-01"), Ts("2024-05-02"));
  EXPECT_EQ(lost.status.code(), StatusCode::kUnavailable) << lost.status.ToString();
  EXPECT_THAT(lost.status.message(), HasSubstr(kCluster));
  Status refused = source->Connect();
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr(fmt::format("127.0.0.1:{}", pg_->port())));

  ASSERT_TRUE(pg_->Start().ok());
  ASSERT_TRUE(source->Connect().ok());
  ReadResult back = ReadAll(*source, spec, Ts("2024-05-01"), Ts("2024-05-02"));
  ASSERT_TRUE(back.status.ok()) << back.status.ToString();
  EXPECT_EQ(back.rows(), 1u);
}

}  // namespace
}  // namespace fleetlog
