#include "client/remote_query.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/text.h"

namespace fleetlog::client {
namespace {

using nlohmann::json;

// The server parks a long poll for at most this long.
constexpr const char* kWait = "30s";

std::string Escape(const std::string& s) { return UriEncode(s, /*keep_slash=*/false); }

// The server's message from an error answer ({"error": ...}), or the body itself.
std::string ErrorOf(const HttpResponse& r) {
  auto j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  std::string text = r.body.substr(0, 300);
  return text.empty() ? "HTTP " + std::to_string(r.status) : text;
}

// A non-2xx answer as a Status: 401 and 403 are the token's, 404 a server without the API
// (or a wrong prefix), 5xx the server's own trouble; the rest is about the request.
Status StatusOf(const HttpResponse& r, const std::string& what) {
  const std::string message = fmt::format("{}: {} (HTTP {})", what, ErrorOf(r), r.status);
  if (r.status == 401 || r.status == 403) return Error(StatusCode::kPermissionDenied, "{}", message);
  if (r.status == 404) return Error(StatusCode::kUnavailable, "{}", message);
  if (r.status >= 500) return Error(StatusCode::kUnavailable, "{}", message);
  return InvalidArgument("{}", message);
}

Result<json> JsonOf(const HttpResponse& r, const std::string& what) {
  if (r.status != 200) return StatusOf(r, what);
  auto j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Error(StatusCode::kUnavailable, "{}: the server's answer is not a JSON object", what);
  return j;
}

// One page of a JSON result ({"columns": [{"name", "type"}], "records": [[...]], "next_token"}),
// read with nlohmann's SAX interface so that numbers keep the literal DuckDB printed.
class PageReader : public json::json_sax_t {
 public:
  PageReader(Grid* grid, bool want_columns) : grid_(grid), want_columns_(want_columns) {}
  std::string next_token;

