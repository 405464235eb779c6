// The statements API end to end over HTTP: status transitions, results and paging, cancel,
// idempotency, expiry and the result cap.
#include "api_test_fixture.h"

namespace fleetlog::testing {
namespace {

TEST_F(ApiTest, EveryStatusTransition) {
  StartServer();
  gate_.Close();
  const std::string slow = Submit({{"sql", kLongSql}, {"workgroup", "small"}, {"name", "slow"}});
  WaitFor(slow, "PICKED");
  const std::string quick = Submit({{"sql", "SELECT 42 AS answer"}, {"workgroup", "small"}});
  EXPECT_EQ(Describe(quick)["status"], "SUBMITTED");  // the workgroup's one slot is taken
  gate_.Open();
  WaitFor(slow, "STARTED");
  EXPECT_EQ(Describe(quick)["status"], "SUBMITTED");
  auto [status, body] = Post("/v1/statements/" + slow + "/cancel", "");
  EXPECT_EQ(status, 200) << body.dump();
  json aborted = WaitFor(slow);
  EXPECT_EQ(aborted["status"], "ABORTED");
  EXPECT_GT(aborted["duration_ns"].get<int64_t>(), 0);

  json finished = WaitFor(quick);
  EXPECT_EQ(finished["status"], "FINISHED");
  EXPECT_GT(finished["queue_ns"].get<int64_t>(), 0);  // waited for the slow one
  EXPECT_EQ(finished["result_rows"], 1);
  EXPECT_EQ(finished["has_result_set"], true);
  EXPECT_GT(finished["result_bytes"].get<int64_t>(), 0);
  EXPECT_EQ(finished["error"], "");
  EXPECT_LE(finished["created_at"].get<std::string>(), finished["updated_at"].get<std::string>());

  json failed = WaitFor(Submit({{"sql", "SELECT no_such_column FROM stl_query"}}));
  EXPECT_EQ(failed["status"], "FAILED");
  EXPECT_NE(failed["error"].get<std::string>().find("no_such_column"), std::string::npos) << failed.dump();
  EXPECT_EQ(failed["has_result_set"], false);

  // A queued statement can be cancelled before it starts.
  gate_.Close();
  const std::string a = Submit({{"sql", "SELECT 1"}, {"workgroup", "small"}});
  WaitFor(a, "PICKED");
  const std::string b = Submit({{"sql", "SELECT 2"}, {"workgroup", "small"}});
  EXPECT_EQ(Post("/v1/statements/" + b + "/cancel", "").first, 200);
  EXPECT_EQ(Describe(b)["status"], "ABORTED");
  gate_.Open();
  EXPECT_EQ(WaitFor(a)["status"], "FINISHED");
  EXPECT_EQ(Post("/v1/statements/" + a + "/cancel", "").first, 400);  // already over
}

// A long poll (GET /v1/statements/{id}?wait=D) answers when the statement ends. The gate
// holds the statement at PICKED while the poll is sent: without the long poll the answer
// would be PICKED.
TEST_F(ApiTest, LongPollAnswersWhenTheStatementEnds) {
  StartServer();
  gate_.Close();
  const std::string id = Submit({{"sql", "SELECT 42 AS answer"}});
  WaitFor(id, "PICKED");
  std::pair<int, json> polled;
  std::thread poll([&] {
    httplib::Client other("127.0.0.1", server_->port());
    other.set_read_timeout(60, 0);
    auto res = other.Get(("/v1/statements/" + id + "?wait=30s").c_str(), Auth());
    if (res) polled = {res->status, json::parse(res->body, nullptr, false)};
    else polled = {-1, json()};
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  gate_.Open();
  poll.join();
  ASSERT_EQ(polled.first, 200) << polled.second.dump();
  EXPECT_EQ(polled.second["status"], "FINISHED");
  EXPECT_EQ(polled.second["result_rows"], 1);

  // An ended statement answers at once; so does a sub-statement of a batch, when it ends.
  EXPECT_EQ(Get("/v1/statements/" + id + "?wait=30s").second["status"], "FINISHED");
  auto [status, batch] = Post("/v1/statements/batch", json{{"sqls", {"SELECT 1", "SELECT 2"}}}.dump());
  ASSERT_EQ(status, 200) << batch.dump();
  const std::string batch_id = batch["id"];
  EXPECT_EQ(Get("/v1/statements/" + batch_id + ":2?wait=30s").second["status"], "FINISHED");
  EXPECT_EQ(Get("/v1/statements/" + batch_id + "?wait=30s").second["status"], "FINISHED");
}

TEST_F(ApiTest, LongPollEndsWithItsWaitAndRefusesBadWaits) {
  StartServer();
  gate_.Close();
  const std::string id = Submit({{"sql", "SELECT 1"}});
  WaitFor(id, "PICKED");
  auto [status, body] = Get("/v1/statements/" + id + "?wait=100ms");
  EXPECT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["status"], "PICKED");  // the wait passed first
  for (const char* bad : {"forever", "31s", "-1s"}) {
    auto [bad_status, bad_body] = Get("/v1/statements/" + id + "?wait=" + bad);
    EXPECT_EQ(bad_status, 400) << bad << ": " << bad_body.dump();
    EXPECT_NE(bad_body.value("error", "").find("wait"), std::string::npos) << bad_body.dump();
  }
  EXPECT_EQ(Get("/v1/statements/no-such-id?wait=1s").first, 404);
  gate_.Open();
  EXPECT_EQ(WaitFor(id)["status"], "FINISHED");
}

// The result takes the same wait: it answers with the first page once the statement ends,
// in the round trip that learns of the end, and as it would now when the wait passes first.
TEST_F(ApiTest, ResultLongPollAnswersWithTheRowsWhenTheStatementEnds) {
  StartServer();
  const auto held_result = [&](const std::string& query) {
    gate_.Close();
    const std::string id = Submit({{"sql", "SELECT 42 AS answer"}});
    WaitFor(id, "PICKED");
    std::pair<int, std::string> got{-1, ""};
    std::thread poll([&] {
      httplib::Client other("127.0.0.1", server_->port());
      other.set_read_timeout(60, 0);
      auto res = other.Get(("/v1/statements/" + id + "/result?wait=30s" + query).c_str(), Auth());
      if (res) got = {res->status, res->body};
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(Describe(id)["status"], "PICKED");  // the poll was sent before the end
    gate_.Open();
    poll.join();
    return got;
  };
  auto [status, body] = held_result("");
  ASSERT_EQ(status, 200) << body;
  const json page = json::parse(body);
  EXPECT_EQ(page["records"], json::parse("[[42]]")) << body;
  EXPECT_EQ(page["total_rows"], 1);
  auto [csv_status, csv] = held_result("&format=csv");
  EXPECT_EQ(csv_status, 200) << csv;
  EXPECT_EQ(csv, "answer\r\n42\r\n");

  gate_.Close();
  const std::string held = Submit({{"sql", "SELECT 1"}});
  WaitFor(held, "PICKED");
  auto [early, early_body] = Get("/v1/statements/" + held + "/result?wait=100ms");
  EXPECT_EQ(early, 400) << early_body.dump();  // the wait passed first: not FINISHED yet
  EXPECT_NE(early_body.value("error", "").find("once it is FINISHED"), std::string::npos) << early_body.dump();
  EXPECT_EQ(Get("/v1/statements/" + held + "/result?wait=31s").first, 400);
  EXPECT_EQ(Get("/v1/statements/no-such-id/result?wait=1s").first, 404);
  gate_.Open();
  const std::string failed = Submit({{"sql", "SELECT no_such_column FROM stl_query"}});
  auto [failed_status, failed_body] = Get("/v1/statements/" + failed + "/result?wait=30s");
  EXPECT_EQ(failed_status, 400) << failed_body.dump();
  EXPECT_NE(failed_body.value("error", "").find("FAILED"), std::string::npos) << failed_body.dump();
  EXPECT_EQ(WaitFor(held)["status"], "FINISHED");
}

// Stopping the server answers the long polls it holds; it neither waits for their waits nor
// hangs in the HTTP library, which may not stop with a request parked.
TEST_F(ApiTest, StoppingTheServerAnswersParkedLongPolls) {
  StartServer();
  const std::string id = Submit({{"sql", kLongSql}});
  WaitFor(id, "STARTED");
  std::vector<std::thread> polls;
  std::atomic<int> answered{0};
  for (int i = 0; i < 3; ++i) {
    polls.emplace_back([&] {
      httplib::Client other("127.0.0.1", server_->port());
      other.set_read_timeout(60, 0);
      auto res = other.Get(("/v1/statements/" + id + "?wait=30s").c_str(), Auth());
      // Answered with the statement's status, or cut as the server closed: either way not held.
      if (!res || res->status == 200) answered++;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server_->Stop();
  for (auto& t : polls) t.join();
  EXPECT_EQ(answered.load(), 3);
}

TEST_F(ApiTest, ResultPagesCarryColumnsAndTotals) {
  StartServer();
  const std::string id = Submit({{"sql", "SELECT i, 'r' || i AS label, NULL AS nothing FROM range(25) t(i) ORDER BY i"}});
  ASSERT_EQ(WaitFor(id)["status"], "FINISHED");
  std::vector<int64_t> seen;
  std::string path = "/v1/statements/" + id + "/result";
  int pages = 0;
  while (true) {
    auto [status, page] = Get(path);
    ASSERT_EQ(status, 200) << page.dump();
    ASSERT_EQ(page["columns"].size(), 3u);
    EXPECT_EQ(page["columns"][0], (json{{"name", "i"}, {"type", "BIGINT"}}));
    EXPECT_EQ(page["total_rows"], 25);
    for (const auto& r : page["records"]) {
      seen.push_back(r[0].get<int64_t>());
      EXPECT_EQ(r[1], "r" + std::to_string(r[0].get<int64_t>()));
      EXPECT_TRUE(r[2].is_null());
    }
    ++pages;
    if (!page.contains("next_token")) break;
    path = "/v1/statements/" + id + "/result?next_token=" + page["next_token"].get<std::string>();
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  for (int64_t i = 0; i < 25; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i);
  EXPECT_EQ(Get("/v1/statements/" + id + "/result?next_token=bogus").first, 400);

  auto csv = client_->Get(("/v1/statements/" + id + "/result?format=csv").c_str());
  ASSERT_TRUE(csv);
  EXPECT_EQ(csv->status, 200);
  EXPECT_EQ(csv->body.substr(0, 31), "i,label,nothing\r\n0,r0,\r\n1,r1,\r\n");
  EXPECT_EQ(std::count(csv->body.begin(), csv->body.end(), '\n'), 26);
}

TEST_F(ApiTest, NestedValuesComeBackAsTextWithTheirTypes) {
  StartServer();
  const std::string id = Submit({{"sql", "SELECT [1, 2] AS l, {'a': 1} AS s, 'y'::ENUM('x', 'y') AS e, 3 AS n"}});
  ASSERT_EQ(WaitFor(id)["status"], "FINISHED");
  const json page = Get("/v1/statements/" + id + "/result").second;
  EXPECT_EQ(page["records"], (json{{"[1, 2]", "{'a': 1}", "y", 3}}));
  EXPECT_EQ(page["columns"][0]["type"], "LIST");
  EXPECT_EQ(page["columns"][2]["type"], "ENUM");
  EXPECT_EQ(page["columns"][3]["type"], "INTEGER");
}

TEST_F(ApiTest, EmptyResultIsOnePage) {
  StartServer();
  const std::string id = Submit({{"sql", "SELECT * FROM stl_query WHERE false"}});
  ASSERT_EQ(WaitFor(id)["status"], "FINISHED");
  auto [status, page] = Get("/v1/statements/" + id + "/result");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(page["records"], json::array());
  EXPECT_EQ(page["total_rows"], 0);
  EXPECT_FALSE(page.contains("next_token"));
}

TEST_F(ApiTest, ParametersAreBoundAsLiterals) {
  StartServer();
  json request = {{"sql", "SELECT :who AS who, :n + 1 AS n, count(*) AS c FROM stl_query WHERE cluster = :cluster"},
                  {"parameters", {{{"name", "who"}, {"value", "x'); DROP TABLE t; --"}},
                                  {{"name", "n"}, {"value", 41}},
                                  {{"name", "cluster"}, {"value", "alpha"}}}}};
  const std::string id = Submit(request);
  ASSERT_EQ(WaitFor(id)["status"], "FINISHED") << Describe(id).dump();
  auto [status, page] = Get("/v1/statements/" + id + "/result");
  EXPECT_EQ(page["records"][0], (json{"x'); DROP TABLE t; --", 42, 120}));
  EXPECT_EQ(Post("/v1/statements", json{{"sql", "SELECT :missing"}}.dump()).first, 400);
  EXPECT_EQ(Post("/v1/statements", json{{"sql", "SELECT 1"}, {"parameters", {{{"name", "unused"}, {"value", 1}}}}}.dump()).first, 400);
  EXPECT_EQ(Post("/v1/statements", json{{"sql", "SELECT :n"}, {"parameters", {{{"name", "n"}, {"value", {1}}}}}}.dump()).first, 400);
}

TEST_F(ApiTest, CancelInterruptsALongQuery) {
  StartServer();
  const std::string id = Submit({{"sql", kLongSql}});
  WaitFor(id, "STARTED");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_EQ(Post("/v1/statements/" + id + "/cancel", "").first, 200);
  json d = WaitFor(id);
  EXPECT_EQ(d["status"], "ABORTED");
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(5));
  EXPECT_EQ(Get("/v1/statements/" + id + "/result").first, 400);
}

TEST_F(ApiTest, ClientTokenMakesSubmissionIdempotent) {
  StartServer();
  json request = {{"sql", "SELECT 1"}, {"client_token", "abc-123"}};
  const std::string first = Submit(request);
  EXPECT_EQ(Submit(request), first);
  request["sql"] = "SELECT 2";
  EXPECT_EQ(Post("/v1/statements", request.dump()).first, 400);
  request["client_token"] = "other";
  EXPECT_NE(Submit(request), first);
}

TEST_F(ApiTest, ResultsExpireAfterTheirTtl) {
  StartServer();
  const std::string id = Submit({{"sql", "SELECT 1 AS one"}});
  ASSERT_EQ(WaitFor(id)["status"], "FINISHED");
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/results/" + id));
  clock_.offset_us = Duration::Hours(23).micros();
  EXPECT_EQ(server_->statements().ExpireResults(), 0);
  EXPECT_EQ(Get("/v1/statements/" + id + "/result").first, 200);
  clock_.offset_us = Duration::Hours(25).micros();
  EXPECT_EQ(server_->statements().ExpireResults(), 1);
  EXPECT_EQ(Get("/v1/statements/" + id).first, 404);
  EXPECT_EQ(Get("/v1/statements/" + id + "/result").first, 404);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/results/" + id));
}

TEST_F(ApiTest, ResultOverTheCapFailsTheStatement) {
  ServerOptions o = DefaultOptions();
  o.server.result_cap_bytes = 1000;
  StartServer(std::move(o));
  json d = WaitFor(Submit({{"sql", "SELECT i FROM range(10000) t(i)"}}));
  EXPECT_EQ(d["status"], "FAILED");
  EXPECT_NE(d["error"].get<std::string>().find("result cap of 1000 bytes"), std::string::npos) << d.dump();
  EXPECT_EQ(WaitFor(Submit({{"sql", "SELECT i FROM range(10) t(i)"}}))["status"], "FINISHED");
}

TEST_F(ApiTest, BatchRunsInOrderAndStopsAtTheFirstFailure) {
  StartServer();
  auto [status, body] = Post("/v1/statements/batch", json{{"sqls", {"SELECT 1 AS a", "SELECT 'two' AS b"}}}.dump());
  ASSERT_EQ(status, 200) << body.dump();
  const std::string id = body["id"];
  json d = WaitFor(id);
  EXPECT_EQ(d["status"], "FINISHED");
  EXPECT_EQ(d["is_batch"], true);
  ASSERT_EQ(d["sub_statements"].size(), 2u);
  EXPECT_EQ(d["sub_statements"][1]["id"], id + ":2");
  EXPECT_EQ(Get("/v1/statements/" + id + ":2/result").second["records"], (json{{"two"}}));
  // As the dashboard asks for it, with the id percent-encoded (encodeURIComponent).
  EXPECT_EQ(Get("/v1/statements/" + id + "%3A2/result").second["records"], (json{{"two"}}));
  EXPECT_EQ(Get("/v1/statements/" + id + ":2").second["status"], "FINISHED");
  EXPECT_EQ(Get("/v1/statements/" + id + "/result").first, 400);
  EXPECT_EQ(Get("/v1/statements/" + id + ":3").first, 404);

  auto failing = Post("/v1/statements/batch", json{{"sqls", {"SELECT 1", "SELECT nope", "SELECT 3"}}}.dump());
  json f = WaitFor(failing.second["id"]);
  EXPECT_EQ(f["status"], "FAILED");
  EXPECT_EQ(f["sub_statements"][0]["status"], "FINISHED");
  EXPECT_EQ(f["sub_statements"][1]["status"], "FAILED");
  EXPECT_EQ(f["sub_statements"][2]["status"], "ABORTED");
}

TEST_F(ApiTest, StatementsReuseWorkersUntilACommitWhichDoesNotWaitForRunningOnes) {
  StartServer();
  const std::string count = "SELECT count(*) AS n FROM stl_query";
  for (int i = 0; i < 3; ++i) {
    const std::string id = Submit({{"sql", count}});
    ASSERT_EQ(WaitFor(id)["status"], "FINISHED");
    EXPECT_EQ(Get("/v1/statements/" + id + "/result").second["records"], (json{{240}}));
  }
  EXPECT_EQ(server_->statements().WorkersStarted(), 1);  // one worker served all three

  // A batch whose first statement has answered and whose second runs until cancelled.
  auto [status, body] = Post("/v1/statements/batch", json{{"sqls", {count, kLongSql}}}.dump());
  ASSERT_EQ(status, 200) << body.dump();
  const std::string running = body["id"];
  ASSERT_EQ(WaitFor(running + ":1", "FINISHED")["status"], "FINISHED");

  // The commit returns while the batch runs; new statements see it at once, in new workers.
  LakeLayout lake(dir_ + "/lake");
  auto writer = LakeWriter::Open(lake, 64LL << 20, 1);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(CommitTestQueries(**writer, *state_, "gamma", 30, *ParseTimestamp("2026-01-10 00:00:00")).ok());
  const std::string after = Submit({{"sql", count}});
  ASSERT_EQ(WaitFor(after)["status"], "FINISHED");
  EXPECT_EQ(Get("/v1/statements/" + after + "/result").second["records"], (json{{270}}));

  // The batch still runs: the commit neither waited for it nor stopped it. (That a running
  // statement's answer is its own snapshot's: WorkerPoolTest.CommitDuringARunningStatement...)
  EXPECT_EQ(Describe(running + ":2")["status"], "STARTED");
  EXPECT_EQ(Post("/v1/statements/" + running + "/cancel", "").first, 200);
  EXPECT_EQ(WaitFor(running)["status"], "ABORTED");
  const std::string last = Submit({{"sql", count}});
  ASSERT_EQ(WaitFor(last)["status"], "FINISHED");
  EXPECT_EQ(Get("/v1/statements/" + last + "/result").second["records"], (json{{270}}));
}

// After a commit the server makes a worker ready over the new snapshot for a workgroup that
// used one, so the next statement does not wait for a process and an engine to start.
TEST_F(ApiTest, ACommitWarmsUpAWorkerForTheNextStatement) {
  StartServer();
  const std::string count = "SELECT count(*) AS n FROM stl_query";
  ASSERT_EQ(WaitFor(Submit({{"sql", count}}))["status"], "FINISHED");
  const auto warm_ups = [&] {
    for (const auto& [config, counters] : server_->statements().WorkgroupStats())
      if (config.name == "default") return counters.warm_ups;
    return int64_t{-1};
  };
  EXPECT_EQ(warm_ups(), 0);

  LakeLayout lake(dir_ + "/lake");
  auto writer = LakeWriter::Open(lake, 64LL << 20, 1);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(CommitTestQueries(**writer, *state_, "gamma", 30, *ParseTimestamp("2026-01-10 00:00:00")).ok());
  for (int i = 0; i < 300 && warm_ups() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(warm_ups(), 1);
  EXPECT_EQ(server_->statements().WorkersStarted(), 2);

  const std::string after = Submit({{"sql", count}});
  ASSERT_EQ(WaitFor(after)["status"], "FINISHED");
  EXPECT_EQ(Get("/v1/statements/" + after + "/result").second["records"], (json{{270}}));
  EXPECT_EQ(server_->statements().WorkersStarted(), 2);  // the warmed worker answered
}

// A warm-up takes only memory the budget has room for: with a budget below one worker's
// memory (one statement may still run alone), a commit warms nothing.
TEST_F(ApiTest, AWarmUpNeedsRoomInTheMemoryBudget) {
  ServerOptions options = DefaultOptions();
  options.server.memory_budget_bytes = options.workgroups[0].memory_limit_bytes - 1;
  StartServer(std::move(options));
  const std::string count = "SELECT count(*) AS n FROM stl_query";
  ASSERT_EQ(WaitFor(Submit({{"sql", count}}))["status"], "FINISHED");
  LakeLayout lake(dir_ + "/lake");
  auto writer = LakeWriter::Open(lake, 64LL << 20, 1);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(CommitTestQueries(**writer, *state_, "gamma", 30, *ParseTimestamp("2026-01-10 00:00:00")).ok());
  std::this_thread::sleep_for(std::chrono::seconds(4));  // the warm loop's ticks: it settles, then would warm
  for (const auto& [config, counters] : server_->statements().WorkgroupStats()) EXPECT_EQ(counters.warm_ups, 0);
  EXPECT_EQ(server_->statements().WorkersStarted(), 1);
  const std::string after = Submit({{"sql", count}});
  ASSERT_EQ(WaitFor(after)["status"], "FINISHED");
  EXPECT_EQ(Get("/v1/statements/" + after + "/result").second["records"], (json{{270}}));
}

TEST_F(ApiTest, ListFiltersAndPages) {
  StartServer();
  for (int i = 0; i < 5; ++i) WaitFor(Submit({{"sql", "SELECT " + std::to_string(i)}, {"name", "report-" + std::to_string(i)}}));
  WaitFor(Submit({{"sql", "SELECT broken"}, {"name", "other"}}));
  std::vector<std::string> names;
  std::string path = "/v1/statements?name_prefix=report-";
  while (true) {
    auto [status, page] = Get(path);
    ASSERT_EQ(status, 200) << page.dump();
    for (const auto& s : page["statements"]) names.push_back(s["name"]);
    if (!page.contains("next_token")) break;
    path = "/v1/statements?name_prefix=report-&next_token=" + page["next_token"].get<std::string>();
  }
  EXPECT_EQ(names, (std::vector<std::string>{"report-4", "report-3", "report-2", "report-1", "report-0"}));
  auto failed = Get("/v1/statements?status=FAILED").second;
  ASSERT_EQ(failed["statements"].size(), 1u);
  EXPECT_EQ(failed["statements"][0]["name"], "other");
  EXPECT_EQ(Get("/v1/statements?status=DONE").first, 400);
}

}  // namespace
}  // namespace fleetlog::testing
