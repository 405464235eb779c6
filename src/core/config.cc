#include "core/config.h"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "core/env.h"
#include "core/table_names.h"

extern char** environ;

namespace fleetlog {
namespace {

namespace fs = std::filesystem;

// Collects every problem in one pass so the user fixes them all at once.
class ConfigReader {
 public:
  ConfigReader(std::string file, const std::map<std::string, std::string>& env)
      : file_(std::move(file)), env_(env) {}

  void Fail(const toml::node* node, const std::string& what) {
    const int line = node ? static_cast<int>(node->source().begin.line) : 0;
    problems_.push_back(line > 0 ? fmt::format("{}:{}: {}", file_, line, what) : fmt::format("{}: {}", file_, what));
  }
  bool failed() const { return !problems_.empty(); }
  Status ToStatus() const {
    std::string all;
    for (const auto& p : problems_) all += (all.empty() ? "" : "\n") + p;
    return Status(StatusCode::kInvalidArgument, all);
  }

  // Reports keys of `table` that are not in `allowed`.
  void CheckKeys(const toml::table& table, std::string_view section, std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, node] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      if (key.str() == "password") {
        Fail(&node, fmt::format("a literal password in {} is not allowed: store it with `fleetlog secrets set NAME` "
                                "and write password_secret = \"NAME\", or use password_env = \"VAR\"", section));
        continue;
      }
      std::string hint;
      for (auto a : allowed)
        if (Similar(key.str(), a)) hint = fmt::format(" (did you mean \"{}\"?)", a);
      if (hint.empty()) {
        hint = " (known keys:";
        for (auto a : allowed) hint += fmt::format(" {}", a);
        hint += ")";
      }
      Fail(&node, fmt::format("unknown key \"{}\" in {}{}", key.str(), section, hint));
    }
  }

  std::optional<std::string> String(const toml::table& t, std::string_view key) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) {
      Fail(n, fmt::format("\"{}\" must be a string in quotes", key));
      return std::nullopt;
    }
    return Interpolate(n, n->as_string()->get());
  }

  void ReadString(const toml::table& t, std::string_view key, std::string* out) {
    if (auto v = String(t, key)) *out = *v;
  }

  void ReadDuration(const toml::table& t, std::string_view key, Duration* out) {
    std::optional<Duration> d;
    ReadDuration(t, key, &d);
    if (d) *out = *d;
  }
  void ReadDuration(const toml::table& t, std::string_view key, std::optional<Duration>* out) {
    auto text = String(t, key);
    if (!text) return;
    auto d = ParseDuration(*text);
    if (!d.ok()) return Fail(t.get(key), fmt::format("{}: {}", key, d.status().message()));
    *out = *d;
  }

  void ReadBytes(const toml::table& t, std::string_view key, int64_t* out) {
    const toml::node* n = t.get(key);
    if (!n) return;
    if (n->is_integer()) {
      *out = n->as_integer()->get();
      return;
    }
    auto text = String(t, key);
    if (!text) return;
    auto b = ParseByteSize(*text);
    if (!b.ok()) return Fail(n, fmt::format("{}: {}", key, b.status().message()));
    *out = *b;
  }

  template <typename Int>
  void ReadInt(const toml::table& t, std::string_view key, Int* out, int64_t min, int64_t max) {
    const toml::node* n = t.get(key);
    if (!n) return;
    if (!n->is_integer() || n->as_integer()->get() < min || n->as_integer()->get() > max)
      return Fail(n, fmt::format("\"{}\" must be a whole number from {} to {}", key, min, max));
    *out = static_cast<Int>(n->as_integer()->get());
  }

  void ReadBool(const toml::table& t, std::string_view key, bool* out) {
    const toml::node* n = t.get(key);
    if (!n) return;
    if (!n->is_boolean()) return Fail(n, fmt::format("\"{}\" must be true or false", key));
    *out = n->as_boolean()->get();
  }

  void ReadStrings(const toml::table& t, std::string_view key, std::vector<std::string>* out) {
    const toml::node* n = t.get(key);
    if (!n) return;
    const toml::array* a = n->as_array();
    if (!a) return Fail(n, fmt::format("\"{}\" must be a list of strings, like [\"a\", \"b\"]", key));
    out->clear();
    for (const auto& item : *a) {
      if (!item.is_string()) return Fail(&item, fmt::format("\"{}\" must hold strings only", key));
      out->push_back(Interpolate(&item, item.as_string()->get()));
    }
  }

  // Expands ${VAR}; $$ is a literal $.
  std::string Interpolate(const toml::node* node, const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '$') {
        out += text[i];
      } else if (i + 1 < text.size() && text[i + 1] == '$') {
        out += '$';
        ++i;
      } else if (i + 1 < text.size() && text[i + 1] == '{') {
        const size_t end = text.find('}', i + 2);
        if (end == std::string::npos) {
          Fail(node, "unterminated ${ in a string (write ${NAME}, or $$ for a literal $)");
          return text;
        }
        const std::string name = text.substr(i + 2, end - i - 2);
        auto it = env_.find(name);
        if (it == env_.end()) {
          Fail(node, fmt::format("environment variable {} is not set (set it, or write $$ for a literal $)", name));
        } else {
          out += it->second;
        }
        i = end;
      } else {
        out += '$';
      }
    }
    return out;
  }

 private:
  static bool Similar(std::string_view a, std::string_view b) {
    // One edit apart (insertion, deletion or substitution) is "did you mean".
    if (a == b) return true;
    const size_t la = a.size(), lb = b.size();
    if (la > lb + 1 || lb > la + 1) return false;
    size_t i = 0, j = 0, edits = 0;
    while (i < la && j < lb) {
      if (a[i] == b[j]) { ++i; ++j; continue; }
      if (++edits > 1) return false;
      if (la > lb) ++i;
      else if (lb > la) ++j;
      else { ++i; ++j; }
    }
    return edits + (la - i) + (lb - j) <= 1;
  }

  std::string file_;
  const std::map<std::string, std::string>& env_;
  std::vector<std::string> problems_;
};

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

}  // namespace

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    const size_t eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

