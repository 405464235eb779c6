// The Redshift Data API on the wire (AWS JSON 1.1): POST <path> with
// "X-Amz-Target: RedshiftData.<Operation>" and "Content-Type: application/x-amz-json-1.1",
// signed with SigV4 (sigv4_auth.h), answered with the current model's shapes
// (data_api_shapes.h) or {"__type", "Message"} errors (aws_error.h).
//
// Operations: ExecuteStatement, BatchExecuteStatement, DescribeStatement, GetStatementResult,
// GetStatementResultV2 (CSV pages), CancelStatement, ListStatements, ListDatabases,
// ListSchemas, ListTables, DescribeTable. They run on the server's StatementService, so a
// statement is the same statement through /v1/ and through this protocol: limits,
// workgroups, result expiry, cancel and idempotency by ClientToken are the service's.
//   - WorkgroupName or ClusterIdentifier picks the workgroup: through [server.data_api]
//     workgroups, else a workgroup of that name, else the "*" mapping; neither: the access
//     key's workgroup. Database, DbUser, SecretArn, ResultFormat, WithEvent and members this
//     model does not know are accepted and ignored, so newer clients keep working.
//   - The lake is one database ([server.data_api] database) with one schema, "public": its
//     tables (type TABLE) and the text-reassembly views (type VIEW).
//   - A SQL error is not an HTTP error: the statement FAILS and DescribeStatement says why.
// Handlers take and return plain data (server/http.h); the HTTP server only routes to Handle().
// Thread-safety: safe for concurrent use.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "server/aws/aws_error.h"
#include "server/aws/sigv4_auth.h"
#include "server/statements.h"

namespace fleetlog {

struct DataApiOptions {
  DataApiConfig config;
  std::vector<AwsAccessKey> access_keys;
  bool anonymous = false;  // no access keys and no tokens: every request is anonymous
  int max_list_results = 100;  // the most a List call returns per page (MaxResults caps lower)
  const Clock* clock = nullptr;  // REQUIRES: set
};

class DataApi {
 public:
  // `statements` must outlive the DataApi.
  DataApi(DataApiOptions options, StatementService& statements);

  const std::string& path() const { return options_.config.path; }
  // Checks that need no body (target, content type, the signature's form and access key):
  // the answer to send without reading the body, or nullopt.
  std::optional<HttpResponse> CheckHead(const HttpRequest& head) const;
  // Answers one request. `who` receives the authenticated principal (for the access log).
  HttpResponse Handle(const HttpRequest& request, Principal* who);

 private:
  struct Reply {  // an operation's JSON output, or its error
    nlohmann::json body;
    std::optional<AwsError> error;
    static Reply Of(nlohmann::json body) { return {std::move(body), std::nullopt}; }
    static Reply Fail(AwsError error) { return {nlohmann::json(), std::move(error)}; }
  };
  using Operation = Reply (DataApi::*)(const Principal&, const nlohmann::json&);
  static Operation FindOperation(const std::string& target);

  Reply ExecuteStatement(const Principal& who, const nlohmann::json& in);
  Reply BatchExecuteStatement(const Principal& who, const nlohmann::json& in);
  Reply Execute(const Principal& who, const nlohmann::json& in, bool batch);
  Reply DescribeStatement(const Principal& who, const nlohmann::json& in);
  Reply GetStatementResult(const Principal& who, const nlohmann::json& in);
  Reply GetStatementResultV2(const Principal& who, const nlohmann::json& in);
  Reply CancelStatement(const Principal& who, const nlohmann::json& in);
  Reply ListStatements(const Principal& who, const nlohmann::json& in);
  // data_api_catalog.cc
  Reply ListDatabases(const Principal& who, const nlohmann::json& in);
  Reply ListSchemas(const Principal& who, const nlohmann::json& in);
  Reply ListTables(const Principal& who, const nlohmann::json& in);
  Reply DescribeTable(const Principal& who, const nlohmann::json& in);

  struct ResultPage {
    std::string id;
    std::unique_ptr<StoredResult> result;
    int page = 0;
  };
  // The result and page that Id and NextToken of `in` name.
  std::optional<AwsError> OpenResultPage(const Principal& who, const nlohmann::json& in, ResultPage* out);
  static nlohmann::json ResultPageJson(const ResultPage& page, nlohmann::json records);

  // The fleetlog workgroup for WorkgroupName / ClusterIdentifier ("" when neither is given).
  Result<std::string> WorkgroupFor(const nlohmann::json& in);
  // MaxResults of `in` within 0..limit (0: the default page); ValidationException otherwise.
  Result<int> PageSize(const nlohmann::json& in, int limit) const;

  const DataApiOptions options_;
  StatementService& statements_;
  SigV4Authenticator auth_;
};

}  // namespace fleetlog
