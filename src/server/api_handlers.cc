// The handlers of the HTTP API: each turns one request into a call of the statement service
// (or the state store) and its answer into JSON. Routing, authentication and logging are in
// server.cc.
#include <nlohmann/json.hpp>

#include "server/api_json.h"
#include "server/fleet.h"
#include "server/server.h"

namespace fleetlog {

using nlohmann::json;


Server::Reply Server::PostStatement(const Principal& who, const HttpRequest& req, HttpResponse&) {
  auto request = ParseExecuteRequest(req.body, /*batch=*/false);
  if (!request.ok()) return Reply::Of(request.status());
  auto id = statements_->Execute(who, *request);
  if (!id.ok()) return Reply::Of(id.status());
  return {200, {{"id", *id}}};
}

Server::Reply Server::PostBatch(const Principal& who, const HttpRequest& req, HttpResponse&) {
  auto request = ParseExecuteRequest(req.body, /*batch=*/true);
  if (!request.ok()) return Reply::Of(request.status());
  auto id = statements_->Execute(who, *request);
  if (!id.ok()) return Reply::Of(id.status());
  return {200, {{"id", *id}}};
}

// A long poll: with ?wait=D (a duration, at most kMaxWait) the answer waits until the
// statement has ended or D has passed, so that a client learns of the end at once instead of
// at its next poll. The status and the result both take it: a client that asks for the
// result with a wait gets it in the same round trip as the end.
constexpr Duration kMaxWait = Duration::Seconds(30);

// Parks `res` until statement `id` ends or the request's ?wait passes, when it asks to wait
// and has not been parked yet; the handler then answers as it would now (the server sends
// that answer when it cannot park). Fails for a bad wait or an unknown statement.
Status Server::WaitForEndOf(const Principal& who, const std::string& id, const HttpRequest& req, HttpResponse& res) {
  if (!req.has_param("wait") || req.resumed) return Status::Ok();
  auto wait = ParseDuration(req.get_param_value("wait"));
  if (!wait.ok()) return wait.status().WithContext("wait");
  if (*wait > kMaxWait) return InvalidArgument("wait is at most {}", FormatDuration(kMaxWait));
  if (*wait <= Duration()) return Status::Ok();
  auto info = statements_->Describe(who, id);
  if (!info.ok()) return info.status();
  if (!IsTerminal(info->status)) {
    res.park = [this, who, id, wait = *wait](std::function<void()> wake) {
      statements_->WhenEnded(who, id, wait, std::move(wake));
    };
  }
  return Status::Ok();
}

Server::Reply Server::GetStatement(const Principal& who, const HttpRequest& req, HttpResponse& res) {
  const std::string id = req.matches[1];
  if (Status waited = WaitForEndOf(who, id, req, res); !waited.ok()) return Reply::Of(waited);
  auto info = statements_->Describe(who, id);
  if (!info.ok()) return Reply::Of(info.status());
  return {200, StatementJson(*info)};
}

Server::Reply Server::GetResult(const Principal& who, const HttpRequest& req, HttpResponse& res) {
  const std::string id = req.matches[1];
  const std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
  if (format != "json" && format != "csv") return Reply::Of(InvalidArgument("format must be json or csv"));
  if (Status waited = WaitForEndOf(who, id, req, res); !waited.ok()) return Reply::Of(waited);
  auto opened = statements_->GetResult(who, id);
  if (!opened.ok()) return Reply::Of(opened.status());
  auto result = std::make_shared<StoredResult>(std::move(opened).value());

  if (format == "csv") {
    std::string file = id;
    std::replace(file.begin(), file.end(), ':', '_');
    res.set_header("Content-Disposition", "attachment; filename=\"" + file + ".csv\"");
    // The status line goes out first: a failure half-way cuts the stream without its last
    // chunk, so the client sees an error instead of a download that looks complete.
    auto reader = std::make_shared<std::optional<StoredResult::CsvReader>>();
    res.status = 200;
    res.set_header("Content-Type", "text/csv; charset=utf-8");
    res.stream = [result, reader](std::string* chunk) -> Result<bool> {
      if (!reader->has_value()) {
        ASSIGN_OR_RETURN(auto csv, result->OpenCsv());
        reader->emplace(std::move(csv));
      }
      return (**reader).Next(chunk);
    };
    return {.written = true};
  }

  int page = 0;
  if (req.has_param("next_token")) {
    auto decoded = DecodePageToken(req.get_param_value("next_token"), id);
    if (!decoded.ok()) return Reply::Of(decoded.status());
    page = *decoded;
    if (page >= result->pages()) return Reply::Of(InvalidArgument("next_token points past the end of the result"));
  }
  auto records = result->PageRecords(page);
  if (!records.ok()) return Reply::Of(records.status());
  json columns = json::array();
  for (const auto& c : result->columns()) columns.push_back({{"name", c.name}, {"type", c.type}});
  // The records are stored as JSON already; they are spliced in, not parsed and re-dumped.
  std::string body = R"({"columns":)" + columns.dump() + R"(,"records":[)" + *records +
                     R"(],"total_rows":)" + std::to_string(result->rows());
  if (page + 1 < result->pages()) body += R"(,"next_token":)" + json(EncodePageToken(id, page + 1)).dump();
  body += "}";
  res.status = 200;
  res.set_content(std::move(body), "application/json");
  return {.written = true};
}

Server::Reply Server::PostCancel(const Principal& who, const HttpRequest& req, HttpResponse&) {
  const std::string id = req.matches[1];
  Status s = statements_->Cancel(who, id);
  if (!s.ok()) return Reply::Of(s);
  return {200, {{"id", id}, {"status", true}}};
}

Server::Reply Server::ListStatements(const Principal& who, const HttpRequest& req, HttpResponse&) {
  StatementService::ListFilter filter;
  if (req.has_param("status")) {
    filter.status = ParseStatementStatus(req.get_param_value("status"));
    if (!filter.status)
      return Reply::Of(InvalidArgument("status must be SUBMITTED, PICKED, STARTED, FINISHED, ABORTED or FAILED"));
  }
  filter.name_prefix = req.get_param_value("name_prefix");
  if (req.has_param("next_token")) {
    auto before = DecodeListToken(req.get_param_value("next_token"));
    if (!before.ok()) return Reply::Of(before.status());
    filter.before = *before;
  }
  auto page = statements_->List(who, filter);
  json out = {{"statements", json::array()}};
  for (const auto& s : page.statements) {
    json j = StatementJson(s);
    j.erase("sub_statements");
    out["statements"].push_back(std::move(j));
  }
  if (page.next) out["next_token"] = EncodeListToken(*page.next);
  return {200, std::move(out)};
}

Server::Reply Server::GetTables(const Principal&, const HttpRequest&, HttpResponse&) {
  auto tables = statements_->Tables();
  if (!tables.ok()) return Reply::Of(tables.status());
  json out = {{"tables", json::array()}};
  for (const auto& t : *tables)
    out["tables"].push_back({{"name", t.name}, {"files", t.files}, {"rows", t.rows}, {"bytes", t.bytes}});
  return {200, std::move(out)};
}

Server::Reply Server::GetTable(const Principal&, const HttpRequest& req, HttpResponse&) {
  auto tables = statements_->Tables();
  if (!tables.ok()) return Reply::Of(tables.status());
  const std::string name = req.matches[1];
  for (const auto& t : *tables) {
    if (t.name != name) continue;
    json columns = json::array();
    for (const auto& c : t.columns) columns.push_back({{"name", c.name}, {"type", ColumnTypeSql(c.type)}});
    columns.push_back({{"name", "cluster"}, {"type", "VARCHAR"}});
    columns.push_back({{"name", "dt"}, {"type", "DATE"}});
    return {200, {{"name", t.name}, {"columns", std::move(columns)}, {"files", t.files}, {"rows", t.rows}, {"bytes", t.bytes}}};
  }
  return Reply::Of(Error(StatusCode::kNotFound, "no lake table \"{}\"", name));
}

Server::Reply Server::GetWorkgroups(const Principal& who, const HttpRequest&, HttpResponse&) {
  json out = {{"workgroups", json::array()}};
  for (const auto& [config, counters] : statements_->WorkgroupStats())
    if (who.may_use(config.name)) out["workgroups"].push_back(WorkgroupJson(config, counters));
  return {200, std::move(out)};
}

Server::Reply Server::GetRuns(const Principal&, const HttpRequest& req, HttpResponse&) {
  std::map<std::string, std::string> query;
  for (const auto& [name, value] : req.params) query.emplace(name, value);
  auto runs = RecentRunsJson(state_, query);
  if (!runs.ok()) return Reply::Of(runs.status());
  return {200, std::move(runs).value()};
}

Server::Reply Server::GetFleet(const Principal&, const HttpRequest&, HttpResponse&) {
  auto fleet = FleetOverview(state_, options_.clusters, clock_->Now());
  if (!fleet.ok()) return Reply::Of(fleet.status());
  return {200, std::move(fleet).value()};
}

}  // namespace fleetlog