namespace {

const toml::table* Section(ConfigReader& r, const toml::table& root, std::string_view name) {
  const toml::node* n = root.get(name);
  if (!n) return nullptr;
  if (!n->is_table()) {
    r.Fail(n, fmt::format("[{}] must be a table (a [{}] header), not a value", name, name));
    return nullptr;
  }
  return n->as_table();
}

// Visits each table of an array of tables ([[name]]).
template <typename F>
void EachEntry(ConfigReader& r, const toml::table& root, std::string_view name, F&& f) {
  const toml::node* n = root.get(name);
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a) return r.Fail(n, fmt::format("{} must be written as [[{}]] entries", name, name));
  for (const auto& item : *a) {
    if (!item.is_table()) {
      r.Fail(&item, fmt::format("each {} must be a [[{}]] table", name, name));
      continue;
    }
    f(*item.as_table());
  }
}

void CheckTableName(ConfigReader& r, const toml::node* where, const std::string& name,
                    const std::set<std::string>& custom_names) {
  if (IsRedshiftTable(name) || custom_names.count(name)) return;
  std::string known;
  for (auto t : kRedshiftTableNames) known += fmt::format(" {}", t);
  for (auto t : kSysTableNames) known += fmt::format(" {}", t);
  r.Fail(where, fmt::format("unknown table \"{}\" (known tables:{}, or the name of a [[custom]] query)", name, known));
}

// Whether a libpq connection string carries a password, as libpq itself reads it (keyword
// form, URI form with user:password@ or ?password=, any spacing or line breaks); an
// unparseable string is an error.
Result<bool> DsnHoldsPassword(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (options == nullptr) {
    std::string message = error ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return InvalidArgument("{}", message);
  }
  bool found = false;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o)
    if (std::string_view(o->keyword) == "password" && o->val != nullptr && *o->val != '\0') found = true;
  PQconninfoFree(options);
  return found;
}

// `views`: stl | sys | both for redshift and sim; Serverless workgroups have only SYS.
void ReadViews(ConfigReader& r, const toml::table& t, ClusterConfig* c) {
  if (c->kind == SourceKind::kRedshiftServerless) c->views = ViewFamily::kSys;
  const toml::node* n = t.get("views");
  if (n == nullptr) return;
  std::string views;
  r.ReadString(t, "views", &views);
  if (c->kind == SourceKind::kPostgres)
    return r.Fail(n, "\"views\" applies to Redshift clusters only (kind = \"redshift\", \"redshift-serverless\" or \"sim\")");
  if (views == "stl") c->views = ViewFamily::kStl;
  else if (views == "sys") c->views = ViewFamily::kSys;
  else if (views == "both") c->views = ViewFamily::kBoth;
  else return r.Fail(n, fmt::format("unknown views \"{}\" (use stl, sys or both)", views));
  if (c->kind == SourceKind::kRedshiftServerless && c->views != ViewFamily::kSys)
    r.Fail(n, "Redshift Serverless has only the SYS monitoring views: write views = \"sys\" or leave it out");
}

// A cluster's own `tables` must be tables it has.
void CheckClusterTables(ConfigReader& r, const toml::node* where, const ClusterConfig& c) {
  for (const auto& name : c.tables) {
    if (!IsRedshiftTable(name) || ClusterHasSystemTable(c, name)) continue;
    if (name == kServerlessOnlyTable)
      r.Fail(where, fmt::format("cluster \"{}\" lists {}, which exists on Redshift Serverless only "
                                "(kind = \"redshift-serverless\")", c.name, name));
    else
      r.Fail(where, fmt::format("cluster \"{}\" lists {}, but its views = \"{}\" does not have it (set views = "
                                "\"{}\" or \"both\" on a provisioned cluster; Serverless has SYS views only)",
                                c.name, name, ViewFamilyName(c.views), IsSysTable(name) ? "sys" : "stl"));
  }
}

