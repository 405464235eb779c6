#include "server/api_json.h"

#include <sodium.h>

#include <charconv>
#include <cstring>

namespace fleetlog {
namespace {

using nlohmann::json;

// Page tokens are base64url without padding (libsodium's URL-safe variant).
std::string Base64Url(std::string_view in) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(in.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(in.data()), in.size(), kVariant);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::optional<std::string> FromBase64Url(std::string_view in) {
  std::string out(in.size() * 3 / 4 + 3, '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), in.data(), in.size(), nullptr, &len,
                        nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return std::nullopt;
  out.resize(len);
  return out;
}

Status ReadString(const json& body, const char* key, std::string* out) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return InvalidArgument("\"{}\" must be a string", key);
  *out = it->get<std::string>();
  return Status::Ok();
}

Result<SqlParameter> ReadParameter(const json& p) {
  if (!p.is_object() || !p.contains("name") || !p["name"].is_string() || !p.contains("value"))
    return InvalidArgument("each parameter must be {{\"name\": string, \"value\": string, number, boolean or null}}");
  for (const auto& [key, value] : p.items())
    if (key != "name" && key != "value") return InvalidArgument("unknown parameter field \"{}\"", key);
  SqlParameter out{.name = p["name"].get<std::string>()};
  const json& v = p["value"];
  if (v.is_string()) out.value = v.get<std::string>();
  else if (v.is_boolean()) out.kind = SqlParameter::Kind::kBool, out.value = v.get<bool>() ? "true" : "false";
  else if (v.is_null()) out.kind = SqlParameter::Kind::kNull;
  else if (v.is_number()) out.kind = SqlParameter::Kind::kNumber, out.value = v.dump();
  else return InvalidArgument("parameter \"{}\": the value must be a string, number, boolean or null", out.name);
  return out;
}

}  // namespace

Result<ExecuteRequest> ParseExecuteRequest(std::string_view body, bool batch) {
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("the request body is not valid JSON");
  if (!doc.is_object()) return InvalidArgument("the request body must be a JSON object");
  const char* sql_key = batch ? "sqls" : "sql";
  for (const auto& [key, value] : doc.items())
    if (key != sql_key && key != "parameters" && key != "workgroup" && key != "name" && key != "client_token")
      return InvalidArgument("unknown field \"{}\"", key);
  ExecuteRequest r{.batch = batch};
  if (batch) {
    auto it = doc.find("sqls");
    if (it == doc.end() || !it->is_array()) return InvalidArgument("\"sqls\" must be an array of strings");
    for (const auto& s : *it) {
      if (!s.is_string()) return InvalidArgument("\"sqls\" must be an array of strings");
      r.sqls.push_back(s.get<std::string>());
    }
  } else {
    std::string sql;
    RETURN_IF_ERROR(ReadString(doc, "sql", &sql));
    if (!sql.empty()) r.sqls.push_back(std::move(sql));
  }
  if (auto it = doc.find("parameters"); it != doc.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidArgument("\"parameters\" must be an array of {{\"name\", \"value\"}}");
    for (const auto& p : *it) {
      ASSIGN_OR_RETURN(SqlParameter param, ReadParameter(p));
      r.parameters.push_back(std::move(param));
    }
  }
  RETURN_IF_ERROR(ReadString(doc, "workgroup", &r.workgroup));
  RETURN_IF_ERROR(ReadString(doc, "name", &r.name));
  RETURN_IF_ERROR(ReadString(doc, "client_token", &r.client_token));
  return r;
}

json StatementJson(const StatementInfo& info) {
  json j = {
      {"id", info.id},
      {"name", info.name},
      {"workgroup", info.workgroup},
      {"sql", info.sql},
      {"is_batch", info.is_batch},
      {"status", StatementStatusName(info.status)},
      {"created_at", FormatTimestampIso(info.created_at)},
      {"updated_at", FormatTimestampIso(info.updated_at)},
      {"duration_ns", info.duration.micros() * 1000},
      {"queue_ns", info.queue.micros() * 1000},
      {"result_rows", info.result_rows},
      {"result_bytes", info.result_bytes},
      {"has_result_set", info.has_result_set},
      {"error", info.error},
      {"sub_statements", json::array()},
  };
  for (const auto& sub : info.sub_statements) j["sub_statements"].push_back(StatementJson(sub));
  return j;
}

json WorkgroupJson(const WorkgroupConfig& c, const WorkgroupCounters& n) {
  return {
      {"name", c.name},
      {"max_concurrent", c.max_concurrent},
      {"max_queued", c.max_queued},
      {"max_scan_bytes", c.max_scan_bytes},
      {"timeout_ns", c.timeout.micros() * 1000},
      {"memory_limit_bytes", c.memory_limit_bytes},
      {"queued", n.queued},
      {"running", n.running},
      {"finished", n.finished},
      {"failed", n.failed},
      {"aborted", n.aborted},
      {"rejected", n.rejected},
      {"queue_wait_ns", n.queue_wait.micros() * 1000},
  };
}

json ErrorJson(const Status& status) { return {{"error", status.message()}, {"code", StatusCodeName(status.code())}}; }

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

std::string EncodePageToken(const std::string& id, int page) { return Base64Url("r1:" + id + ":" + std::to_string(page)); }

Result<int> DecodePageToken(std::string_view token, const std::string& id) {
  const auto text = FromBase64Url(token);
  const std::string prefix = "r1:" + id + ":";
  int page = -1;
  if (text && text->size() > prefix.size() && text->compare(0, prefix.size(), prefix) == 0) {
    const char* begin = text->data() + prefix.size();
    const char* end = text->data() + text->size();
    if (std::from_chars(begin, end, page).ptr != end) page = -1;
  }
  if (page < 0) return InvalidArgument("next_token is not one this statement's result gave out");
  return page;
}

std::string EncodeListToken(uint64_t before) { return Base64Url("l1:" + std::to_string(before)); }

Result<uint64_t> DecodeListToken(std::string_view token) {
  const auto text = FromBase64Url(token);
  uint64_t before = 0;
  if (!text || text->size() < 4 || text->compare(0, 3, "l1:") != 0 ||
      std::from_chars(text->data() + 3, text->data() + text->size(), before).ptr != text->data() + text->size())
    return InvalidArgument("next_token is not one the statement list gave out");
  return before;
}

}  // namespace fleetlog
