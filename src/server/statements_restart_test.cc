// Statements and their results survive a restart of the server: finished ones keep their
// status and result pages, client tokens stay idempotent, statements cut off by a crash come
// back ABORTED, and damaged record folders are cleared without touching anything else.
#include <fstream>

#include "api_test_fixture.h"

namespace fleetlog::testing {
namespace {

class RestartTest : public ApiTest {
 protected:
  void Restart() {
    client_.reset();
    server_->Stop();
    server_.reset();
    StartServer();
  }
  std::string RecordPath(const std::string& id) const { return dir_ + "/results/" + id + "/statement.json"; }
};

TEST_F(RestartTest, EndedStatementsAndResultsSurvive) {
  StartServer();
  const std::string done = Submit({{"sql", "SELECT i, 'r' || i AS label FROM range(25) t(i) ORDER BY i"},
                                   {"name", "kept"}, {"client_token", "tok-1"}});
  ASSERT_EQ(WaitFor(done)["status"], "FINISHED");
  const std::string failed = Submit({{"sql", "SELECT no_such_column FROM stl_query"}});
  ASSERT_EQ(WaitFor(failed)["status"], "FAILED");
  auto [status, batch] = Post("/v1/statements/batch", json{{"sqls", {"SELECT 1 AS a", "SELECT 'two' AS b"}}}.dump());
  ASSERT_EQ(status, 200);
  ASSERT_EQ(WaitFor(batch["id"])["status"], "FINISHED");
  const json before = Describe(done);
  const json page_before = Get("/v1/statements/" + done + "/result").second;

  Restart();

  const json after = Describe(done);
  for (const char* field : {"id", "status", "created_at", "updated_at", "duration_ns", "queue_ns", "result_rows",
                            "result_bytes", "has_result_set", "error"})
    EXPECT_EQ(after[field], before[field]) << field;
  EXPECT_EQ(after["name"], "kept");
  EXPECT_EQ(Get("/v1/statements/" + done + "/result").second, page_before);
  auto [page_status, page2] = Get("/v1/statements/" + done + "/result?next_token=" + page_before["next_token"].get<std::string>());
  EXPECT_EQ(page_status, 200);
  EXPECT_EQ(page2["records"][0][0], 10);
  const json f = Describe(failed);
  EXPECT_EQ(f["status"], "FAILED");
  EXPECT_NE(f["error"].get<std::string>().find("no_such_column"), std::string::npos);
  EXPECT_EQ(Get("/v1/statements/" + batch["id"].get<std::string>() + ":2/result").second["records"], (json{{"two"}}));

  // The client token still names the same statement; newer statements list first.
  EXPECT_EQ(Submit({{"sql", "SELECT i, 'r' || i AS label FROM range(25) t(i) ORDER BY i"}, {"name", "kept"},
                    {"client_token", "tok-1"}}),
            done);
  const std::string fresh = Submit({{"sql", "SELECT 7"}});
  WaitFor(fresh);
  const json list = Get("/v1/statements").second;
  ASSERT_EQ(list["statements"].size(), 3u);  // a page of list_page_size = 3
  EXPECT_EQ(list["statements"][0]["id"], fresh);

  // Expiry still applies to restored statements.
  clock_.offset_us = Duration::Hours(25).micros();
  EXPECT_EQ(server_->statements().ExpireResults(), 4);
  EXPECT_EQ(Get("/v1/statements/" + done).first, 404);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/results/" + done));
}

TEST_F(RestartTest, StatementsCutOffByACrashComeBackAborted) {
  StartServer();
  gate_.Close();
  const std::string running = Submit({{"sql", "SELECT 1"}, {"workgroup", "small"}});
  WaitFor(running, "PICKED");
  const std::string queued = Submit({{"sql", "SELECT 2"}, {"workgroup", "small"}});
  // What a process killed at this moment leaves behind: the records written at submit.
  const std::string running_record = *Env::Default()->ReadFile(RecordPath(running));
  const std::string queued_record = *Env::Default()->ReadFile(RecordPath(queued));
  EXPECT_NE(running_record.find("\"SUBMITTED\""), std::string::npos);
  gate_.Open();
  WaitFor(running);
  client_.reset();
  server_->Stop();
  server_.reset();
  ASSERT_TRUE(Env::Default()->WriteFile(RecordPath(running), running_record).ok());
  ASSERT_TRUE(Env::Default()->WriteFile(RecordPath(queued), queued_record).ok());

  StartServer();
  for (const std::string& id : {running, queued}) {
    const json d = Describe(id);
    EXPECT_EQ(d["status"], "ABORTED") << d.dump();
    EXPECT_NE(d["error"].get<std::string>().find("the server stopped before the statement ended"), std::string::npos)
        << d.dump();
    EXPECT_EQ(Get("/v1/statements/" + id + "/result").first, 400);
  }
  // The new status is recorded, so a second restart agrees.
  EXPECT_NE(Env::Default()->ReadFile(RecordPath(running))->find("\"ABORTED\""), std::string::npos);
  gate_.Open();
  EXPECT_EQ(WaitFor(Submit({{"sql", "SELECT 3"}, {"workgroup", "small"}}))["status"], "FINISHED");
}

TEST_F(RestartTest, DamagedRecordsAreClearedAndOtherFilesKept) {
  StartServer();
  const std::string id = Submit({{"sql", "SELECT 1 AS one"}});
  ASSERT_EQ(WaitFor(id)["status"], "FINISHED");
  const std::string results = dir_ + "/results/";
  const std::string damaged = "0123abcd-0000-4000-8000-000000000000";
  const std::string no_record = "0123abcd-0000-4000-8000-000000000001";
  std::filesystem::create_directories(results + damaged + "/1");
  // What a crash before the first record leaves: a result page, no record. (Folders are
  // reached through the Env, where a folder is its files: an empty one does not exist.)
  std::filesystem::create_directories(results + no_record + "/1");
  std::ofstream(results + no_record + "/1/rows.jsonl") << "[1]\n";
  std::ofstream(results + damaged + "/statement.json") << "{\"version\": 1, \"id\": ";
  std::filesystem::create_directories(results + "notes");
  std::ofstream(results + "notes/keep.txt") << "mine";

  Restart();

  EXPECT_EQ(Describe(id)["status"], "FINISHED");
  EXPECT_FALSE(std::filesystem::exists(results + damaged));
  EXPECT_FALSE(std::filesystem::exists(results + no_record));
  EXPECT_TRUE(std::filesystem::exists(results + "notes/keep.txt"));
  EXPECT_EQ(Get("/v1/statements/" + damaged).first, 404);
}

}  // namespace
}  // namespace fleetlog::testing
