// The server around the statements: bad input, authentication, the sandbox through the API,
// workgroup limits, tables, the fleet overview and the dashboard's files.
#include "server/server.h"

#include "api_test_fixture.h"
#include "server/assets.h"
#include "server/auth.h"

namespace fleetlog::testing {
namespace {

TEST_F(ApiTest, BadInputGetsTheDocumentedStatus) {
  ServerOptions o = DefaultOptions();
  o.server.max_body_bytes = 4096;
  StartServer(std::move(o));
  EXPECT_EQ(Post("/v1/statements", "{not json").first, 400);
  EXPECT_EQ(Post("/v1/statements", "[]").first, 400);
  EXPECT_EQ(Post("/v1/statements", R"({"sql": 5})").first, 400);
  EXPECT_EQ(Post("/v1/statements", R"({"sql": "select 1", "sq1": "typo"})").first, 400);
  EXPECT_EQ(Post("/v1/statements", R"({"sql": "  ;  "})").first, 400);
  EXPECT_EQ(Post("/v1/statements", R"({"sql": "select 1", "workgroup": "nope"})").first, 400);
  EXPECT_EQ(Post("/v1/statements/batch", R"({"sqls": "select 1"})").first, 400);
  EXPECT_EQ(Get("/v1/statements/00000000-0000-0000-0000-000000000000").first, 404);
  EXPECT_EQ(Get("/v1/statements/nope/result").first, 404);
  EXPECT_EQ(Post("/v1/statements/nope/cancel", "").first, 404);
  EXPECT_EQ(Get("/v1/no/such/path").first, 404);
  auto [status, body] = Post("/v1/statements", json{{"sql", "SELECT '" + std::string(5000, 'x') + "'"}}.dump());
  EXPECT_EQ(status, 413);
  // The statement still runs fine afterwards, and bad SQL fails with DuckDB's own message.
  json d = WaitFor(Submit({{"sql", "SELEC 1"}}));
  EXPECT_EQ(d["status"], "FAILED");
  EXPECT_NE(d["error"].get<std::string>().find("syntax error"), std::string::npos) << d.dump();
}

// /v1/alerts reads the lake's alert history and anomalies beside the alert states; with
// ?history=0 it answers the states alone without reading the lake, which is what the fleet
// page needs on every load.
TEST_F(ApiTest, AlertsWithoutHistoryDoNotReadTheLake) {
  {
    LakeLayout lake(dir_ + "/lake");
    auto writer = LakeWriter::Open(lake, 64LL << 20, 1);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    const TableSchema schema = {{"bucket_start", ColumnType::kTimestamp},
                                {"grade", ColumnType::kDouble},
                                {"score", ColumnType::kDouble},
                                {"attribution", ColumnType::kVarchar}};
    const Timestamp at = *ParseTimestamp("2026-01-10 01:00:00");
    Status s = CommitTestRows(**writer, *state_, "anomalies", "alpha", schema, "bucket_start", {"bucket_start"},
                              at + Duration::Minutes(5), [&](RowBatch& b) {
                                b.column(0).AppendInt(at.micros());
                                b.column(1).AppendDouble(0.8);
                                b.column(2).AppendDouble(9.5);
                                b.column(3).AppendString("queue_wait_s high (100%)");
                              });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  StartServer();
  auto [status, full] = Get("/v1/alerts");
  ASSERT_EQ(status, 200) << full.dump();
  ASSERT_EQ(full["anomalies"].size(), 1u) << full.dump();
  EXPECT_EQ(full["anomalies"][0]["attribution"], "queue_wait_s high (100%)");
  // With its file gone the lake's anomalies cannot be read: the full answer says so, the bare
  // one does not notice.
  std::vector<std::filesystem::path> files;  // the table folder's name and the readers' link
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir_ + "/lake"))
    if (f.path().extension() == ".parquet" && f.path().string().find("anomalies") != std::string::npos)
      files.push_back(f.path());
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) std::filesystem::remove(f);
  EXPECT_TRUE(Get("/v1/alerts").second.contains("anomalies_error"));
  auto [bare_status, bare] = Get("/v1/alerts?history=0");
  ASSERT_EQ(bare_status, 200) << bare.dump();
  EXPECT_FALSE(bare.contains("anomalies_error") || bare.contains("events_error")) << bare.dump();
  EXPECT_TRUE(bare["alerts"].is_array() && bare["events"].empty() && bare["anomalies"].empty()) << bare.dump();
  EXPECT_EQ(Get("/v1/alerts?history=many").first, 400);
}

