#include "query/engine.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "query/sql_lexer.h"

namespace fleetlog {
namespace {

using duck::QuoteIdent;
using duck::QuoteString;

// An empty, typed relation for a table that has a schema but no files (yet).
std::string EmptyRelation(const TableSchema& schema) {
  std::string cols;
  for (const auto& c : schema) cols += fmt::format("NULL::{} AS {}, ", ColumnTypeSql(c.type), QuoteIdent(c.name));
  return "SELECT " + cols + "NULL::VARCHAR AS cluster, NULL::DATE AS dt WHERE false";
}

const TextView kTextViews[] = {
    {"stl_querytext", "stl_querytext_full", "cluster, query"},
    {"stl_ddltext", "stl_ddltext_full", "cluster, xid, pid, starttime"},
    {"stl_utilitytext", "stl_utilitytext_full", "cluster, xid, pid, starttime"},
};

// Names that read the catalog: a statement with one of them as a word sees every table.
const char* const kCatalogWords[] = {"information_schema", "pg_catalog", "duckdb_tables", "duckdb_views",
                                     "duckdb_columns", "duckdb_dependencies", "show", "show_tables",
                                     "show_tables_expanded"};

// Which tables get a view: all of them, or those a statement may read.
class ViewSelection {
 public:
  explicit ViewSelection(const std::optional<std::string>& sql) {
    if (!sql) return;
    words_ = LowerWords(*sql);
    for (const char* w : kCatalogWords)
      if (words_->count(w)) words_.reset();
  }

  bool Wants(const std::string& table) const {
    if (!words_ || words_->count(table)) return true;
    for (const auto& v : kTextViews)
      if (table == v.table && words_->count(v.view)) return true;
    return false;
  }

 private:
  std::optional<std::set<std::string>> words_;  // unset: every table
};

// The rows of a table's published files. Files that record their columns are read in groups
// of equal columns without union_by_name, so binding reads one footer per group instead of
// every footer; files from before columns were recorded still need union_by_name. The
// groups are combined by name, so a column a group lacks reads as NULL (schema drift).
std::string FilesRelation(const std::string& lake_root, const std::vector<const CommittedFile*>& files) {
  std::map<std::string, std::string> lists;  // columns -> quoted paths
  for (const auto* f : files) {
    std::string& list = lists[f->columns];
    list += (list.empty() ? "" : ", ") + QuoteString(lake_root + "/" + f->path);
  }
  std::string relation;
  for (const auto& [columns, list] : lists) {
    relation += fmt::format("{}SELECT * FROM read_parquet([{}], hive_partitioning = true, {}"
                            "hive_types = {{'cluster': VARCHAR, 'dt': DATE}})",
                            relation.empty() ? "" : " UNION ALL BY NAME ", list,
                            columns.empty() ? "union_by_name = true, " : "");
  }
  return relation;
}

// Skips blanks and SQL comments from `pos`.
size_t SkipBlanks(std::string_view sql, size_t pos) {
  for (;;) {
    while (pos < sql.size() && std::isspace(static_cast<unsigned char>(sql[pos]))) ++pos;
    if (sql.substr(pos, 2) == "--") {
      pos = sql.find('\n', pos);
      if (pos == std::string_view::npos) return sql.size();
    } else if (sql.substr(pos, 2) == "/*") {
      pos = sql.find("*/", pos + 2);
      if (pos == std::string_view::npos) return sql.size();
      pos += 2;
    } else {
      return pos;
    }
  }
}

// When sql[pos] starts the keyword `word` (any case), returns the position after it.
std::optional<size_t> SkipKeyword(std::string_view sql, size_t pos, std::string_view word) {
  if (sql.size() - pos < word.size()) return std::nullopt;
  for (size_t i = 0; i < word.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(sql[pos + i])) != word[i]) return std::nullopt;
  const size_t end = pos + word.size();
  if (end < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '_')) return std::nullopt;
  return end;
}