  bool null() override { return Cell(std::nullopt); }
  bool boolean(bool v) override { return Cell(v ? "true" : "false"); }
  bool number_integer(json::number_integer_t v) override { return Cell(std::to_string(v)); }
  bool number_unsigned(json::number_unsigned_t v) override { return Cell(std::to_string(v)); }
  bool number_float(json::number_float_t, const std::string& s) override { return Cell(s); }
  bool string(std::string& s) override {
    if (depth_ == 1 && key_ == "next_token")
      next_token = s;
    else if (depth_ == 3 && key_ == "columns" && want_columns_) {
      if (column_key_ == "name") grid_->columns.back().name = s;
      if (column_key_ == "type") {
        grid_->columns.back().numeric = IsNumericTypeName(s);
        grid_->columns.back().boolean = s == "BOOLEAN";
      }
    } else
      return Cell(std::move(s));
    return true;
  }
  bool binary(json::binary_t&) override { return false; }
  bool start_object(std::size_t) override {
    ++depth_;
    if (depth_ == 3 && key_ == "columns" && want_columns_) grid_->columns.emplace_back();
    return depth_ == 1 || (depth_ == 3 && key_ == "columns");
  }
  bool key(std::string& k) override {
    if (depth_ == 1)
      key_ = k;
    else
      column_key_ = k;
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth_;
    if (depth_ == 3 && key_ == "records") grid_->rows.emplace_back();
    return depth_ <= 3;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  bool Cell(std::optional<std::string> v) {
    if (depth_ == 3 && key_ == "records") grid_->rows.back().push_back(std::move(v));
    return true;  // other scalars (total_rows) are not needed
  }

  Grid* grid_;
  bool want_columns_;
  int depth_ = 0;
  std::string key_, column_key_;
};

// Waits until the statement ends; fails unless it FINISHED, with the statement's error.
Status AwaitFinished(HttpConnection& c, const std::string& id) {
  for (;;) {
    BodySink sink;
    ASSIGN_OR_RETURN(HttpResponse r, c.Get("/v1/statements/" + Escape(id) + "?wait=" + kWait, sink));
    ASSIGN_OR_RETURN(json status, JsonOf(r, "statement " + id));
    const std::string s = status.value("status", "");
    if (s == "FINISHED") return Status::Ok();
    if (s != "FAILED" && s != "ABORTED") continue;
    std::string error = status.value("error", "");
    if (error.empty()) error = s == "ABORTED" ? "the statement was cancelled" : "the statement " + s;
    return InvalidArgument("{}", error);
  }
}

// The result's first answer. Asked with the long poll (`get` adds "wait=..." to the query
// string), it comes when the statement ends; a 400 means that it still runs after the wait,
// or that it failed: the status says which, and a finished statement's result is asked for
// again.
Result<HttpResponse> FirstAnswer(HttpConnection& c, const std::string& id,
                                 const std::function<Result<HttpResponse>(const std::string& query)>& get) {
  ASSIGN_OR_RETURN(HttpResponse r, get(std::string("wait=") + kWait));
  if (r.status != 400) return r;
  RETURN_IF_ERROR(AwaitFinished(c, id));
  return get("");
}

Status Fetch(HttpConnection& c, const RemoteQueryOptions& o, const std::string& id, std::ostream& out) {
  const std::string result = "/v1/statements/" + Escape(id) + "/result";
  if (o.format == OutputFormat::kCsv) {
    // A 200 streams the rows to `out` as they come.
    ASSIGN_OR_RETURN(HttpResponse r, FirstAnswer(c, id, [&](const std::string& query) {
                       BodySink rows(&out, o.format_options.csv_line_end);
                       return c.Get(result + "?format=csv" + (query.empty() ? "" : "&" + query), rows);
                     }));
    return r.status == 200 ? Status::Ok() : StatusOf(r, "result of " + id);
  }
  ASSIGN_OR_RETURN(HttpResponse r, FirstAnswer(c, id, [&](const std::string& query) {
                     BodySink page;
                     return c.Get(result + (query.empty() ? "" : "?" + query), page);
                   }));
  Grid grid;
  for (bool first = true;; first = false) {
    if (r.status != 200) return StatusOf(r, "result of " + id);
    PageReader reader(&grid, first);
    if (!json::sax_parse(r.body, &reader))
      return Error(StatusCode::kUnavailable, "result of {}: the server's page is not the API's JSON", id);
    if (reader.next_token.empty()) break;
    BodySink page;
    ASSIGN_OR_RETURN(r, c.Get(result + "?next_token=" + Escape(reader.next_token), page));
  }
  WriteGrid(grid, o.format, out, o.format_options);
  return Status::Ok();
}

}  // namespace

bool IsNumericTypeName(std::string_view type) {
  static constexpr std::string_view kNumeric[] = {"TINYINT",   "SMALLINT", "INTEGER", "BIGINT",   "HUGEINT", "UTINYINT",
                                                  "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT",   "DOUBLE"};
  for (std::string_view n : kNumeric)
    if (type == n) return true;
  return type.starts_with("DECIMAL");
}

Status CheckServerUrl(std::string_view url) {
  if (url.starts_with("http://") || url.starts_with("https://")) return Status::Ok();
  return InvalidArgument("server \"{}\": give an http:// or https:// URL, such as http://localhost:8080", url);
}

Status RunRemoteQuery(const RemoteQueryOptions& o, std::ostream& out) {
  RETURN_IF_ERROR(CheckServerUrl(o.server));
  std::string base = o.server;
  while (base.ends_with('/')) base.pop_back();
  if (!IsValidUtf8(o.sql)) return InvalidArgument("the SQL is not valid UTF-8");
  InterruptGuard guard;
  ASSIGN_OR_RETURN(std::unique_ptr<HttpConnection> connection, o.connect(base, o.token));
  HttpConnection& c = *connection;

  auto submitted = c.Post("/v1/statements", json{{"sql", o.sql}}.dump(), /*interruptible=*/true);
  if (!submitted.ok()) return submitted.status();
  auto answer = JsonOf(*submitted, "submitting the statement");
  if (!answer.ok()) return answer.status();
  const std::string id = answer->value("id", "");
  if (id.empty()) return Error(StatusCode::kUnavailable, "the server's answer to the statement has no id");

  Status fetched = Fetch(c, o, id, out);
  if (fetched.code() == StatusCode::kCancelled) {
    // Cancelled here, so cancelled there: the statement must not keep a workgroup's slot.
    InterruptGuard::Clear();
    auto cancel = c.Post("/v1/statements/" + Escape(id) + "/cancel", "{}", /*interruptible=*/false);
    return Error(StatusCode::kCancelled, "interrupted; statement {} {}", id,
                 cancel.ok() && cancel->status == 200 ? "cancelled on the server" : "may still run on the server");
  }
  return fetched;
}

int QueryOnServer(const std::string& server, std::string sql, OutputFormat format, const FormatOptions& format_options,
                  const HttpConnector& connect) {
  if (Status url = CheckServerUrl(server); !url.ok()) {
    std::cerr << "fleetlog: " << url.message() << "\n";
    return 2;
  }
  if (sql == "-") sql.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  const char* token = std::getenv("FLEETLOG_TOKEN");
  const RemoteQueryOptions options{.server = server,
                                   .token = token ? token : "",
                                   .sql = std::move(sql),
                                   .format = format,
                                   .format_options = format_options,
                                   .connect = connect};
  const Status s = RunRemoteQuery(options, std::cout);
  std::cout.flush();
  if (s.ok()) return 0;
  std::cerr << "fleetlog: query failed: " << s.message() << "\n";
  return s.code() == StatusCode::kCancelled ? 130 : 1;
}

std::optional<QuickQuery> ParseQuickQuery(int argc, const char* const* argv, const char* env_server) {
  // The value of `--name V` or `--name=V` at argv[*i] (moving *i past V), or nullopt.
  const auto value_of = [&](std::string_view name, int* i) -> std::optional<std::string> {
    const std::string_view arg = argv[*i];
    if (arg == name && *i + 1 < argc) return std::string(argv[++*i]);
    if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=')
      return std::string(arg.substr(name.size() + 1));
    return std::nullopt;
  };
  int i = 1;
  for (; i < argc && std::string_view(argv[i]) != "query"; ++i)
    if (!value_of("--config", &i)) return std::nullopt;  // the one global option allowed; unused here
  if (i >= argc) return std::nullopt;
  QuickQuery q;
  std::optional<std::string> server, sql;
  bool positional_only = false;
  for (++i; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (positional_only || arg == "-" || !arg.starts_with("-")) {
      if (sql) return std::nullopt;
      sql = std::string(arg);
    } else if (arg == "--" && !positional_only) {
      positional_only = true;
    } else if (arg == "--crlf" && !q.crlf) {
      q.crlf = true;
    } else if (auto v = value_of("--format", &i); v && !q.format) {
      if (!ParseOutputFormat(*v).ok()) return std::nullopt;  // the full parser says what is wrong
      q.format = *v;
    } else if (auto u = value_of("--server", &i); u && !server) {
      server = *u;
    } else {
      return std::nullopt;
    }
  }
  if (!server && env_server != nullptr) server = env_server;
  if (!sql || !server || server->empty() || !server->starts_with("http://")) return std::nullopt;
  q.server = std::move(*server);
  q.sql = std::move(*sql);
  return q;
}

std::optional<int> QueryOnServerIfAsked(int argc, const char* const* argv) {
  auto q = ParseQuickQuery(argc, argv, std::getenv("FLEETLOG_SERVER"));
  if (!q) return std::nullopt;
  const OutputFormat format = q->format ? *ParseOutputFormat(*q->format) : QueryFormatForStdout();
  return QueryOnServer(q->server, std::move(q->sql), format, FormatOptions::Crlf(q->crlf), ConnectPlain);
}

}  // namespace fleetlog::client