void ReadCluster(ConfigReader& r, const toml::table& t, Config* config) {
  r.CheckKeys(t, "[[cluster]]",
              {"name", "kind", "views", "dsn", "password_secret", "password_env", "tables", "seed", "scale", "tags"});
  ClusterConfig c;
  c.line = static_cast<int>(t.source().begin.line);
  r.ReadString(t, "name", &c.name);
  if (c.name.empty()) return r.Fail(&t, "[[cluster]] needs a name, like name = \"product-warehouse\"");
  if (!IsValidName(c.name))
    r.Fail(t.get("name"), fmt::format("cluster name \"{}\" may hold only a-z, 0-9, _ and - (it becomes a lake folder)", c.name));
  if (config->FindCluster(c.name))
    r.Fail(t.get("name"), fmt::format("duplicate cluster \"{}\" (each [[cluster]] needs its own name)", c.name));
  std::string kind = "redshift";
  r.ReadString(t, "kind", &kind);
  if (kind == "redshift") c.kind = SourceKind::kRedshift;
  else if (kind == "redshift-serverless") c.kind = SourceKind::kRedshiftServerless;
  else if (kind == "postgres") c.kind = SourceKind::kPostgres;
  else if (kind == "sim") c.kind = SourceKind::kSim;
  else r.Fail(t.get("kind"), fmt::format("unknown kind \"{}\" (use redshift, redshift-serverless, postgres or sim)", kind));
  ReadViews(r, t, &c);
  r.ReadString(t, "dsn", &c.dsn);
  r.ReadString(t, "password_secret", &c.password_secret);
  r.ReadString(t, "password_env", &c.password_env);
  r.ReadStrings(t, "tables", &c.tables);
  r.ReadStrings(t, "tags", &c.tags);
  if (const auto* n = t.get("seed")) {
    if (!n->is_integer() || n->as_integer()->get() < 0) r.Fail(n, "\"seed\" must be a non-negative whole number");
    else c.seed = static_cast<uint64_t>(n->as_integer()->get());
  }
  if (const auto* n = t.get("scale")) {
    auto v = n->value<double>();
    if (!v || *v <= 0) r.Fail(n, "\"scale\" must be a positive number");
    else c.scale = *v;
  }
  if (c.kind != SourceKind::kSim && c.dsn.empty())
    r.Fail(&t, fmt::format("cluster \"{}\" needs a dsn, like dsn = \"host=... port=5439 dbname=dev user=fleetlog\"", c.name));
  if (auto has_password = DsnHoldsPassword(c.dsn); !has_password.ok())
    // libpq's message may quote the string, password and all: it is not repeated.
    r.Fail(t.get("dsn"), fmt::format("the dsn of cluster \"{}\" is not a libpq connection string (keyword=value pairs, or "
                                     "a postgresql:// URI)", c.name));
  else if (*has_password)
    r.Fail(t.get("dsn"), fmt::format("the dsn of cluster \"{}\" holds a password: remove it and write password_secret = "
                                     "\"NAME\" (see `fleetlog secrets set`) or password_env = \"VAR\"", c.name));
  if (!c.password_secret.empty() && !c.password_env.empty())
    r.Fail(&t, fmt::format("cluster \"{}\" sets both password_secret and password_env: keep one", c.name));
  config->clusters.push_back(std::move(c));
}

void ReadCustom(ConfigReader& r, const toml::table& t, Config* config) {
  r.CheckKeys(t, "[[custom]]", {"name", "cluster", "sql", "cursor", "key", "lookback"});
  CustomQueryConfig q;
  q.line = static_cast<int>(t.source().begin.line);
  r.ReadString(t, "name", &q.name);
  r.ReadString(t, "cluster", &q.cluster);
  r.ReadString(t, "sql", &q.sql);
  r.ReadString(t, "cursor", &q.cursor);
  r.ReadStrings(t, "key", &q.key);
  r.ReadDuration(t, "lookback", &q.lookback);
  if (q.name.empty() || q.sql.empty() || q.cursor.empty() || q.key.empty() || q.cluster.empty())
    return r.Fail(&t, "[[custom]] needs name, cluster, sql, cursor and key (a list of columns)");
  if (!IsValidName(q.name) || q.name.find('-') != std::string::npos)
    r.Fail(t.get("name"), fmt::format("custom table name \"{}\" may hold only a-z, 0-9 and _", q.name));
  if (IsRedshiftTable(q.name))
    r.Fail(t.get("name"), fmt::format("custom table \"{}\" has the name of a Redshift table: choose another", q.name));
  for (const auto& other : config->custom)
    if (other.name == q.name && other.cluster == q.cluster)
      r.Fail(t.get("name"), fmt::format("duplicate [[custom]] \"{}\" for cluster \"{}\"", q.name, q.cluster));
  config->custom.push_back(std::move(q));
}

void ReadDataApi(ConfigReader& r, const toml::table& server, ServerConfig* s) {
  if (const auto* t = Section(r, server, "data_api")) {
    auto& d = s->data_api;
    r.CheckKeys(*t, "[server.data_api]", {"enabled", "path", "region", "database", "clock_skew", "workgroups"});
    r.ReadBool(*t, "enabled", &d.enabled);
    r.ReadString(*t, "path", &d.path);
    r.ReadString(*t, "region", &d.region);
    r.ReadString(*t, "database", &d.database);
    r.ReadDuration(*t, "clock_skew", &d.clock_skew);
    if (d.path.empty() || d.path.front() != '/') r.Fail(t->get("path"), "[server.data_api] path must start with /");
    if (d.path.rfind("/v1/", 0) == 0) r.Fail(t->get("path"), "[server.data_api] path may not be under /v1/");
    if (d.region.empty()) r.Fail(t->get("region"), "[server.data_api] region may not be empty (e.g. \"us-east-1\")");
    if (const toml::node* n = t->get("workgroups")) {
      if (!n->is_table()) {
        r.Fail(n, "[server.data_api] workgroups must be a table of names, like { \"prod-cluster\" = \"default\" }");
      } else {
        for (const auto& [name, value] : *n->as_table()) {
          if (!value.is_string()) r.Fail(&value, fmt::format("workgroups.\"{}\" must name a [[workgroup]]", name.str()));
          else d.workgroups[std::string(name.str())] = value.as_string()->get();
        }
      }
    }
  }
  EachEntry(r, server, "access_key", [&](const toml::table& k) {
    r.CheckKeys(k, "[[server.access_key]]",
                {"name", "access_key_id", "secret_access_key_secret", "secret_access_key_env", "workgroup"});
    if (k.get("secret_access_key"))
      r.Fail(k.get("secret_access_key"), "a literal secret_access_key is not allowed: store it with `fleetlog secrets "
                                         "set NAME` and write secret_access_key_secret = \"NAME\"");
    AccessKeyConfig a;
    r.ReadString(k, "name", &a.name);
    r.ReadString(k, "access_key_id", &a.access_key_id);
    r.ReadString(k, "secret_access_key_secret", &a.secret_name);
    r.ReadString(k, "secret_access_key_env", &a.secret_env);
    r.ReadString(k, "workgroup", &a.workgroup);
    if (a.workgroup.empty()) a.workgroup = "default";
    if (a.name.empty()) a.name = a.access_key_id;
    const bool id_ok = a.access_key_id.size() >= 4 && a.access_key_id.size() <= 128 &&
                       std::all_of(a.access_key_id.begin(), a.access_key_id.end(),
                                   [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; });
    if (!id_ok) r.Fail(&k, "[[server.access_key]] access_key_id must be 4 to 128 letters and digits, like AKIAFLEETLOG0001");
    if (a.secret_name.empty() == a.secret_env.empty())
      r.Fail(&k, fmt::format("access key \"{}\" needs exactly one of secret_access_key_secret = \"NAME\" (the secret "
                             "store) or secret_access_key_env = \"VAR\"", a.name));
    for (const auto& other : s->access_keys)
      if (other.access_key_id == a.access_key_id)
        r.Fail(&k, fmt::format("duplicate access_key_id \"{}\"", a.access_key_id));
    s->access_keys.push_back(std::move(a));
  });
}