// The statement an EXPLAIN explains: `sql` after EXPLAIN, an optional ANALYZE and an optional
// (options) list. Empty when `sql` does not have that shape.
std::string_view ExplainedStatement(std::string_view sql) {
  auto pos = SkipKeyword(sql, SkipBlanks(sql, 0), "EXPLAIN");
  if (!pos) return {};
  size_t p = SkipBlanks(sql, *pos);
  if (auto a = SkipKeyword(sql, p, "ANALYZE")) p = SkipBlanks(sql, *a);
  else if (auto b = SkipKeyword(sql, p, "ANALYSE")) p = SkipBlanks(sql, *b);
  if (p < sql.size() && sql[p] == '(') {
    const size_t close = sql.find(')', p);
    if (close == std::string_view::npos) return {};
    p = close + 1;
  }
  return sql.substr(p);
}

const char* const kReadOnlyOnly =
    "only read-only queries run here (SELECT, WITH, EXPLAIN, DESCRIBE, SUMMARIZE); statements that write files, "
    "attach databases, load extensions or change settings are refused";

}  // namespace

std::span<const TextView> TextViews() { return kTextViews; }

Result<std::unique_ptr<QueryEngine>> QueryEngine::Open(const EngineOptions& options, StateStore* state) {
  std::unique_ptr<QueryEngine> engine(new QueryEngine());
  ASSIGN_OR_RETURN(engine->db_, duck::Database::OpenInMemory({
      {"memory_limit", std::to_string(options.memory_limit_bytes) + "B"},
      {"threads", std::to_string(options.threads)},
      {"temp_directory", options.lake_root + "/" + LakeLayout::TmpDir() + "/query"},
      {"autoinstall_known_extensions", "false"},
      {"autoload_known_extensions", "false"},
      {"allow_community_extensions", "false"},
      {"allow_unsigned_extensions", "false"},
  }));
  ASSIGN_OR_RETURN(engine->conn_, duck::Connection::Open(engine->db_));
  auto& conn = *engine->conn_;

  if (state != nullptr) {
    ASSIGN_OR_RETURN(auto files, state->ListFiles({.states = {FileState::kPublished}}));
    std::map<std::string, std::vector<const CommittedFile*>> by_table;
    for (const auto& f : files) by_table[f.table].push_back(&f);
    ASSIGN_OR_RETURN(auto keys, state->ListKeys("schema/"));
    for (const auto& key : keys) by_table.try_emplace(key.substr(7));
    const ViewSelection selection(options.views_for_sql);
    std::set<std::string> viewed;
    for (const auto& [table, table_files] : by_table) {
      LakeTable info{.name = table};
      ASSIGN_OR_RETURN(info.columns, StoredSchema(*state, table));
      if (table_files.empty() && info.columns.empty()) continue;
      for (const auto* f : table_files) {
        info.files++;
        info.rows += f->rows;
        info.bytes += f->bytes;
      }
      engine->tables_.push_back(std::move(info));
      if (!selection.Wants(table)) continue;
      const std::string relation = table_files.empty() ? EmptyRelation(engine->tables_.back().columns)
                                                       : FilesRelation(options.lake_root, table_files);
      RETURN_IF_ERROR(conn.Exec(fmt::format("CREATE VIEW {} AS {}", QuoteIdent(table), relation))
                          .WithContext("creating the view of " + table));
      viewed.insert(table);
    }
    for (const auto& v : kTextViews) {
      if (!viewed.count(v.table)) continue;
      RETURN_IF_ERROR(conn.Exec(fmt::format(
          "CREATE VIEW {0} AS SELECT {1}, any_value(userid) AS userid, replace(string_agg(text, '' ORDER BY sequence), "
          "'\\n', chr(10)) AS text, count(*) AS pieces, min(dt) AS dt FROM {2} GROUP BY {1}",
          v.view, v.group, v.table)));
    }
  }

  // The sandbox, in this order: after lock_configuration nothing can loosen it.
  std::string allowed = QuoteString(options.lake_root + "/");
  for (const auto& dir : options.extra_allowed_dirs) allowed += ", " + QuoteString(dir + "/");
  RETURN_IF_ERROR(conn.Exec(fmt::format("SET allowed_directories = [{}]", allowed)));
  RETURN_IF_ERROR(conn.Exec("SET enable_external_access = false"));
  RETURN_IF_ERROR(conn.Exec("SET lock_configuration = true"));
  return engine;
}