TEST_F(ApiTest, ServesHttpsFromCertificateFiles) {
  const std::string cert = dir_ + "/cert.pem", key = dir_ + "/key.pem";
  const std::string make_cert =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " 2>/dev/null";
  ASSERT_EQ(std::system(make_cert.c_str()), 0) << "openssl (Debian package openssl) is needed: " << make_cert;
  ServerOptions o = DefaultOptions();
  o.server.tls_cert = cert;
  o.server.tls_key = key;
  StartServer(std::move(o));

  httplib::SSLClient tls("127.0.0.1", server_->port());
  tls.set_ca_cert_path(cert.c_str());
  tls.enable_server_certificate_verification(true);
  auto res = tls.Post("/v1/statements", R"({"sql": "SELECT 40 + 2 AS answer"})", "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  const std::string id = json::parse(res->body)["id"];
  for (int i = 0; i < 3000; ++i) {
    auto d = tls.Get(("/v1/statements/" + id).c_str());
    ASSERT_TRUE(d);
    if (json::parse(d->body)["status"] == "FINISHED") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto page = tls.Get(("/v1/statements/" + id + "/result").c_str());
  ASSERT_TRUE(page);
  EXPECT_EQ(json::parse(page->body)["records"], (json{{42}}));
  // Plain HTTP on the TLS port gets no answer.
  EXPECT_EQ(Get("/v1/workgroups").first, -1);
}

TEST_F(ApiTest, BadCertificateFilesAreAClearError) {
  ServerOptions o = DefaultOptions();
  o.server.tls_cert = dir_ + "/missing-cert.pem";
  o.server.tls_key = dir_ + "/missing-key.pem";
  Server server(std::move(o), state_.get());
  Status s = server.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot use the TLS certificate " + dir_ + "/missing-cert.pem"), std::string::npos)
      << s.message();
}

TEST_F(ApiTest, TokensAreRequiredAndBindTheWorkgroup) {
  ServerOptions o = DefaultOptions();
  o.server.tokens = {{.name = "ops", .sha256 = Sha256Hex("s3cret-ops"), .workgroup = "default"},
                     {.name = "small", .sha256 = Sha256Hex("s3cret-small"), .workgroup = "small"}};
  StartServer(std::move(o));
  EXPECT_EQ(Get("/v1/workgroups").first, 401);
  token_ = "wrong";
  EXPECT_EQ(Get("/v1/workgroups").first, 401);
  EXPECT_EQ(Post("/v1/statements", R"({"sql": "select 1"})").first, 401);
  token_ = "s3cret-small";
  auto [status, wgs] = Get("/v1/workgroups");
  ASSERT_EQ(status, 200);
  ASSERT_EQ(wgs["workgroups"].size(), 1u);
  EXPECT_EQ(wgs["workgroups"][0]["name"], "small");
  EXPECT_EQ(Post("/v1/statements", R"({"sql": "select 1", "workgroup": "default"})").first, 403);
  const std::string mine = Submit({{"sql", "SELECT 1"}});
  EXPECT_EQ(WaitFor(mine)["workgroup"], "small");
  token_ = "s3cret-ops";
  EXPECT_EQ(Get("/v1/statements/" + mine).first, 404);  // another workgroup's statement
  EXPECT_EQ(Get("/").first, 200);                       // the dashboard page itself holds no data
}

TEST_F(ApiTest, RefusesNonLoopbackWithoutTokens) {
  ServerOptions o = DefaultOptions();
  o.server.listen = "0.0.0.0:0";
  Server server(std::move(o), state_.get());
  Status s = server.Start();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("without API tokens"), std::string::npos);
}

TEST_F(ApiTest, SandboxHoldsThroughTheApi) {
  StartServer();
  for (const char* sql : {"SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM read_text('/etc/hostname')"}) {
    json d = WaitFor(Submit({{"sql", sql}}));
    EXPECT_EQ(d["status"], "FAILED");
    EXPECT_NE(d["error"].get<std::string>().find("Permission Error"), std::string::npos) << d.dump();
  }
  const std::string escape = dir_ + "-escape.csv";
  json d = WaitFor(Submit({{"sql", "COPY (SELECT 1) TO '" + escape + "'"}}));
  EXPECT_EQ(d["status"], "FAILED");
  EXPECT_FALSE(std::filesystem::exists(escape));
}

TEST_F(ApiTest, WorkgroupQueueIsBoundedAndCounted) {
  StartServer();
  gate_.Close();
  const std::string running = Submit({{"sql", "SELECT 1"}, {"workgroup", "small"}});
  WaitFor(running, "PICKED");
  const std::string queued = Submit({{"sql", "SELECT 2"}, {"workgroup", "small"}});
  auto [status, body] = Post("/v1/statements", json{{"sql", "SELECT 3"}, {"workgroup", "small"}}.dump());
  EXPECT_EQ(status, 429);
  EXPECT_NE(body["error"].get<std::string>().find("max_queued"), std::string::npos);
  EXPECT_EQ(Post("/v1/statements", json{{"sql", "SELECT 3"}}.dump()).first, 200);  // other workgroups go on
  auto wgs = Get("/v1/workgroups").second["workgroups"];
  json small;
  for (const auto& w : wgs)
    if (w["name"] == "small") small = w;
  EXPECT_EQ(small["running"], 1);
  EXPECT_EQ(small["queued"], 1);
  EXPECT_EQ(small["rejected"], 1);
  gate_.Open();
  WaitFor(running);
  WaitFor(queued);
  wgs = Get("/v1/workgroups").second["workgroups"];
  for (const auto& w : wgs)
    if (w["name"] == "small") small = w;
  EXPECT_EQ(small["finished"], 2);
  EXPECT_EQ(small["running"], 0);
  EXPECT_GT(small["queue_wait_ns"].get<int64_t>(), 0);
}

TEST_F(ApiTest, WorkgroupScanTimeAndMemoryLimits) {
  StartServer();
  json scan = WaitFor(Submit({{"sql", "SELECT count(*) FROM stl_query"}, {"workgroup", "tiny_scan"}}));
  EXPECT_EQ(scan["status"], "FAILED");
  EXPECT_NE(scan["error"].get<std::string>().find("max_scan_bytes"), std::string::npos) << scan.dump();
  EXPECT_NE(scan["error"].get<std::string>().find("stl_query"), std::string::npos);
  // The bound counts every table a statement names anywhere, strings included (issue 11:
  // query_table('stl_query') reads it), so only a statement that names none runs here.
  EXPECT_EQ(WaitFor(Submit({{"sql", "SELECT 'stl_query'"}, {"workgroup", "tiny_scan"}}))["status"], "FAILED");
  EXPECT_EQ(WaitFor(Submit({{"sql", "SELECT 'no table'"}, {"workgroup", "tiny_scan"}}))["status"], "FINISHED");

  json slow = WaitFor(Submit({{"sql", kLongSql}, {"workgroup", "quick"}}));
  EXPECT_EQ(slow["status"], "FAILED");
  EXPECT_NE(slow["error"].get<std::string>().find("time limit of workgroup \"quick\" (300ms"), std::string::npos)
      << slow.dump();

  const std::string mem = Submit({{"sql", "SELECT current_setting('memory_limit') AS m"}, {"workgroup", "quick"}});
  ASSERT_EQ(WaitFor(mem)["status"], "FINISHED");
  EXPECT_EQ(Get("/v1/statements/" + mem + "/result").second["records"][0][0], "64.0 MiB");
}

// A kept worker copies the tables a statement names into memory, as confined as it is
// (Landlock, its memory cap), and answers from them as from the files.
TEST_F(ApiTest, AKeptWorkerAnswersFromTheTablesItKeepsInMemory) {
  StartServer();
  const std::string sql = "SELECT cluster, count(*) AS n, max(query) AS q FROM stl_query GROUP BY 1 ORDER BY 1";
  auto answer = [&](const std::string& statement) {
    const std::string id = Submit({{"sql", statement}});
    EXPECT_EQ(WaitFor(id)["status"], "FINISHED") << statement;
    return Get("/v1/statements/" + id + "/result").second["records"];
  };
  const json from_files = answer(sql);
  ASSERT_EQ(from_files.size(), 2u) << from_files.dump();  // alpha, beta
  // The copy runs beside the statements; a bounded wait for it, not a timing.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  json kept;
  while (std::chrono::steady_clock::now() < deadline) {
    kept = answer("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'stl_query_kept_rows'");
    if (kept == json::parse("[[1]]")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(kept, json::parse("[[1]]")) << "no worker kept stl_query";
  EXPECT_EQ(answer(sql), from_files);
}

TEST_F(ApiTest, TablesFleetAndDashboard) {
  StartServer();
  auto [status, tables] = Get("/v1/tables");
  ASSERT_EQ(status, 200) << tables.dump();
  ASSERT_EQ(tables["tables"].size(), 1u);
  EXPECT_EQ(tables["tables"][0]["name"], "stl_query");
  EXPECT_EQ(tables["tables"][0]["rows"], 240);
  auto table = Get("/v1/tables/stl_query").second;
  EXPECT_EQ(table["columns"][0], (json{{"name", "userid"}, {"type", "INTEGER"}}));
  EXPECT_EQ(table["columns"].back(), (json{{"name", "dt"}, {"type", "DATE"}}));
  EXPECT_EQ(Get("/v1/tables/nope").first, 404);

  // The list is kept between calls, and follows a commit made while the server runs.
  {
    LakeLayout lake(dir_ + "/lake");
    auto writer = LakeWriter::Open(lake, 64LL << 20, 1);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    const Timestamp at = *ParseTimestamp("2026-01-10 01:00:00");
    Status s = CommitTestRows(**writer, *state_, "anomalies", "alpha", {{"bucket_start", ColumnType::kTimestamp}},
                              "bucket_start", {"bucket_start"}, at + Duration::Minutes(5),
                              [&](RowBatch& b) { b.column(0).AppendInt(at.micros()); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  tables = Get("/v1/tables").second;
  ASSERT_EQ(tables["tables"].size(), 2u) << tables.dump();
  EXPECT_EQ(tables["tables"][0]["name"], "anomalies");
  EXPECT_EQ(tables["tables"][0]["rows"], 1);
  EXPECT_EQ(tables["tables"][1]["rows"], 240);

  auto fleet = Get("/v1/fleet").second;
  ASSERT_EQ(fleet["clusters"].size(), 3u) << fleet.dump();
  EXPECT_EQ(fleet["clusters"][0]["name"], "alpha");
  EXPECT_EQ(fleet["clusters"][0]["tables"][0]["table"], "stl_query");
  EXPECT_EQ(fleet["clusters"][0]["tables"][0]["last_run"]["status"], "ok");
  EXPECT_EQ(fleet["clusters"][2]["tables"], json::array());  // gamma: configured, never run

  EXPECT_EQ(fleet["clusters"][0]["rolled_up_to"], nullptr);  // no upkeep has run

  auto [runs_status, runs] = Get("/v1/runs?cluster=alpha&limit=10");
  ASSERT_EQ(runs_status, 200) << runs.dump();
  ASSERT_FALSE(runs["runs"].empty());
  for (const auto& r : runs["runs"]) {
    EXPECT_EQ(r["cluster"], "alpha");
    EXPECT_EQ(r["kind"], "export");
  }
  EXPECT_EQ(Get("/v1/runs?cluster=gamma").second["runs"], json::array());
  EXPECT_EQ(Get("/v1/runs?limit=0").first, 400);
  EXPECT_EQ(Get("/v1/runs?limit=x").first, 400);
  EXPECT_TRUE(fleet["clusters"][0].contains("kind") && fleet["clusters"][0]["tags"].is_array()) << fleet.dump();

  // The embedded dashboard: the page, its style, the bundled script holding chart.js and
  // luxon, and the SQL editor's CodeMirror apart from it.
  for (const char* path : {"/", "/app.js", "/editor.js", "/style.css"}) {
    auto res = client_->Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_GT(res->body.size(), 100u) << path;
  }
  auto script = client_->Get("/app.js");
  ASSERT_TRUE(script);
  EXPECT_GT(script->body.size(), 200000u) << "chart.js and luxon are bundled into the script";
  EXPECT_EQ(script->body.find("cm-scroller"), std::string::npos) << "CodeMirror is not in app.js";
  auto editor = client_->Get("/editor.js");
  ASSERT_TRUE(editor);
  EXPECT_GT(editor->body.size(), 300000u) << "CodeMirror and its SQL language";
  EXPECT_NE(editor->body.find("cm-scroller"), std::string::npos);
  EXPECT_EQ(client_->Get("/chart.umd.js")->status, 404) << "no separate library files";
  auto zipped = client_->Get("/app.js", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(zipped);
  EXPECT_EQ(zipped->get_header_value("Content-Encoding"), "gzip") << "the gzip copy made at build time";
  EXPECT_EQ(zipped->body, script->body) << "the same script once unzipped";
  EXPECT_EQ(script->get_header_value("Content-Encoding"), "");
}

TEST(AssetsTest, AcceptsGzip) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("gzip, deflate, br, zstd"));
  EXPECT_TRUE(AcceptsGzip("br;q=1.0, gzip;q=0.8"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("br, deflate"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("x-gzip"));
}

}  // namespace
}  // namespace fleetlog::testing