void ReadServer(ConfigReader& r, const toml::table& t, Config* config) {
  r.CheckKeys(t, "[server]", {"listen", "tls_cert", "tls_key", "results_dir", "result_ttl", "result_cap", "max_body",
                              "request_timeout", "token", "hosts", "origins", "memory_budget", "ready_max_lag",
                              "data_api", "access_key"});
  ServerConfig s;
  r.ReadString(t, "listen", &s.listen);
  r.ReadString(t, "tls_cert", &s.tls_cert);
  r.ReadString(t, "tls_key", &s.tls_key);
  r.ReadString(t, "results_dir", &s.results_dir);
  r.ReadDuration(t, "result_ttl", &s.result_ttl);
  r.ReadBytes(t, "result_cap", &s.result_cap_bytes);
  r.ReadBytes(t, "max_body", &s.max_body_bytes);
  r.ReadDuration(t, "request_timeout", &s.request_timeout);
  r.ReadStrings(t, "hosts", &s.hosts);
  r.ReadStrings(t, "origins", &s.origins);
  r.ReadBytes(t, "memory_budget", &s.memory_budget_bytes);
  for (const auto& o : s.origins)
    if (!(o.starts_with("http://") || o.starts_with("https://")) || o.find('/', o.find("//") + 2) != std::string::npos)
      r.Fail(t.get("origins"), fmt::format("[server] origins entry \"{}\" must be scheme://host[:port], no path", o));
  r.ReadDuration(t, "ready_max_lag", &s.ready_max_lag);
  if (s.tls_cert.empty() != s.tls_key.empty()) r.Fail(&t, "[server] needs both tls_cert and tls_key, or neither");
  EachEntry(r, t, "token", [&](const toml::table& tok) {
    r.CheckKeys(tok, "[[server.token]]", {"name", "sha256", "workgroup"});
    ApiToken a;
    r.ReadString(tok, "name", &a.name);
    r.ReadString(tok, "sha256", &a.sha256);
    r.ReadString(tok, "workgroup", &a.workgroup);
    if (a.workgroup.empty()) a.workgroup = "default";
    const bool hex = a.sha256.size() == 64 &&
                     std::all_of(a.sha256.begin(), a.sha256.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); });
    if (!hex) r.Fail(&tok, "[[server.token]] sha256 must be the 64 hex digits of SHA-256(token): `printf %s TOKEN | sha256sum`");
    std::transform(a.sha256.begin(), a.sha256.end(), a.sha256.begin(), [](char ch) { return static_cast<char>(std::tolower(ch)); });
    s.tokens.push_back(std::move(a));
  });
  ReadDataApi(r, t, &s);
  config->server = std::move(s);
}

void ReadWorkgroup(ConfigReader& r, const toml::table& t, Config* config) {
  r.CheckKeys(t, "[[workgroup]]", {"name", "max_concurrent", "max_queued", "max_scan_bytes", "timeout", "memory_limit"});
  WorkgroupConfig w;
  r.ReadString(t, "name", &w.name);
  if (!IsValidName(w.name)) return r.Fail(&t, "[[workgroup]] needs a name of a-z, 0-9, _ and -");
  r.ReadInt(t, "max_concurrent", &w.max_concurrent, 1, 1024);
  r.ReadInt(t, "max_queued", &w.max_queued, 0, 1000000);
  r.ReadBytes(t, "max_scan_bytes", &w.max_scan_bytes);
  r.ReadDuration(t, "timeout", &w.timeout);
  r.ReadBytes(t, "memory_limit", &w.memory_limit_bytes);
  for (const auto& other : config->workgroups)
    if (other.name == w.name) r.Fail(t.get("name"), fmt::format("duplicate workgroup \"{}\"", w.name));
  config->workgroups.push_back(std::move(w));
}

template <typename Enum, size_t N>
bool ReadEnum(ConfigReader& r, const toml::table& t, std::string_view key,
              const std::array<std::pair<std::string_view, Enum>, N>& names, Enum* out) {
  auto text = r.String(t, key);
  if (!text) return false;
  for (const auto& [name, value] : names)
    if (*text == name) {
      *out = value;
      return true;
    }
  std::string known;
  for (const auto& [name, value] : names) known += fmt::format("{}{}", known.empty() ? "" : ", ", name);
  r.Fail(t.get(key), fmt::format("unknown {} \"{}\" (use {})", key, *text, known));
  return false;
}