Result<duck::QueryResult> QueryEngine::Run(const std::string& sql) {
  ASSIGN_OR_RETURN(auto types, conn_->StatementTypes(sql));
  for (auto type : types) {
    if (type != DUCKDB_STATEMENT_TYPE_SELECT && type != DUCKDB_STATEMENT_TYPE_EXPLAIN)
      return Status(StatusCode::kPermissionDenied, kReadOnlyOnly);
    if (type != DUCKDB_STATEMENT_TYPE_EXPLAIN) continue;
    // EXPLAIN ANALYZE runs what it explains (a COPY into the lake, say), so the explained
    // statement must pass the same check. It is found in the text, so EXPLAIN runs alone.
    if (types.size() != 1)
      return Status(StatusCode::kPermissionDenied, "run EXPLAIN on its own, not beside other statements");
    const std::string_view explained = ExplainedStatement(sql);
    auto inner = explained.empty() ? Result<std::vector<duckdb_statement_type>>(Status(StatusCode::kInvalidArgument, ""))
                                   : conn_->StatementTypes(explained);
    if (!inner.ok() || inner->empty() ||
        std::any_of(inner->begin(), inner->end(), [](auto t) { return t != DUCKDB_STATEMENT_TYPE_SELECT; }))
      return Status(StatusCode::kPermissionDenied, std::string("EXPLAIN works on SELECT queries only; ") + kReadOnlyOnly);
  }
  if (types.size() != 1)
    return InvalidArgument("{} statements given; run one at a time (the HTTP API runs several as a batch)", types.size());
  ASSIGN_OR_RETURN(auto prepared, conn_->Prepare(sql));
  const size_t columns = prepared->column_count();
  bool readable = true;
  for (size_t c = 0; c < columns; ++c) readable = readable && duck::IsReadableAsText(prepared->column_type(c));
  if (readable) return prepared->Execute();

  // Some columns (LIST, STRUCT, MAP, ENUM, UUID, ...) cannot be read as text from a result:
  // run the statement as a view with those columns cast to VARCHAR, DuckDB's own text form,
  // and keep their declared types for the caller.
  std::vector<duckdb_type> types_before(columns);
  std::vector<std::string> names_before(columns);
  std::string select;
  for (size_t c = 0; c < columns; ++c) {
    types_before[c] = prepared->column_type(c);
    names_before[c] = prepared->column_type_name(c);
    const std::string position = "#" + std::to_string(c + 1);
    select += fmt::format("{}{} AS {}", c ? ", " : "",
                          duck::IsReadableAsText(types_before[c]) ? position : "CAST(" + position + " AS VARCHAR)",
                          duck::QuoteIdent(prepared->column_name(c)));
  }
  prepared.reset();
  Status view = conn_->Exec("CREATE OR REPLACE TEMPORARY VIEW fleetlog_result AS " + sql);
  // DESCRIBE, SUMMARIZE and SHOW are not view bodies, but they are subqueries.
  if (!view.ok()) view = conn_->Exec("CREATE OR REPLACE TEMPORARY VIEW fleetlog_result AS SELECT * FROM (\n" + sql + "\n)");
  if (!view.ok())
    return InvalidArgument("the result has a column of type {} that fleetlog cannot show as text here; CAST it to VARCHAR "
                           "({})", names_before[static_cast<size_t>(std::find_if(types_before.begin(), types_before.end(),
                               [](duckdb_type t) { return !duck::IsReadableAsText(t); }) - types_before.begin())],
                           view.message());
  ASSIGN_OR_RETURN(auto result, conn_->Query("SELECT " + select + " FROM fleetlog_result"));
  result.DeclareTypes(std::move(types_before), std::move(names_before));
  return result;
}

}  // namespace fleetlog
