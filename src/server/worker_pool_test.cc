// Kept query workers: reuse while the snapshot holds, a new snapshot on commit that neither
// waits for nor changes a running statement, and the cases that must not keep a worker.
#include "server/worker_pool.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "query/format.h"
#include "test_lake.h"

namespace fleetlog {
namespace {

using nlohmann::json;

class WorkerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("fleetlog-pool-" + RandomHex())).string();
    std::filesystem::create_directories(dir_);
    auto state = OpenSqliteStateStore(dir_ + "/state.db", OpenMode::kReadWrite);
    ASSERT_TRUE(state.ok()) << state.status().message();
    state_ = std::move(state).value();
    ASSERT_TRUE(testing::WriteTestLake(dir_ + "/lake", *state_, 120, start_).ok());  // 2 clusters x 120 rows
    pool_ = std::make_unique<WorkerPool>(
        WorkerPoolOptions{.binary = FLEETLOG_BINARY, .lake_root = dir_ + "/lake", .threads = 1}, state_.get());
  }
  void TearDown() override {
    pool_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Commits `rows` more stl_query rows of cluster "gamma".
  void CommitMore(int rows) {
    LakeLayout lake(dir_ + "/lake");
    auto writer = LakeWriter::Open(lake, 64LL << 20, 1);
    ASSERT_TRUE(writer.ok());
    Status s = testing::CommitTestQueries(**writer, *state_, "gamma", rows, start_);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  // Reads one statement's events: its rows (as JSON lines) until `end`; fails on `error`.
  static std::vector<std::string> ReadStatement(QueryProcess& worker, size_t limit = SIZE_MAX) {
    std::vector<std::string> rows;
    for (;;) {
      auto e = worker.Next(1 << 20);
      EXPECT_TRUE(e.ok() && e->has_value()) << (e.ok() ? "the worker ended" : e.status().message());
      if (!e.ok() || !e->has_value()) return rows;
      const WorkerEvent& event = **e;
      if (event.kind == WorkerEvent::Kind::kRow) rows.push_back(event.line);
      EXPECT_NE(event.kind, WorkerEvent::Kind::kError) << event.error.message();
      if (event.kind == WorkerEvent::Kind::kEnd || event.kind == WorkerEvent::Kind::kError || rows.size() >= limit)
        return rows;
    }
  }
  static bool ReadReady(QueryProcess& worker) {
    auto e = worker.Next(1 << 20);
    return e.ok() && e->has_value() && (*e)->kind == WorkerEvent::Kind::kReady;
  }
  // The single value a one-row, one-column statement returned.
  int64_t CountOf(WorkerPool::Lease& lease) {
    auto rows = ReadStatement(*lease.process);
    EXPECT_EQ(rows.size(), 1u);
    return rows.empty() ? -1 : json::parse(rows[0])[0].get<int64_t>();
  }

  std::string dir_;
  Timestamp start_ = *ParseTimestamp("2026-01-10 00:00:00");
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<WorkerPool> pool_;
  WorkgroupConfig wg_{.name = "default", .memory_limit_bytes = 256LL << 20};
};

TEST_F(WorkerPoolTest, KeepsTheWorkerWhileTheSnapshotHolds) {
  const std::vector<std::string> count = {"SELECT count(*) FROM stl_query"};
  auto first = pool_->Acquire(wg_, count);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_TRUE(first->pooled);
  EXPECT_FALSE(first->reused);
  EXPECT_EQ(CountOf(*first), 240);
  ASSERT_TRUE(ReadReady(*first->process));
  pool_->Release(std::move(first).value());
  EXPECT_EQ(pool_->IdleMemory(), wg_.memory_limit_bytes);

  // A failing statement leaves the kept worker usable.
  auto second = pool_->Acquire(wg_, {"SELECT no_such_column FROM stl_query"});
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->reused);
  auto e = second->process->Next(1 << 20);
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((*e)->kind, WorkerEvent::Kind::kError);
  ASSERT_TRUE(ReadReady(*second->process));
  pool_->Release(std::move(second).value());

  auto third = pool_->Acquire(wg_, {"SELECT count(*) FROM stl_query WHERE cluster = 'alpha'"});
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->reused);
  EXPECT_EQ(CountOf(*third), 120);
  EXPECT_EQ(pool_->workers_started(), 1);
}