constexpr std::array<std::pair<std::string_view, AlertSource>, 4> kAlertSources = {{
    {"sql", AlertSource::kSql}, {"anomaly", AlertSource::kAnomaly}, {"export_lag", AlertSource::kExportLag},
    {"failing_tables", AlertSource::kFailingTables}}};
constexpr std::array<std::pair<std::string_view, AlertCondition>, 4> kAlertConditions = {{
    {"above", AlertCondition::kAbove}, {"below", AlertCondition::kBelow}, {"equal", AlertCondition::kEqual},
    {"absent", AlertCondition::kAbsent}}};
constexpr std::array<std::pair<std::string_view, ReceiverKind>, 4> kReceiverKinds = {{
    {"webhook", ReceiverKind::kWebhook}, {"slack", ReceiverKind::kSlack}, {"alertmanager", ReceiverKind::kAlertmanager},
    {"email", ReceiverKind::kEmail}}};

void ReadAlert(ConfigReader& r, const toml::table& t, Config* config) {
  r.CheckKeys(t, "[[alert]]", {"name", "source", "sql", "value_column", "cluster", "condition", "threshold", "for",
                               "interval", "repeat", "severity", "labels", "receivers", "summary"});
  AlertRuleConfig a;
  a.line = static_cast<int>(t.source().begin.line);
  r.ReadString(t, "name", &a.name);
  if (a.name.empty()) return r.Fail(&t, "[[alert]] needs a name, like name = \"slow-queries\"");
  if (!IsValidName(a.name)) r.Fail(t.get("name"), fmt::format("alert name \"{}\" may hold only a-z, 0-9, _ and -", a.name));
  for (const auto& other : config->alerts)
    if (other.name == a.name) r.Fail(t.get("name"), fmt::format("duplicate [[alert]] \"{}\" (line {})", a.name, other.line));
  if (!t.get("source")) r.Fail(&t, fmt::format("[[alert]] \"{}\" needs a source: sql, anomaly, export_lag or failing_tables", a.name));
  const bool source_known = ReadEnum(r, t, "source", kAlertSources, &a.source);
  r.ReadString(t, "sql", &a.sql);
  r.ReadString(t, "value_column", &a.value_column);
  r.ReadString(t, "cluster", &a.cluster);
  if (source_known && a.source == AlertSource::kSql && a.sql.empty())
    r.Fail(&t, fmt::format("[[alert]] \"{}\" has source = \"sql\" but no sql: write a query returning a column \"{}\" "
                           "and grouping columns", a.name, a.value_column));
  if (a.source != AlertSource::kSql && t.get("sql"))
    r.Fail(t.get("sql"), fmt::format("[[alert]] \"{}\": sql is only for source = \"sql\"", a.name));
  if (!a.cluster.empty() && a.source != AlertSource::kAnomaly)
    r.Fail(t.get("cluster"), "cluster is only for source = \"anomaly\" (filter in the SQL instead)");
  ReadEnum(r, t, "condition", kAlertConditions, &a.condition);
  if (const auto* n = t.get("threshold")) {
    auto v = n->value<double>();
    if (!v) r.Fail(n, "\"threshold\" must be a number");
    else a.threshold = *v;
  } else if (source_known && a.condition != AlertCondition::kAbsent && a.source != AlertSource::kAnomaly &&
             a.source != AlertSource::kFailingTables) {
    r.Fail(&t, fmt::format("[[alert]] \"{}\" needs a threshold for condition = \"{}\"", a.name,
                           AlertConditionName(a.condition)));
  }
  r.ReadDuration(t, "for", &a.for_);
  r.ReadDuration(t, "interval", &a.interval);
  r.ReadDuration(t, "repeat", &a.repeat);
  if (a.interval && *a.interval < Duration::Seconds(1)) r.Fail(t.get("interval"), "interval must be at least 1s");
  if (a.repeat < Duration::Minutes(1)) r.Fail(t.get("repeat"), "repeat must be at least 1m");
  r.ReadString(t, "severity", &a.severity);
  if (a.severity.empty()) r.Fail(t.get("severity"), "severity must not be empty (e.g. \"critical\", \"warning\", \"info\")");
  r.ReadString(t, "summary", &a.summary);
  r.ReadStrings(t, "receivers", &a.receivers);
  if (const auto* n = t.get("labels")) {
    if (!n->is_table()) {
      r.Fail(n, "\"labels\" must be a table, like labels = { team = \"dba\" }");
    } else {
      for (const auto& [k, v] : *n->as_table()) {
        if (!v.is_string()) r.Fail(&v, fmt::format("label \"{}\" must be a string", k.str()));
        else a.labels[std::string(k.str())] = v.as_string()->get();
      }
    }
  }
  config->alerts.push_back(std::move(a));
}

