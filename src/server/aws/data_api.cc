#include "server/aws/data_api.h"

#include <algorithm>
#include <cctype>

#include "core/fs.h"
#include "server/api_json.h"
#include "server/aws/data_api_shapes.h"
#include "server/aws/request_members.h"

namespace fleetlog {
namespace {

using nlohmann::json;

constexpr std::string_view kTargetPrefix = "RedshiftData.";
constexpr int kMaxListStatements = 100;  // the model's MaxResults range for ListStatements

std::string NewRequestId() {
  const std::string h = RandomHex(16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

bool IsJsonContentType(const std::string& value) {
  std::string type = value.substr(0, value.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type == kAwsJsonContentType;
}

// ExecuteStatement echoes the connection members it was given.
void EchoConnection(const json& in, json* out) {
  for (const char* key : {"ClusterIdentifier", "WorkgroupName", "Database", "DbUser", "SecretArn"})
    if (auto it = in.find(key); it != in.end() && it->is_string()) (*out)[key] = *it;
}

}  // namespace

DataApi::DataApi(DataApiOptions options, StatementService& statements)
    : options_(std::move(options)),
      statements_(statements),
      auth_(options_.access_keys, options_.anonymous, options_.config.region, options_.config.clock_skew,
            options_.clock) {}

DataApi::Operation DataApi::FindOperation(const std::string& target) {
  static const std::pair<const char*, Operation> kOperations[] = {
      {"ExecuteStatement", &DataApi::ExecuteStatement},
      {"BatchExecuteStatement", &DataApi::BatchExecuteStatement},
      {"DescribeStatement", &DataApi::DescribeStatement},
      {"GetStatementResult", &DataApi::GetStatementResult},
      {"GetStatementResultV2", &DataApi::GetStatementResultV2},
      {"CancelStatement", &DataApi::CancelStatement},
      {"ListStatements", &DataApi::ListStatements},
      {"ListDatabases", &DataApi::ListDatabases},
      {"ListSchemas", &DataApi::ListSchemas},
      {"ListTables", &DataApi::ListTables},
      {"DescribeTable", &DataApi::DescribeTable},
  };
  if (target.compare(0, kTargetPrefix.size(), kTargetPrefix) != 0) return nullptr;
  const std::string name = target.substr(kTargetPrefix.size());
  for (const auto& [op, fn] : kOperations)
    if (name == op) return fn;
  return nullptr;
}

std::optional<HttpResponse> DataApi::CheckHead(const HttpRequest& head) const {
  const std::string target = head.get_header_value("X-Amz-Target");
  if (FindOperation(target) == nullptr)
    return AwsErrorResponse({400, "UnknownOperationException",
                             target.empty() ? "the X-Amz-Target header is missing: send RedshiftData.<Operation>"
                                            : "unknown operation \"" + target + "\" (this endpoint serves RedshiftData.*)"});
  if (!IsJsonContentType(head.get_header_value("Content-Type")))
    return AwsErrorResponse({415, "UnsupportedMediaTypeException",
                             fmt::format("Content-Type must be {}, not \"{}\"", kAwsJsonContentType,
                                         head.get_header_value("Content-Type"))});
  if (auto error = auth_.CheckHeaders(head)) return AwsErrorResponse(*error);
  return std::nullopt;
}

HttpResponse DataApi::Handle(const HttpRequest& request, Principal* who) {
  HttpResponse response = [&] {
    if (auto early = CheckHead(request)) return *early;
    const std::string target = request.get_header_value("X-Amz-Target");
    const json in = request.body.empty() ? json::object() : json::parse(request.body, nullptr, false);
    const bool parsed = !in.is_discarded() && in.is_object();
    const bool execute = target == "RedshiftData.ExecuteStatement" || target == "RedshiftData.BatchExecuteStatement";
    // Who is asking comes first: an unsigned client learns nothing from a parse error.
    if (auto error = auth_.Verify(request, parsed && execute && !in.contains("ClientToken"), who))
      return AwsErrorResponse(*error);
    if (!parsed) return AwsErrorResponse(AwsError::Serialization("the request body is not a JSON object"));
    Reply reply;
    try {
      reply = (this->*FindOperation(target))(*who, in);
    } catch (const std::exception& e) {  // the edge: nothing thrown below may leave the server
      reply = Reply::Fail(AwsError::Internal(fmt::format("internal error: {}", e.what())));
    }
    if (reply.error) return AwsErrorResponse(*reply.error);
    return AwsJsonResponse(reply.body.dump(-1, ' ', false, json::error_handler_t::replace));
  }();
  response.set_header("x-amzn-RequestId", NewRequestId());
  return response;
}

Result<std::string> DataApi::WorkgroupFor(const json& in) {
  ASSIGN_OR_RETURN(const std::string workgroup, OptionalString(in, "WorkgroupName"));
  ASSIGN_OR_RETURN(const std::string cluster, OptionalString(in, "ClusterIdentifier"));
  if (!workgroup.empty() && !cluster.empty())
    return InvalidArgument("give either ClusterIdentifier or WorkgroupName, not both");
  const std::string name = workgroup.empty() ? cluster : workgroup;
  if (name.empty()) return std::string();
  const auto& map = options_.config.workgroups;
  if (auto it = map.find(name); it != map.end()) return it->second;
  for (const auto& [config, counters] : statements_.WorkgroupStats())
    if (config.name == name) return name;
  if (auto it = map.find("*"); it != map.end()) return it->second;
  return InvalidArgument("no workgroup for \"{}\": name a fleetlog workgroup, or map it in [server.data_api] workgroups",
                         name);
}

Result<int> DataApi::PageSize(const json& in, int limit) const {
  auto it = in.find("MaxResults");
  if (it == in.end() || it->is_null()) return 0;
  if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > limit)
    return InvalidArgument("MaxResults must be a whole number from 0 to {}", limit);
  return static_cast<int>(it->get<int64_t>());
}

DataApi::Reply DataApi::ExecuteStatement(const Principal& who, const json& in) { return Execute(who, in, false); }
DataApi::Reply DataApi::BatchExecuteStatement(const Principal& who, const json& in) { return Execute(who, in, true); }

DataApi::Reply DataApi::Execute(const Principal& who, const json& in, bool batch) {
  ExecuteRequest request{.batch = batch};
  const auto invalid = [](const Status& s) { return Reply::Fail(AwsErrorFromStatus(s)); };
  if (batch) {
    auto sqls = RequiredStrings(in, "Sqls");
    if (!sqls.ok()) return invalid(sqls.status());
    request.sqls = std::move(sqls).value();
  } else {
    auto sql = RequiredString(in, "Sql");
    if (!sql.ok()) return invalid(sql.status());
    request.sqls.push_back(std::move(sql).value());
  }
  auto parameters = SqlParameters(in);
  if (!parameters.ok()) return invalid(parameters.status());
  request.parameters = std::move(parameters).value();
  auto workgroup = WorkgroupFor(in);
  if (!workgroup.ok()) return invalid(workgroup.status());
  request.workgroup = std::move(workgroup).value();
  auto name = OptionalString(in, "StatementName");
  auto token = OptionalString(in, "ClientToken");
  if (!name.ok()) return invalid(name.status());
  if (!token.ok()) return invalid(token.status());
  request.name = std::move(name).value();
  request.client_token = std::move(token).value();

  auto id = statements_.Execute(who, request);
  if (!id.ok()) {
    const auto code = id.status().code();
    if (code == StatusCode::kInvalidArgument || code == StatusCode::kResourceExhausted ||
        code == StatusCode::kPermissionDenied || code == StatusCode::kUnavailable)
      return invalid(id.status());
    AwsError e{500, batch ? "BatchExecuteStatementException" : "ExecuteStatementException", id.status().message()};
    e.members["StatementId"] = "";
    return Reply::Fail(std::move(e));
  }
  json out = {{"Id", *id}};
  if (auto info = statements_.Describe(who, *id); info.ok()) out["CreatedAt"] = EpochSeconds(info->created_at);
  EchoConnection(in, &out);
  return Reply::Of(std::move(out));
}

DataApi::Reply DataApi::DescribeStatement(const Principal& who, const json& in) {
  auto id = RequiredString(in, "Id");
  if (!id.ok()) return Reply::Fail(AwsErrorFromStatus(id.status()));
  auto info = statements_.Describe(who, *id);
  if (!info.ok()) return Reply::Fail(AwsErrorFromStatus(info.status(), *id));
  return Reply::Of(DescribeStatementJson(*info));
}

std::optional<AwsError> DataApi::OpenResultPage(const Principal& who, const json& in, ResultPage* out) {
  auto id = RequiredString(in, "Id");
  if (!id.ok()) return AwsErrorFromStatus(id.status());
  auto next = OptionalString(in, "NextToken");
  if (!next.ok()) return AwsErrorFromStatus(next.status());
  auto result = statements_.GetResult(who, *id);
  if (!result.ok()) return AwsErrorFromStatus(result.status(), *id);
  out->page = 0;
  if (!next->empty()) {
    auto decoded = DecodePageToken(*next, *id);
    if (!decoded.ok() || *decoded >= result->pages())
      return AwsError::Validation("NextToken is not one this statement's result gave out");
    out->page = *decoded;
  }
  out->id = std::move(id).value();
  out->result = std::make_unique<StoredResult>(std::move(result).value());
  return std::nullopt;
}

// Records, ColumnMetadata, TotalNumRows and NextToken of a result page; `records` is the
// Records member's JSON text.
json DataApi::ResultPageJson(const ResultPage& page, json records) {
  json out = {{"Records", std::move(records)}, {"ColumnMetadata", json::array()}, {"TotalNumRows", page.result->rows()}};
  for (const auto& c : page.result->columns()) out["ColumnMetadata"].push_back(ColumnMetadataJson(c));
  if (page.page + 1 < page.result->pages()) out["NextToken"] = EncodePageToken(page.id, page.page + 1);
  return out;
}

DataApi::Reply DataApi::GetStatementResult(const Principal& who, const json& in) {
  ResultPage page;
  if (auto error = OpenResultPage(who, in, &page)) return Reply::Fail(std::move(*error));
  auto records = page.result->PageRecords(page.page);
  if (!records.ok()) return Reply::Fail(AwsErrorFromStatus(records.status(), page.id));
  auto fields = FieldRecords(*records, page.result->columns());
  if (!fields.ok()) return Reply::Fail(AwsErrorFromStatus(fields.status(), page.id));
  return Reply::Of(ResultPageJson(page, json::parse(*fields)));
}

DataApi::Reply DataApi::GetStatementResultV2(const Principal& who, const json& in) {
  ResultPage page;
  if (auto error = OpenResultPage(who, in, &page)) return Reply::Fail(std::move(*error));
  auto csv = page.result->PageCsv(page.page);
  if (!csv.ok()) return Reply::Fail(AwsErrorFromStatus(csv.status(), page.id));
  json out = ResultPageJson(page, json::array({{{"CSVRecords", std::move(csv).value()}}}));
  out["ResultFormat"] = "CSV";
  return Reply::Of(std::move(out));
}

DataApi::Reply DataApi::CancelStatement(const Principal& who, const json& in) {
  auto id = RequiredString(in, "Id");
  if (!id.ok()) return Reply::Fail(AwsErrorFromStatus(id.status()));
  if (Status s = statements_.Cancel(who, *id); !s.ok()) return Reply::Fail(AwsErrorFromStatus(s, *id));
  return Reply::Of({{"Status", true}});
}

DataApi::Reply DataApi::ListStatements(const Principal& who, const json& in) {
  StatementService::ListFilter filter;
  auto limit = PageSize(in, kMaxListStatements);
  auto status = OptionalString(in, "Status");
  auto name = OptionalString(in, "StatementName");
  auto next = OptionalString(in, "NextToken");
  for (const Status* s : {&limit.status(), &status.status(), &name.status(), &next.status()})
    if (!s->ok()) return Reply::Fail(AwsErrorFromStatus(*s));
  filter.limit = *limit;
  if (!status->empty() && *status != "ALL") {
    filter.status = ParseStatementStatus(*status);
    if (!filter.status)
      return Reply::Fail(AwsError::Validation("Status must be SUBMITTED, PICKED, STARTED, FINISHED, ABORTED, FAILED or ALL"));
  }
  filter.name_prefix = *name;
  if (!next->empty()) {
    auto before = DecodeListToken(*next);
    if (!before.ok()) return Reply::Fail(AwsError::Validation("NextToken is not one ListStatements gave out"));
    filter.before = *before;
  }
  const auto page = statements_.List(who, filter);
  json out = {{"Statements", json::array()}};
  for (const auto& s : page.statements) out["Statements"].push_back(StatementDataJson(s));
  if (page.next) out["NextToken"] = EncodeListToken(*page.next);
  return Reply::Of(std::move(out));
}

}  // namespace fleetlog