TEST_F(WorkerPoolTest, CommitDuringARunningStatementNeitherBlocksItNorChangesItsAnswer) {
  // A statement with a large result: its worker blocks on the pipe until it is read.
  auto running = pool_->Acquire(wg_, {"SELECT q.cluster, q.query, r.i FROM stl_query q, range(1000) r(i)"});
  ASSERT_TRUE(running.ok()) << running.status().message();
  ASSERT_EQ(ReadStatement(*running->process, 10).size(), 10u);  // it is running, mid-result

  CommitMore(30);  // returns while the statement runs: nothing waits for it

  // A new statement sees the commit, in a worker over the new snapshot.
  auto after = pool_->Acquire(wg_, {"SELECT count(*) FROM stl_query"});
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->reused);
  EXPECT_GT(after->generation, running->generation);
  EXPECT_EQ(CountOf(*after), 270);
  ASSERT_TRUE(ReadReady(*after->process));

  // The running statement answers from the snapshot it started with.
  EXPECT_EQ(ReadStatement(*running->process).size() + 10, 240u * 1000u);
  ASSERT_TRUE(ReadReady(*running->process));
  pool_->Release(std::move(running).value());  // an older snapshot: not kept
  EXPECT_EQ(pool_->IdleMemory(), 0);
  pool_->Release(std::move(after).value());
  EXPECT_EQ(pool_->IdleMemory(), wg_.memory_limit_bytes);
  EXPECT_EQ(pool_->workers_started(), 2);

  // A change that leaves the published files as they were keeps the generation and worker.
  ASSERT_TRUE(state_->PutValue("unrelated", "x").ok());
  auto again = pool_->Acquire(wg_, {"SELECT count(*) FROM stl_query"});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(CountOf(*again), 270);
}