void ReadReceiver(ConfigReader& r, const toml::table& t, Config* config) {
  r.CheckKeys(t, "[[receiver]]", {"name", "kind", "url", "url_secret", "from", "to", "username", "password_secret",
                                  "starttls", "ca_file", "timeout", "max_attempts", "first_retry"});
  ReceiverConfig c;
  c.line = static_cast<int>(t.source().begin.line);
  r.ReadString(t, "name", &c.name);
  if (!IsValidName(c.name)) return r.Fail(&t, "[[receiver]] needs a name of a-z, 0-9, _ and -");
  for (const auto& other : config->receivers)
    if (other.name == c.name) r.Fail(t.get("name"), fmt::format("duplicate [[receiver]] \"{}\" (line {})", c.name, other.line));
  if (!t.get("kind")) r.Fail(&t, fmt::format("[[receiver]] \"{}\" needs a kind: webhook, slack, alertmanager or email", c.name));
  ReadEnum(r, t, "kind", kReceiverKinds, &c.kind);
  r.ReadString(t, "url", &c.url);
  r.ReadString(t, "url_secret", &c.url_secret);
  r.ReadString(t, "from", &c.from);
  r.ReadStrings(t, "to", &c.to);
  r.ReadString(t, "username", &c.username);
  r.ReadString(t, "password_secret", &c.password_secret);
  r.ReadBool(t, "starttls", &c.starttls);
  r.ReadString(t, "ca_file", &c.ca_file);
  r.ReadDuration(t, "timeout", &c.timeout);
  r.ReadDuration(t, "first_retry", &c.first_retry);
  r.ReadInt(t, "max_attempts", &c.max_attempts, 1, 100);
  if (c.url.empty() == c.url_secret.empty())
    r.Fail(&t, fmt::format("[[receiver]] \"{}\" needs exactly one of url and url_secret (a secret for a URL that "
                           "carries a token: `fleetlog secrets set NAME`)", c.name));
  if (!c.url.empty() && c.url.find("://") == std::string::npos)
    r.Fail(t.get("url"), fmt::format("url \"{}\" needs a scheme, like https:// or smtp://", c.url));
  if (c.kind == ReceiverKind::kEmail && (c.from.empty() || c.to.empty()))
    r.Fail(&t, fmt::format("[[receiver]] \"{}\" of kind email needs from and to (a list of addresses)", c.name));
  if (c.kind != ReceiverKind::kEmail && (t.get("from") || t.get("to") || t.get("password_secret")))
    r.Fail(&t, fmt::format("[[receiver]] \"{}\": from, to and password_secret are only for kind = \"email\"", c.name));
  config->receivers.push_back(std::move(c));
}

