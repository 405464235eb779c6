// The Data API protocol against a running Server: shapes, paging, errors, and the
// statements it shares with /v1/. The real AWS clients are driven in tests/aws/.
#include <gtest/gtest.h>

#include "core/sigv4.h"
#include "api_test_fixture.h"

namespace fleetlog::testing {
namespace {

constexpr const char* kKeyId = "AKIAFLEETLOGTEST0001";
constexpr const char* kSecret = "test-secret-key";

class DataApiTest : public ApiTest {
 protected:
  ServerOptions Options() {
    ServerOptions o = DefaultOptions();
    o.server.data_api.workgroups = {{"prod-cluster", "small"}};
    o.server.max_body_bytes = 64 << 10;
    o.access_keys = {{.name = "analyst", .access_key_id = kKeyId, .secret_access_key = kSecret, .workgroup = ""}};
    return o;
  }
  void SetUp() override {
    ApiTest::SetUp();
    if (!HasFatalFailure()) StartServer(Options());
  }

  struct Answer {
    int status = -1;
    json body;
  };
  // Sends `body` as operation `op`, signed with `secret` (and headers as a client sends them).
  Answer Call(const std::string& op, const json& body, const std::string& secret = kSecret,
              const std::string& content_type = "application/x-amz-json-1.1") {
    return CallRaw(op, body.dump(), secret, content_type);
  }
  Answer CallRaw(const std::string& op, const std::string& body, const std::string& secret = kSecret,
                 const std::string& content_type = "application/x-amz-json-1.1") {
    sigv4::Request r{.method = "POST", .path = "/"};
    r.headers = {{"Host", "127.0.0.1:" + std::to_string(server_->port())}, {"Content-Type", content_type}};
    if (!op.empty()) r.headers.emplace_back("X-Amz-Target", "RedshiftData." + op);
    r.payload_hash = sigv4::Sha256Hex(body);
    sigv4::Sign(&r, {.access_key_id = kKeyId, .secret_access_key = secret}, "us-east-1", "redshift-data",
                sigv4::AmzDateNow(), sigv4::PathRule::kGeneric);
    httplib::Headers headers;
    for (const auto& [k, v] : r.headers)
      if (k != "Content-Type") headers.emplace(k, v);
    auto res = client_->Post("/", headers, body, content_type.c_str());
    if (!res) return {};
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-amz-json-1.1") << op;
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  // Each call carries a fresh ClientToken: the server refuses a repeated unsigned-for-replay
  // ExecuteStatement, and tests may send the same SQL twice in one second.
  std::string Execute(json in) {
    if (!in.contains("ClientToken")) in["ClientToken"] = RandomHex(8);
    auto a = Call("ExecuteStatement", in);
    EXPECT_EQ(a.status, 200) << a.body.dump();
    return a.body.value("Id", "");
  }
  // Describes `id` until its status is `want`, or, with none given, until it ended.
  json WaitAws(const std::string& id, const std::string& want = "") {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    json d;
    while (std::chrono::steady_clock::now() < deadline) {
      d = Call("DescribeStatement", {{"Id", id}}).body;
      const std::string s = d.value("Status", "");
      if (want.empty() ? s == "FINISHED" || s == "FAILED" || s == "ABORTED" : s == want) return d;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "statement " << id << " never " << (want.empty() ? "ended" : "became " + want) << ": " << d.dump();
    return d;
  }
};

// Every cell is an object with exactly one member.
void ExpectOneMemberPerCell(const json& records) {
  for (const auto& row : records)
    for (const auto& cell : row) ASSERT_EQ(cell.size(), 1u) << cell.dump();
}

TEST_F(DataApiTest, ResultCellsAreFieldUnionsTypedByColumn) {
  const std::string id = Execute({{"Sql", "SELECT 42::INTEGER AS i, 9000000000::BIGINT AS b, 1.5::DOUBLE AS d, "
                                          "12.50::DECIMAL(10,2) AS m, 'hi' AS s, true AS t, NULL::INTEGER AS n, "
                                          "DATE '2026-01-02' AS day"},
                                  {"Database", "dev"}});
  ASSERT_EQ(WaitAws(id).value("Status", ""), "FINISHED");
  auto r = Call("GetStatementResult", {{"Id", id}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  ExpectOneMemberPerCell(r.body["Records"]);
  const json& row = r.body["Records"][0];
  EXPECT_EQ(row[0], json({{"longValue", 42}}));
  EXPECT_EQ(row[1], json({{"longValue", 9000000000LL}}));
  EXPECT_EQ(row[2], json({{"doubleValue", 1.5}}));
  EXPECT_EQ(row[3], json({{"stringValue", "12.50"}}));
  EXPECT_EQ(row[4], json({{"stringValue", "hi"}}));
  EXPECT_EQ(row[5], json({{"booleanValue", true}}));
  EXPECT_EQ(row[6], json({{"isNull", true}}));
  EXPECT_EQ(row[7], json({{"stringValue", "2026-01-02"}}));
  EXPECT_EQ(r.body["TotalNumRows"], 1);
  const json& meta = r.body["ColumnMetadata"];
  ASSERT_EQ(meta.size(), 8u);
  EXPECT_EQ(meta[0]["name"], "i");
  EXPECT_EQ(meta[0]["typeName"], "int4");
  EXPECT_EQ(meta[1]["typeName"], "int8");
  EXPECT_EQ(meta[2]["typeName"], "float8");
  EXPECT_EQ(meta[3]["typeName"], "numeric");
  EXPECT_EQ(meta[3]["precision"], 10);
  EXPECT_EQ(meta[3]["scale"], 2);
  EXPECT_EQ(meta[4]["typeName"], "varchar");
  EXPECT_FALSE(r.body.contains("NextToken"));
}

TEST_F(DataApiTest, DescribeStatementUsesEpochSecondsNanosecondsAndMinusOneWhileUnknown) {
  gate_.Close();
  const std::string id = Execute({{"Sql", "SELECT 1"}});
  auto d = WaitAws(id, "PICKED");  // a worker picks it soon after ExecuteStatement answers
  EXPECT_EQ(d["Status"], "PICKED");
  EXPECT_EQ(d["ResultRows"], -1);
  EXPECT_EQ(d["ResultSize"], -1);
  EXPECT_TRUE(d["CreatedAt"].is_number());
  EXPECT_NEAR(d["CreatedAt"].get<double>(), static_cast<double>(Timestamp::Now().micros()) / 1e6, 600);
  gate_.Open();
  d = WaitAws(id);
  EXPECT_EQ(d["Status"], "FINISHED");
  EXPECT_EQ(d["ResultRows"], 1);
  EXPECT_GT(d["ResultSize"].get<int64_t>(), 0);
  EXPECT_GT(d["Duration"].get<int64_t>(), 0);
  EXPECT_EQ(d["QueryString"], "SELECT 1");
  EXPECT_EQ(d["HasResultSet"], true);
}

TEST_F(DataApiTest, PagesEndWithoutNextTokenAndTokensNeverRepeat) {
  const std::string id = Execute({{"Sql", "SELECT i FROM range(25) t(i) ORDER BY i"}});
  ASSERT_EQ(WaitAws(id).value("Status", ""), "FINISHED");
  std::vector<int64_t> seen;
  std::set<std::string> tokens;
  json in = {{"Id", id}};
  for (int page = 0; page < 10; ++page) {
    auto r = Call("GetStatementResult", in);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    for (const auto& row : r.body["Records"]) seen.push_back(row[0]["longValue"].get<int64_t>());
    if (!r.body.contains("NextToken")) break;
    ASSERT_TRUE(tokens.insert(r.body["NextToken"].get<std::string>()).second);
    in["NextToken"] = r.body["NextToken"];
  }
  ASSERT_EQ(seen.size(), 25u);
  for (int64_t i = 0; i < 25; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i);
  EXPECT_EQ(tokens.size(), 2u);  // pages of 10: 10, 10, 5
}

TEST_F(DataApiTest, GetStatementResultV2PagesCsvWithTheHeaderFirst) {
  const std::string id = Execute({{"Sql", "SELECT i, 'a,b' AS s FROM range(12) t(i) ORDER BY i"}, {"ResultFormat", "CSV"}});
  ASSERT_EQ(WaitAws(id).value("Status", ""), "FINISHED");
  auto first = Call("GetStatementResultV2", {{"Id", id}});
  ASSERT_EQ(first.status, 200) << first.body.dump();
  EXPECT_EQ(first.body["ResultFormat"], "CSV");
  const std::string csv = first.body["Records"][0]["CSVRecords"];
  EXPECT_EQ(csv.substr(0, 17), "i,s\r\n0,\"a,b\"\r\n1,\"");
  ASSERT_TRUE(first.body.contains("NextToken"));
  auto second = Call("GetStatementResultV2", {{"Id", id}, {"NextToken", first.body["NextToken"]}});
  EXPECT_EQ(second.body["Records"][0]["CSVRecords"], "10,\"a,b\"\r\n11,\"a,b\"\r\n");
  EXPECT_FALSE(second.body.contains("NextToken"));
}

TEST_F(DataApiTest, OneServiceTwoProtocols) {
  // Submitted through /v1/, seen through the Data API...
  const std::string v1 = Submit({{"sql", "SELECT cluster, count(*) AS n FROM stl_query GROUP BY 1 ORDER BY 1"}});
  WaitFor(v1);
  auto d = Call("DescribeStatement", {{"Id", v1}});
  ASSERT_EQ(d.status, 200) << d.body.dump();
  EXPECT_EQ(d.body["Status"], Describe(v1)["status"]);
  EXPECT_EQ(d.body["ResultRows"], Describe(v1)["result_rows"]);
  auto aws_rows = Call("GetStatementResult", {{"Id", v1}}).body["Records"];
  auto v1_rows = Get("/v1/statements/" + v1 + "/result").second["records"];
  ASSERT_EQ(aws_rows.size(), v1_rows.size());
  ASSERT_EQ(aws_rows.size(), 2u);
  for (size_t i = 0; i < aws_rows.size(); ++i) {
    EXPECT_EQ(aws_rows[i][0]["stringValue"], v1_rows[i][0]);
    EXPECT_EQ(aws_rows[i][1]["longValue"], v1_rows[i][1]);
  }
  // ...and the other way round, with the same idempotency key space.
  const std::string aws = Execute({{"Sql", "SELECT 7 AS seven"}, {"ClientToken", "shared-token"}});
  EXPECT_EQ(WaitFor(aws)["status"], "FINISHED");
  EXPECT_EQ(Get("/v1/statements/" + aws + "/result").second["records"], json::parse("[[7]]"));
  auto listed = Get("/v1/statements").second["statements"];
  EXPECT_EQ(listed[0]["id"], aws);
  auto aws_list = Call("ListStatements", {{"MaxResults", 1}}).body;
  ASSERT_EQ(aws_list["Statements"].size(), 1u);
  EXPECT_EQ(aws_list["Statements"][0]["Id"], aws);
  ASSERT_TRUE(aws_list.contains("NextToken"));
  aws_list = Call("ListStatements", {{"MaxResults", 1}, {"NextToken", aws_list["NextToken"]}}).body;
  ASSERT_EQ(aws_list["Statements"].size(), 1u);
  EXPECT_EQ(aws_list["Statements"][0]["Id"], v1);
  EXPECT_FALSE(aws_list.contains("NextToken"));
  // Cancel through one, ABORTED through the other.
  const std::string long_id = Submit({{"sql", kLongSql}});
  WaitFor(long_id, "STARTED");
  EXPECT_EQ(Call("CancelStatement", {{"Id", long_id}}).body, json({{"Status", true}}));
  EXPECT_EQ(WaitFor(long_id)["status"], "ABORTED");
}

TEST_F(DataApiTest, ClientTokenMakesExecuteIdempotent) {
  const json in = {{"Sql", "SELECT 1"}, {"ClientToken", "retry-1"}};
  const std::string first = Execute(in);
  EXPECT_EQ(Execute(in), first);
  auto other = Call("ExecuteStatement", {{"Sql", "SELECT 2"}, {"ClientToken", "retry-1"}});
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(other.body["__type"], "ValidationException");
}

TEST_F(DataApiTest, BatchHasSubStatementsWithTheirOwnResults) {
  auto a = Call("BatchExecuteStatement", {{"Sqls", {"SELECT 1 AS a", "SELECT 2 AS b, 3 AS c"}}, {"ClientToken", "b1"},
                                          {"WorkgroupName", "default"}});
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["WorkgroupName"], "default");
  const std::string id = a.body["Id"];
  auto d = WaitAws(id);
  ASSERT_EQ(d["SubStatements"].size(), 2u);
  EXPECT_EQ(d["SubStatements"][1]["Id"], id + ":2");
  EXPECT_EQ(d["SubStatements"][1]["Status"], "FINISHED");
  auto r = Call("GetStatementResult", {{"Id", id + ":2"}}).body;
  EXPECT_EQ(r["Records"], json::parse(R"([[{"longValue":2},{"longValue":3}]])"));
  auto listed = Call("ListStatements", {{"MaxResults", 1}}).body["Statements"][0];
  EXPECT_EQ(listed["IsBatchStatement"], true);
  EXPECT_EQ(listed["QueryStrings"], json({"SELECT 1 AS a", "SELECT 2 AS b, 3 AS c"}));
}

TEST_F(DataApiTest, ErrorsAreAwsShaped) {
  struct Case {
    const char* what;
    Answer answer;
    int status;
    const char* type;
  };
  std::string big(100 << 10, 'x');
  const Case cases[] = {
      {"malformed JSON", CallRaw("ExecuteStatement", "{\"Sql\": "), 400, "SerializationException"},
      {"a JSON array", CallRaw("ExecuteStatement", "[]"), 400, "SerializationException"},
      {"unknown operation", Call("DropEverything", json::object()), 400, "UnknownOperationException"},
      {"no X-Amz-Target", CallRaw("", "{}"), 400, "UnknownOperationException"},
      {"wrong content type", Call("ListDatabases", json::object(), kSecret, "application/json"), 415,
       "UnsupportedMediaTypeException"},
      {"oversized body", CallRaw("ExecuteStatement", "{\"Sql\":\"" + big + "\"}"), 413, "RequestEntityTooLargeException"},
      {"missing Sql", Call("ExecuteStatement", {{"Database", "dev"}}), 400, "ValidationException"},
      {"Sql not a string", Call("ExecuteStatement", {{"Sql", 5}}), 400, "ValidationException"},
      {"unknown id", Call("DescribeStatement", {{"Id", "00000000-0000-0000-0000-000000000000"}}), 400,
       "ResourceNotFoundException"},
      {"both cluster and workgroup", Call("ExecuteStatement", {{"Sql", "SELECT 1"}, {"ClusterIdentifier", "a"},
                                                                {"WorkgroupName", "b"}}), 400, "ValidationException"},
      {"an unmapped cluster", Call("ExecuteStatement", {{"Sql", "SELECT 1"}, {"ClusterIdentifier", "nowhere"}}), 400,
       "ValidationException"},
      {"bad signature", Call("ListDatabases", json::object(), "wrong-secret"), 400, "InvalidSignatureException"},
      {"bad MaxResults", Call("ListStatements", {{"MaxResults", 1000}}), 400, "ValidationException"},
      {"bad NextToken", Call("ListStatements", {{"NextToken", "garbage"}}), 400, "ValidationException"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.answer.status, c.status) << c.what << ": " << c.answer.body.dump();
    EXPECT_EQ(c.answer.body.value("__type", ""), c.type) << c.what << ": " << c.answer.body.dump();
    EXPECT_TRUE(c.answer.body.contains("Message")) << c.what;
  }
  EXPECT_EQ(cases[8].answer.body["ResourceId"], "00000000-0000-0000-0000-000000000000");
}

// SigV4 covers the request target as sent and every value of a repeated header: the server
// hands both over unchanged (HttpRequest::target, HttpRequest::header_fields).
TEST_F(DataApiTest, SignaturesCoverTheQueryStringAndRepeatedHeadersAsSent) {
  const auto send = [&](const std::string& signed_query, const std::string& sent_query,
                        const std::vector<std::pair<std::string, std::string>>& extra, bool drop_last_extra) {
    const std::string body = "{}";
    sigv4::Request r{.method = "POST", .path = "/", .query = sigv4::ParseQuery(signed_query)};
    r.headers = {{"Host", "127.0.0.1:" + std::to_string(server_->port())},
                 {"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "RedshiftData.ListDatabases"}};
    r.headers.insert(r.headers.end(), extra.begin(), extra.end());
    r.payload_hash = sigv4::Sha256Hex(body);
    sigv4::Sign(&r, {.access_key_id = kKeyId, .secret_access_key = kSecret}, "us-east-1", "redshift-data",
                sigv4::AmzDateNow(), sigv4::PathRule::kGeneric);
    if (drop_last_extra) r.headers.erase(r.headers.begin() + static_cast<long>(3 + extra.size() - 1));
    httplib::Headers headers;
    for (const auto& [k, v] : r.headers)
      if (k != "Content-Type") headers.emplace(k, v);
    auto res = client_->Post(("/" + (sent_query.empty() ? "" : "?" + sent_query)).c_str(), headers, body,
                             "application/x-amz-json-1.1");
    return res ? std::make_pair(res->status, json::parse(res->body, nullptr, false)) : std::make_pair(-1, json());
  };
  const std::vector<std::pair<std::string, std::string>> twice = {{"X-Fleetlog-Tag", "a"}, {"X-Fleetlog-Tag", "b c"}};
  auto ok = send("path=%2Fx%20y&b=1", "path=%2Fx%20y&b=1", twice, false);
  EXPECT_EQ(ok.first, 200) << ok.second.dump();
  auto other_query = send("path=%2Fx%20y&b=1", "path=%2Fx%20y&b=2", twice, false);
  EXPECT_EQ(other_query.first, 400);
  EXPECT_EQ(other_query.second.value("__type", ""), "InvalidSignatureException");
  auto one_value_dropped = send("", "", twice, true);
  EXPECT_EQ(one_value_dropped.first, 400);
  EXPECT_EQ(one_value_dropped.second.value("__type", ""), "InvalidSignatureException");
}

// The screens every request passes (Host, Origin) answer Data API requests in its own shape.
TEST_F(DataApiTest, HostAndOriginScreensAnswerInTheAwsShape) {
  httplib::Headers headers = {{"Host", "rebound.example:8080"}, {"X-Amz-Target", "RedshiftData.ListDatabases"}};
  auto res = client_->Post("/", headers, "{}", "application/x-amz-json-1.1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 421);
  EXPECT_EQ(json::parse(res->body).value("__type", ""), "MisdirectedRequestException") << res->body;
  headers = {{"Origin", "https://elsewhere.example"}, {"X-Amz-Target", "RedshiftData.ListDatabases"}};
  res = client_->Post("/", headers, "{}", "application/x-amz-json-1.1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(json::parse(res->body).value("__type", ""), "AccessDeniedException") << res->body;
}

TEST_F(DataApiTest, BadSqlFailsTheStatementNotTheCall) {
  const std::string id = Execute({{"Sql", "SELEC nonsense"}});
  auto d = WaitAws(id);
  EXPECT_EQ(d["Status"], "FAILED");
  EXPECT_FALSE(d.value("Error", "").empty());
  auto r = Call("GetStatementResult", {{"Id", id}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["__type"], "ValidationException");
}

TEST_F(DataApiTest, AFullQueueIsActiveStatementsExceeded) {
  gate_.Close();  // "small" runs one and queues one; both stay put
  Execute({{"Sql", "SELECT 1"}, {"ClusterIdentifier", "prod-cluster"}});
  Execute({{"Sql", "SELECT 2"}, {"ClusterIdentifier", "prod-cluster"}});
  auto full = Call("ExecuteStatement", {{"Sql", "SELECT 3"}, {"ClusterIdentifier", "prod-cluster"}, {"ClientToken", "x"}});
  EXPECT_EQ(full.status, 400);
  EXPECT_EQ(full.body["__type"], "ActiveStatementsExceededException");
  gate_.Open();
}

TEST_F(DataApiTest, TheCatalogIsTheLake) {
  EXPECT_EQ(Call("ListDatabases", {{"Database", "dev"}}).body["Databases"], json({"fleetlog"}));
  EXPECT_EQ(Call("ListSchemas", {{"Database", "fleetlog"}}).body["Schemas"], json({"public"}));
  EXPECT_EQ(Call("ListSchemas", {{"Database", "fleetlog"}, {"SchemaPattern", "x%"}}).body["Schemas"], json::array());
  auto tables = Call("ListTables", {{"Database", "fleetlog"}, {"TablePattern", "stl_%"}}).body;
  EXPECT_EQ(tables["Tables"], json::parse(R"([{"name":"stl_query","schema":"public","type":"TABLE"}])"));
  auto described = Call("DescribeTable", {{"Database", "fleetlog"}, {"Table", "stl_query"}}).body;
  EXPECT_EQ(described["TableName"], "stl_query");
  std::vector<std::string> names;
  for (const auto& c : described["ColumnList"]) names.push_back(c["name"]);
  ASSERT_GE(names.size(), 3u);
  EXPECT_EQ(names[names.size() - 2], "cluster");
  EXPECT_EQ(names.back(), "dt");
  auto paged = Call("DescribeTable", {{"Database", "fleetlog"}, {"Table", "stl_query"}, {"MaxResults", 2}}).body;
  EXPECT_EQ(paged["ColumnList"].size(), 2u);
  EXPECT_TRUE(paged.contains("NextToken"));
  auto missing = Call("DescribeTable", {{"Database", "fleetlog"}, {"Table", "nope"}});
  EXPECT_EQ(missing.body["__type"], "ResourceNotFoundException");
}

}  // namespace
}  // namespace fleetlog::testing