// A commit leaves a warm-up for each workgroup whose recently used worker it replaced, once
// the snapshot has settled: a worker made with no statements, starting the same copies,
// that the next statement reuses. A workgroup not used within the window is not warmed.
TEST_F(WorkerPoolTest, ACommitWarmsUpAWorkerForTheWorkgroupsUsedRecently) {
  const std::vector<std::string> count = {"SELECT count(*) FROM stl_query"};
  // Takes a warm-up's worker to its `ready`, returning the copies it reports, and keeps it.
  const auto warm = [&](const WorkerPool::WarmUp& w) {
    auto lease = pool_->Acquire(wg_, {}, w.copies);
    EXPECT_TRUE(lease.ok()) << lease.status().message();
    for (;;) {
      auto e = lease->process->Next(1 << 20);
      EXPECT_TRUE(e.ok() && e->has_value());
      if (!e.ok() || !e->has_value()) return std::vector<std::string>{};
      EXPECT_TRUE((*e)->kind == WorkerEvent::Kind::kConfined || (*e)->kind == WorkerEvent::Kind::kReady);
      if ((*e)->kind != WorkerEvent::Kind::kReady) continue;
      lease->copies = (*e)->copies;
      lease->used = w.used;
      pool_->Release(std::move(lease).value());
      return (*e)->copies;
    }
  };

  auto first = pool_->Acquire(wg_, count);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(CountOf(*first), 240);
  auto ready = first->process->Next(1 << 20);
  ASSERT_TRUE(ready.ok() && ready->has_value() && (*ready)->kind == WorkerEvent::Kind::kReady);
  EXPECT_EQ((*ready)->copies, std::vector<std::string>{"stl_query"});  // the small table, kept
  first->copies = (*ready)->copies;
  pool_->Release(std::move(first).value());
  EXPECT_TRUE(pool_->TakeWarmUps().empty());  // no new snapshot

  CommitMore(30);
  EXPECT_TRUE(pool_->TakeWarmUps().empty());  // it changed in this call: not settled
  auto due = pool_->TakeWarmUps();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].workgroup, "default");
  EXPECT_EQ(due[0].memory, wg_.memory_limit_bytes);
  EXPECT_EQ(due[0].copies, std::vector<std::string>{"stl_query"});
  EXPECT_TRUE(pool_->TakeWarmUps().empty());                       // each once
  EXPECT_EQ(warm(due[0]), std::vector<std::string>{"stl_query"});  // started as it opened
  EXPECT_EQ(pool_->workers_started(), 2);

  // The next statement is the warmed worker's, over the new snapshot.
  auto second = pool_->Acquire(wg_, count);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->reused);
  EXPECT_EQ(CountOf(*second), 270);
  ASSERT_TRUE(ReadReady(*second->process));
  pool_->Release(std::move(second).value());

  // A worker still running when a new snapshot is loaded leaves its warm-up when it is
  // handed back.
  auto running = pool_->Acquire(wg_, count);
  ASSERT_TRUE(running.ok());
  CommitMore(30);
  ASSERT_TRUE(pool_->Snapshot().ok());
  EXPECT_EQ(CountOf(*running), 270);
  ASSERT_TRUE(ReadReady(*running->process));
  pool_->Release(std::move(running).value());
  due = pool_->TakeWarmUps();
  ASSERT_EQ(due.size(), 1u);
  warm(due[0]);

  // A warmed worker nobody used is warmed again while its workgroup's last statement is recent.
  CommitMore(30);
  EXPECT_TRUE(pool_->TakeWarmUps().empty());
  EXPECT_EQ(pool_->TakeWarmUps().size(), 1u);

  // Not when the workgroup's last statement is older than the window.
  pool_ = std::make_unique<WorkerPool>(
      WorkerPoolOptions{
          .binary = FLEETLOG_BINARY, .lake_root = dir_ + "/lake", .threads = 1, .warm_while_used_within = {}},
      state_.get());
  auto old = pool_->Acquire(wg_, count);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(CountOf(*old), 330);
  ASSERT_TRUE(ReadReady(*old->process));
  pool_->Release(std::move(old).value());
  CommitMore(30);
  EXPECT_TRUE(pool_->TakeWarmUps().empty());
  EXPECT_TRUE(pool_->TakeWarmUps().empty());
}