void ReadAll(ConfigReader& r, const toml::table& root, const std::string& base_dir, Config* config) {
  r.CheckKeys(root, "the top level", {"lake", "state", "secrets", "export", "table", "cluster", "custom", "query",
                                      "server", "workgroup", "detect", "upkeep", "alert", "receiver", "alerting", "log"});
  config->lake_path = "./lake";
  config->state_path = "./fleetlog.db";
  config->key_file = "./fleetlog.key";
  if (const auto* t = Section(r, root, "lake")) {
    r.CheckKeys(*t, "[lake]", {"path", "cache_size", "cache_dir", "s3"});
    r.ReadString(*t, "path", &config->lake_path);
    r.ReadBytes(*t, "cache_size", &config->lake_cache_bytes);
    r.ReadString(*t, "cache_dir", &config->lake_cache_dir);
    if (const toml::node* s3 = t->get("s3")) {
      if (!s3->is_table()) {
        r.Fail(s3, "[lake.s3] must be a table");
      } else {
        const toml::table& s3t = *s3->as_table();
        r.CheckKeys(s3t, "[lake.s3]", {"endpoint", "region", "path_style", "timeout"});
        r.ReadString(s3t, "endpoint", &config->lake_s3.endpoint);
        r.ReadString(s3t, "region", &config->lake_s3.region);
        bool path_style = false;
        if (s3t.get("path_style")) {
          r.ReadBool(s3t, "path_style", &path_style);
          config->lake_s3.path_style = path_style;
        }
        r.ReadDuration(s3t, "timeout", &config->lake_s3.timeout);
        if (config->lake_s3.timeout < Duration::Seconds(1)) r.Fail(s3t.get("timeout"), "[lake.s3] timeout is at least 1s");
      }
    }
    if (config->lake_path.starts_with("s3://") && config->lake_path.size() <= 5) {
      r.Fail(t->get("path"), "an S3 lake is \"s3://bucket/prefix\"");
    }
  }
  if (const auto* t = Section(r, root, "state")) {
    r.CheckKeys(*t, "[state]", {"path"});
    r.ReadString(*t, "path", &config->state_path);
  }
  if (const auto* t = Section(r, root, "secrets")) {
    r.CheckKeys(*t, "[secrets]", {"key_file"});
    r.ReadString(*t, "key_file", &config->key_file);
  }
  config->export_.tables.assign(kRedshiftTableNames.begin(), kRedshiftTableNames.end());
  config->export_.tables.insert(config->export_.tables.end(), kSysTableNames.begin(), kSysTableNames.end());
  if (const auto* t = Section(r, root, "export")) {
    r.CheckKeys(*t, "[export]", {"interval", "settle", "lookback", "initial_backfill", "tables", "parallelism",
                                 "statement_timeout", "connect_timeout", "part", "part_rows"});
    auto& e = config->export_;
    r.ReadDuration(*t, "interval", &e.interval);
    r.ReadDuration(*t, "settle", &e.settle);
    r.ReadDuration(*t, "lookback", &e.lookback);
    r.ReadDuration(*t, "initial_backfill", &e.initial_backfill);
    r.ReadDuration(*t, "statement_timeout", &e.statement_timeout);
    r.ReadDuration(*t, "connect_timeout", &e.connect_timeout);
    r.ReadStrings(*t, "tables", &e.tables);
    r.ReadInt(*t, "parallelism", &e.parallelism, 1, 256);
    r.ReadDuration(*t, "part", &e.part);
    r.ReadInt(*t, "part_rows", &e.part_rows, 1000, int64_t{1} << 40);
    if (e.part < Duration::Minutes(1)) r.Fail(t->get("part"), "part must be at least 1m");
    if (e.interval < Duration::Seconds(1)) r.Fail(t->get("interval"), "interval must be at least 1s");
  }
  EachEntry(r, root, "custom", [&](const toml::table& t) { ReadCustom(r, t, config); });
  std::set<std::string> custom_names;
  for (const auto& q : config->custom) custom_names.insert(q.name);
  if (const auto* t = Section(r, root, "export")) {
    if (const auto* tables = t->get("tables"))
      for (const auto& name : config->export_.tables) CheckTableName(r, tables, name, custom_names);
  }
  if (const auto* t = Section(r, root, "table")) {
    for (const auto& [name, node] : *t) {
      CheckTableName(r, &node, std::string(name.str()), custom_names);
      if (!node.is_table()) {
        r.Fail(&node, fmt::format("[table.{}] must be a table", name.str()));
        continue;
      }
      r.CheckKeys(*node.as_table(), fmt::format("[table.{}]", name.str()), {"lookback", "keep", "settle"});
      TableConfig tc;
      r.ReadDuration(*node.as_table(), "settle", &tc.settle);
      r.ReadDuration(*node.as_table(), "lookback", &tc.lookback);
      r.ReadDuration(*node.as_table(), "keep", &tc.keep);
      config->table_overrides[std::string(name.str())] = tc;
    }
  }
  EachEntry(r, root, "cluster", [&](const toml::table& t) {
    ReadCluster(r, t, config);
    if (const auto* tables = t.get("tables"); tables && !config->clusters.empty()) {
      for (const auto& name : config->clusters.back().tables) CheckTableName(r, tables, name, custom_names);
      CheckClusterTables(r, tables, config->clusters.back());
    }
  });
  for (const auto& q : config->custom)
    if (!config->FindCluster(q.cluster))
      r.Fail(root.get("custom"), fmt::format("[[custom]] \"{}\" names cluster \"{}\", which no [[cluster]] declares", q.name, q.cluster));
  if (const auto* t = Section(r, root, "query")) {
    r.CheckKeys(*t, "[query]", {"memory_limit", "threads"});
    r.ReadBytes(*t, "memory_limit", &config->query.memory_limit_bytes);
    r.ReadInt(*t, "threads", &config->query.threads, 1, 256);
  }
  if (const auto* t = Section(r, root, "server")) ReadServer(r, *t, config);
  EachEntry(r, root, "workgroup", [&](const toml::table& t) { ReadWorkgroup(r, t, config); });
  if (std::none_of(config->workgroups.begin(), config->workgroups.end(), [](const auto& w) { return w.name == "default"; }))
    config->workgroups.insert(config->workgroups.begin(), WorkgroupConfig{.name = "default"});
  if (config->server)
    for (const auto& tok : config->server->tokens)
      if (std::none_of(config->workgroups.begin(), config->workgroups.end(), [&](const auto& w) { return w.name == tok.workgroup; }))
        r.Fail(root.get("server"), fmt::format("token \"{}\" names workgroup \"{}\", which no [[workgroup]] declares", tok.name, tok.workgroup));
  if (config->server) {
    const auto declared = [&](const std::string& name) {
      return std::any_of(config->workgroups.begin(), config->workgroups.end(), [&](const auto& w) { return w.name == name; });
    };
    for (const auto& key : config->server->access_keys)
      if (!declared(key.workgroup))
        r.Fail(root.get("server"), fmt::format("access key \"{}\" names workgroup \"{}\", which no [[workgroup]] declares", key.name, key.workgroup));
    for (const auto& [from, to] : config->server->data_api.workgroups)
      if (!declared(to))
        r.Fail(root.get("server"), fmt::format("[server.data_api] workgroups maps \"{}\" to \"{}\", which no [[workgroup]] declares", from, to));
  }
  if (const auto* t = Section(r, root, "detect")) {
    r.CheckKeys(*t, "[detect]", {"enabled", "bucket"});
    r.ReadBool(*t, "enabled", &config->detect.enabled);
    r.ReadDuration(*t, "bucket", &config->detect.bucket);
  }
  if (const auto* t = Section(r, root, "upkeep")) {
    auto& u = config->upkeep;
    r.CheckKeys(*t, "[upkeep]", {"enabled", "every", "grace", "target_file_size", "max_files_per_partition", "rollup_keep"});
    r.ReadBool(*t, "enabled", &u.enabled);
    r.ReadDuration(*t, "every", &u.every);
    r.ReadDuration(*t, "grace", &u.grace);
    r.ReadBytes(*t, "target_file_size", &u.target_file_bytes);
    r.ReadInt(*t, "max_files_per_partition", &u.max_files_per_partition, 2, 100000);
    r.ReadDuration(*t, "rollup_keep", &u.rollup_keep);
  }
  EachEntry(r, root, "receiver", [&](const toml::table& t) { ReadReceiver(r, t, config); });
  EachEntry(r, root, "alert", [&](const toml::table& t) { ReadAlert(r, t, config); });
  if (const toml::node* alerts = root.get("alert"); alerts && alerts->is_array()) {
    const toml::array& entries = *alerts->as_array();
    for (size_t i = 0; i < config->alerts.size() && i < entries.size(); ++i) {
      const AlertRuleConfig& a = config->alerts[i];
      for (const auto& name : a.receivers)
        if (std::none_of(config->receivers.begin(), config->receivers.end(), [&](const auto& rc) { return rc.name == name; }))
          r.Fail(&entries[i], fmt::format("[[alert]] \"{}\" names receiver \"{}\", which no [[receiver]] declares", a.name, name));
      if (!a.cluster.empty() && !config->FindCluster(a.cluster))
        r.Fail(&entries[i], fmt::format("[[alert]] \"{}\" names cluster \"{}\", which no [[cluster]] declares", a.name, a.cluster));
    }
  }
  if (const auto* t = Section(r, root, "alerting")) {
    r.CheckKeys(*t, "[alerting]", {"dashboard_url"});
    r.ReadString(*t, "dashboard_url", &config->alerting.dashboard_url);
  }
  if (const auto* t = Section(r, root, "log")) {
    r.CheckKeys(*t, "[log]", {"format"});
    std::string format = "text";
    r.ReadString(*t, "format", &format);
    if (format != "text" && format != "json") r.Fail(t->get("format"), fmt::format("unknown log format \"{}\" (use text or json)", format));
    config->log.json = format == "json";
  }

  if (!config->lake_is_s3()) config->lake_path = Resolve(base_dir, config->lake_path);
  config->state_path = Resolve(base_dir, config->state_path);
  config->lake_cache_dir = config->lake_cache_dir.empty()
                               ? (fs::path(config->state_path).parent_path() / "lake-cache").string()
                               : Resolve(base_dir, config->lake_cache_dir);
  config->key_file = Resolve(base_dir, config->key_file);
  if (config->server) {
    auto& s = *config->server;
    s.tls_cert = Resolve(base_dir, s.tls_cert);
    s.tls_key = Resolve(base_dir, s.tls_key);
  }
  for (auto& rc : config->receivers) rc.ca_file = Resolve(base_dir, rc.ca_file);
  if (config->server) {
    auto& s = *config->server;
    s.results_dir = s.results_dir.empty() ? (fs::path(config->state_path).parent_path() / "results").string()
                                          : Resolve(base_dir, s.results_dir);
  }
}

}  // namespace

const char* AlertSourceName(AlertSource source) {
  for (const auto& [name, value] : kAlertSources)
    if (value == source) return name.data();
  return "?";
}
const char* AlertConditionName(AlertCondition condition) {
  for (const auto& [name, value] : kAlertConditions)
    if (value == condition) return name.data();
  return "?";
}
const char* ReceiverKindName(ReceiverKind kind) {
  for (const auto& [name, value] : kReceiverKinds)
    if (value == kind) return name.data();
  return "?";
}

const char* SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kRedshift: return "redshift";
    case SourceKind::kRedshiftServerless: return "redshift-serverless";
    case SourceKind::kPostgres: return "postgres";
    case SourceKind::kSim: return "sim";
  }
  return "?";
}

const char* ViewFamilyName(ViewFamily views) {
  switch (views) {
    case ViewFamily::kStl: return "stl";
    case ViewFamily::kSys: return "sys";
    case ViewFamily::kBoth: return "both";
  }
  return "?";
}

bool ClusterHasSystemTable(const ClusterConfig& cluster, std::string_view table) {
  if (cluster.kind == SourceKind::kPostgres) return false;
  if (IsStlTable(table)) return cluster.views != ViewFamily::kSys;
  if (!IsSysTable(table) || cluster.views == ViewFamily::kStl) return false;
  if (table == kServerlessOnlyTable)
    return cluster.kind == SourceKind::kRedshiftServerless || cluster.kind == SourceKind::kSim;
  return true;
}

const ClusterConfig* Config::FindCluster(std::string_view name) const {
  for (const auto& c : clusters)
    if (c.name == name) return &c;
  return nullptr;
}

std::vector<std::string> Config::TablesOf(const ClusterConfig& cluster) const {
  std::vector<std::string> tables;
  for (const auto& t : cluster.tables.empty() ? export_.tables : cluster.tables)
    if (ClusterHasSystemTable(cluster, t)) tables.push_back(t);
  for (const auto& q : custom)
    if (q.cluster == cluster.name) tables.push_back(q.name);
  return tables;
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; });
}

Result<int64_t> ParseByteSize(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0 || i > 15) return InvalidArgument("bad size \"{}\" (write a number and a unit: 512MB, 2GB, 1GiB)", text);
  int64_t n = std::stoll(std::string(text.substr(0, i)));
  std::string unit(text.substr(i));
  std::transform(unit.begin(), unit.end(), unit.begin(), [](char c) { return static_cast<char>(std::toupper(c)); });
  static const std::map<std::string, int64_t> units = {
      {"", 1},           {"B", 1},           {"KB", 1000},        {"MB", 1000 * 1000}, {"GB", 1000LL * 1000 * 1000},
      {"KIB", 1LL << 10}, {"MIB", 1LL << 20}, {"GIB", 1LL << 30}, {"TB", 1000LL * 1000 * 1000 * 1000}, {"TIB", 1LL << 40}};
  auto it = units.find(unit);
  if (it == units.end()) return InvalidArgument("bad size \"{}\": unknown unit (use B, KB, MB, GB, TB, KiB, MiB, GiB)", text);
  return n * it->second;
}

Result<Config> ParseConfig(const std::string& text, const std::string& path,
                           const std::map<std::string, std::string>* env) {
  const std::map<std::string, std::string> process_env = env ? std::map<std::string, std::string>{} : ProcessEnvironment();
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return InvalidArgument("{}:{}: {} (this is not valid TOML; see `fleetlog init` for an example)", path,
                           e.source().begin.line, e.description());
  }
  ConfigReader reader(path, env ? *env : process_env);
  Config config;
  config.file = path;
  std::error_code ec;  // fs::absolute only joins the working folder; this form does not throw
  const std::string base_dir = fs::absolute(fs::path(path), ec).parent_path().string();
  ReadAll(reader, root, base_dir, &config);
  if (reader.failed()) return reader.ToStatus();
  return config;
}

Result<Config> LoadConfig(const std::string& path) {
  auto text = Env::Default()->ReadFile(path);
  if (!text.ok())
    return InvalidArgument("{}: cannot read the config file ({}); create one with `fleetlog init`, or pass --config PATH",
                           path, text.status().message());
  return ParseConfig(*text, path);
}

}  // namespace fleetlog