TEST_F(WorkerPoolTest, KeptWorkersSkipFilesPerStatementAndACommitChangesNoRunningAnswer) {
  // Workers that keep no table in memory: a kept table is read whole, never skipped.
  pool_ = std::make_unique<WorkerPool>(WorkerPoolOptions{.binary = FLEETLOG_BINARY,
                                                         .lake_root = dir_ + "/lake",
                                                         .threads = 1,
                                                         .cursor_columns = {{"stl_query", "endtime"}},
                                                         .kept_table_bytes = 0},
                                       state_.get());
  // Its statement's `end` event: the rows, and how many files the worker did not read.
  const auto finish = [](WorkerPool::Lease& lease) {
    std::vector<std::string> rows;
    for (;;) {
      auto e = lease.process->Next(1 << 20);
      EXPECT_TRUE(e.ok() && e->has_value());
      if (!e.ok() || !e->has_value()) return std::make_pair(rows, int64_t{-1});
      EXPECT_NE((*e)->kind, WorkerEvent::Kind::kError) << (*e)->error.message();
      if ((*e)->kind == WorkerEvent::Kind::kRow) rows.push_back((*e)->line);
      if ((*e)->kind == WorkerEvent::Kind::kEnd) return std::make_pair(rows, (*e)->skipped_files);
      if ((*e)->kind == WorkerEvent::Kind::kError) return std::make_pair(rows, int64_t{-1});
    }
  };
  const auto ask = [&](const std::string& sql) {
    auto lease = pool_->Acquire(wg_, {sql});
    EXPECT_TRUE(lease.ok()) << lease.status().message();
    auto answer = finish(*lease);
    EXPECT_TRUE(ReadReady(*lease->process));
    pool_->Release(std::move(lease).value());
    return answer;
  };
  // alpha and beta hold queries 1..120 in one file each.
  EXPECT_EQ(ask("SELECT cluster FROM stl_query WHERE query = 50 ORDER BY 1"),
            std::make_pair(std::vector<std::string>{R"(["alpha"])", R"(["beta"])"}, int64_t{0}));
  EXPECT_EQ(ask("SELECT count(*) FROM stl_query WHERE query IN (121, 5000)").first, std::vector<std::string>{"[0]"});

  // A statement over queries 101..120 with a large result runs, mid-result, while gamma's
  // queries 1..30 are committed.
  auto running = pool_->Acquire(wg_, {"SELECT q.cluster, q.query, r.i FROM stl_query q, range(1000) r(i) "
                                      "WHERE q.query > 100"});
  ASSERT_TRUE(running.ok()) << running.status().message();
  ASSERT_EQ(ReadStatement(*running->process, 10).size(), 10u);
  CommitMore(30);

  // New statements see the commit, and skip gamma's file when it cannot hold their rows, or
  // alpha's and beta's when they ask for gamma's.
  EXPECT_EQ(ask("SELECT cluster FROM stl_query WHERE query = 50 ORDER BY 1"),
            std::make_pair(std::vector<std::string>{R"(["alpha"])", R"(["beta"])"}, int64_t{1}));
  EXPECT_EQ(ask("SELECT cluster FROM stl_query WHERE query BETWEEN 29 AND 30 AND cluster = 'gamma' ORDER BY 1"),
            std::make_pair(std::vector<std::string>{R"(["gamma"])", R"(["gamma"])"}, int64_t{2}));
  EXPECT_EQ(ask("SELECT count(*) FROM stl_query").first, std::vector<std::string>{"[270]"});

  // The running statement answers from the snapshot it started with, neither blocked nor changed.
  auto [rest, skipped] = finish(*running);
  EXPECT_EQ(rest.size() + 10, 2u * 20u * 1000u);
  EXPECT_EQ(skipped, 0);
  ASSERT_TRUE(ReadReady(*running->process));
}

TEST_F(WorkerPoolTest, ScanLimitedWorkgroupsGetAWorkerPerStatement) {
  WorkgroupConfig limited = wg_;
  limited.name = "limited";
  limited.max_scan_bytes = 1;  // below the lake: the bound must be the statement's tables
  auto lease = pool_->Acquire(limited, {"SELECT 42"});
  ASSERT_TRUE(lease.ok());
  EXPECT_FALSE(lease->pooled);
  EXPECT_EQ(CountOf(*lease), 42);  // names no table, so it reads nothing
  ASSERT_TRUE(ReadReady(*lease->process));
  pool_->Release(std::move(lease).value());
  EXPECT_EQ(pool_->IdleMemory(), 0);

  auto over = pool_->Acquire(limited, {"SELECT count(*) FROM stl_query"});
  ASSERT_TRUE(over.ok());
  auto e = over->process->Next(1 << 20);
  while (e.ok() && e->has_value() && (*e)->kind == WorkerEvent::Kind::kConfined) e = over->process->Next(1 << 20);
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((*e)->kind, WorkerEvent::Kind::kError);
  EXPECT_EQ((*e)->error.code(), StatusCode::kResourceExhausted);
}

TEST_F(WorkerPoolTest, EvictsIdleWorkersOnRequest) {
  auto lease = pool_->Acquire(wg_, {"SELECT 1"});
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(CountOf(*lease), 1);
  ASSERT_TRUE(ReadReady(*lease->process));
  pool_->Release(std::move(lease).value());
  EXPECT_EQ(pool_->IdleMemory(), wg_.memory_limit_bytes);
  EXPECT_TRUE(pool_->EvictIdle());
  EXPECT_FALSE(pool_->EvictIdle());
  EXPECT_EQ(pool_->IdleMemory(), 0);
}

// The engine a kept worker holds answers as a fresh engine reading every file: each query,
// run first on a new worker and then on the same worker kept, against a plain in-process
// engine over the same snapshot.
TEST_F(WorkerPoolTest, KeptEnginesAnswerAsAPlainScan) {
  ASSERT_TRUE(testing::WriteDashboardLake(dir_ + "/lake", *state_, {"gamma", "delta"}, 48,
                                          *ParseTimestamp("2026-01-12 00:00:00"), 300).ok());
  const std::string end = "TIMESTAMP '2026-01-12 00:00:00'";
  const std::vector<std::string> queries = {
      "SELECT cluster, date_trunc('hour', endtime) AS hour, count(*) AS queries FROM stl_query "
      "WHERE endtime >= " + end + " - INTERVAL '1 day' GROUP BY 1, 2 ORDER BY 1, 2",
      "WITH top AS (SELECT cluster, query, starttime, endtime - starttime AS duration FROM stl_query "
      "WHERE endtime >= " + end + " - INTERVAL '1 day' ORDER BY duration DESC, cluster, query LIMIT 20) "
      "SELECT top.*, left(t.text, 100) AS text FROM top LEFT JOIN (SELECT cluster, query, string_agg(text, '' ORDER BY "
      "sequence) AS text FROM stl_querytext WHERE query IN (SELECT query FROM top) GROUP BY 1, 2) t USING (cluster, query) "
      "ORDER BY duration DESC, cluster, query",
      "SELECT cluster, service_class, CAST(service_class_end_time AS DATE) AS day, count(*) AS queries, "
      "quantile_cont(total_queue_time, 0.95) / 1e6 AS p95_wait_s FROM stl_wlm_query GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
      "SELECT split_part(trim(event), ':', 1) AS event, count(*) AS alerts, count(DISTINCT cluster) AS clusters "
      "FROM stl_alert_event_log GROUP BY 1 ORDER BY 2 DESC, 1",
      "SELECT text FROM stl_querytext_full WHERE cluster = 'gamma' AND query = 17",
      "SELECT q.query, q.endtime, w.service_class, w.total_queue_time, left(q.querytxt, 60) AS statement "
      "FROM stl_query q LEFT JOIN stl_wlm_query w ON w.cluster = q.cluster AND w.query = q.query "
      "WHERE q.cluster = 'delta' AND q.endtime >= " + end + " - INTERVAL '2 hours' ORDER BY 1, 2",
  };
  auto snapshot = LoadLakeSnapshot(state_.get());
  ASSERT_TRUE(snapshot.ok());
  auto plain = QueryEngine::Open({.lake_root = dir_ + "/lake", .memory_limit_bytes = 256LL << 20, .threads = 1},
                                 *snapshot);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  for (const auto& sql : queries) {
    auto expected = (*plain)->Run(sql);
    ASSERT_TRUE(expected.ok()) << sql << ": " << expected.status().message();
    std::vector<duckdb_type> types;
    for (size_t c = 0; c < expected->column_count(); ++c) types.push_back(expected->column_type(c));
    std::vector<std::string> want(expected->row_count());
    for (size_t r = 0; r < want.size(); ++r) AppendRowJson(*expected, r, types, &want[r]);
    ASSERT_FALSE(want.empty()) << sql;
    for (int run = 0; run < 2; ++run) {
      auto lease = pool_->Acquire(wg_, {sql});
      ASSERT_TRUE(lease.ok());
      EXPECT_EQ(lease->reused, run > 0 || sql != queries.front()) << sql;  // only the very first starts one
      EXPECT_EQ(ReadStatement(*lease->process), want) << sql;
      ASSERT_TRUE(ReadReady(*lease->process));
      pool_->Release(std::move(lease).value());
    }
  }
  EXPECT_EQ(pool_->workers_started(), 1);
}

}  // namespace
}  // namespace fleetlog
