#include "query/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "core/text.h"
#include "lake/lake_files.h"
#include "query/fleet_views.h"
#include "query/keeper.h"
#include "query/prune.h"
#include "query/sql_lexer.h"
#include "query/workload_hourly.h"

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
    {"stl_querytext", "stl_querytext_full", "cluster, query", "userid"},
    {"stl_ddltext", "stl_ddltext_full", "cluster, xid, pid, starttime", "userid"},
    {"stl_utilitytext", "stl_utilitytext_full", "cluster, xid, pid, starttime", "userid"},
    {"sys_query_text", "sys_query_text_full", "cluster, query_id", "user_id"},
};

// The rows of text view `v`, reassembled from the pieces in `source` (a table, a view, or a
// relation in parentheses).
std::string TextViewSelect(const TextView& v, std::string_view source) {
  return fmt::format(
      "SELECT {0}, any_value({2}) AS {2}, replace({3}, '\\n', chr(10)) AS text, count(*) AS pieces, "
      "min(dt) AS dt FROM {1} GROUP BY {0}",
      v.group, source, v.user, PiecesInOrderSql("text", "sequence"));
}

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
    return !words_ || words_->count(table) || ReadThroughView(table, *words_);
  }

  // Whether the statement may read workload_hourly, which reads its own files (RouteWorkload).
  bool WantsWorkload() const { return !words_ || words_->count(kWorkloadView); }

  // Every table Wants, as a superset; nullopt: any table.
  std::optional<std::set<std::string>> Tables() const {
    // So many words that the state store would not take them as one query's values: any table.
    if (!words_ || WantsWorkload() || words_->size() > 1000) return std::nullopt;
    std::set<std::string> tables = *words_;
    for (const auto& v : kTextViews)
      if (words_->count(v.view)) tables.insert(v.table);
    for (const auto& v : FleetViews())
      if (words_->count(v.name)) tables.insert(v.tables.begin(), v.tables.end());
    return tables;
  }

  // Whether one of `names` is a helper or fleet view that reads `table`.
  static bool ReadThroughView(const std::string& table, const std::set<std::string>& names) {
    if (const TextView* v = TextViewOf(table); v && names.count(v->view)) return true;
    for (const auto& v : FleetViews())
      if (names.count(v.name) && std::find(v.tables.begin(), v.tables.end(), table) != v.tables.end()) return true;
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

// Where a statement may start in `sql`: each letter that follows a byte which cannot be part
// of a word. Keywords are ASCII and a statement starts with one, so the statement an
// EXPLAIN explains starts at one of these, whatever comments, quotes or nesting precede it.
std::vector<size_t> WordStarts(std::string_view sql) {
  std::vector<size_t> starts;
  for (size_t i = 1; i < sql.size(); ++i) {
    const auto prev = static_cast<unsigned char>(sql[i - 1]);
    const bool prev_in_word = std::isalnum(prev) || prev == '_' || prev == '$' || prev >= 0x80;
    if (std::isalpha(static_cast<unsigned char>(sql[i])) && !prev_in_word) starts.push_back(i);
  }
  return starts;
}

constexpr size_t kMaxExplainWords = 1000;

// Whether `sql` starts with the keyword SELECT or FROM (any case), as a whole word.
bool StartsWithQueryWord(std::string_view sql) {
  size_t n = 0;
  while (n < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[n])) || sql[n] == '_')) ++n;
  const std::string word = LowerAscii(sql.substr(0, n));
  return word == "select" || word == "from";
}

const char* const kReadOnlyOnly =
    "only read-only queries run here (SELECT, WITH, EXPLAIN, DESCRIBE, SUMMARIZE); statements that write files, "
    "attach databases, load extensions or change settings are refused";

bool ReadOnlyType(duckdb_statement_type type) {
  return type == DUCKDB_STATEMENT_TYPE_SELECT || type == DUCKDB_STATEMENT_TYPE_EXPLAIN;
}

// EXPLAIN ANALYZE runs the statement it explains, so that statement must be read-only too.
// The C API names an EXPLAIN's type but not what it explains, so DuckDB's parser is asked
// about every tail of the text that starts where a statement could start (see WordStarts):
// the explained statement is one of them and parses alone to its own type. Any tail that
// DuckDB reads as a statement other than a SELECT refuses the EXPLAIN. This can refuse an
// EXPLAIN whose text holds such a statement inside a comment, never the other way round.
// A tail that parses but cannot be prepared refuses it too, unless it starts with SELECT or
// FROM: DuckDB parses those as queries only, and most such tails are the explained query's
// own FROM clause read as a FROM-first query ("FROM t GROUP BY a" binds t's other columns
// without a GROUP BY, and fails).
Status CheckExplained(duck::Connection& conn, std::string_view sql) {
  const std::vector<size_t> starts = WordStarts(sql);
  if (starts.size() > kMaxExplainWords)
    return Status(StatusCode::kPermissionDenied,
                  fmt::format("EXPLAIN works on statements of at most {} words here; run the SELECT itself", kMaxExplainWords));
  for (size_t start : starts) {
    const std::string_view tail = sql.substr(start);
    if (!conn.CountStatements(tail).ok()) continue;  // not a statement: a word inside the explained one
    // A statement DuckDB parses but cannot prepare might be the explained one: refused,
    // unless it is a query.
    auto types = conn.StatementTypes(tail);
    if (!types.ok() && StartsWithQueryWord(tail)) continue;
    if (!types.ok())
      return Status(StatusCode::kPermissionDenied,
                    fmt::format("EXPLAIN works on SELECT queries only; DuckDB cannot prepare part of this one ({})",
                                types.status().message()));
    for (auto t : *types)
      if (!ReadOnlyType(t))
        return Status(StatusCode::kPermissionDenied, std::string("EXPLAIN works on SELECT queries only; ") + kReadOnlyOnly);
  }
  return Status::Ok();
}

// The statement that `sql` explains when it is "EXPLAIN [ANALYZE] <statement>" (any case,
// blanks between), else nullopt. Only for pruning: the explained statement then reads the
// files it would read alone, so that EXPLAIN ANALYZE shows the plan that runs. Anything it
// does not recognise (a comment first, EXPLAIN's options) is nullopt: every file is read.
std::optional<std::string_view> ExplainedStatement(std::string_view sql) {
  const std::vector<SqlToken> tokens = LexSql(sql);
  size_t i = 0;
  const auto skip_blanks = [&] {
    while (i < tokens.size() && tokens[i].kind == SqlToken::Kind::kSpace) ++i;
  };
  // The next token, after blanks, if it is the identifier `word` (any case); then past it.
  const auto take = [&](std::string_view word) {
    skip_blanks();
    if (i == tokens.size() || tokens[i].kind != SqlToken::Kind::kIdentifier || LowerAscii(tokens[i].value) != word)
      return false;
    ++i;
    return true;
  };
  if (!take("explain")) return std::nullopt;
  if (!take("analyze")) take("analyse");
  skip_blanks();
  if (i == tokens.size()) return std::nullopt;
  return sql.substr(tokens[i].begin);
}

}  // namespace

std::span<const TextView> TextViews() { return kTextViews; }

const TextView* TextViewOf(std::string_view table) {
  for (const auto& v : kTextViews)
    if (table == v.table) return &v;
  return nullptr;
}

int64_t KeptRollupRows(const EngineOptions& options) {
  if (options.views_for_sql) return 0;
  return options.kept_rollup_rows.value_or(options.memory_limit_bytes / 8 / kKeptRollupRowBytes);
}

int64_t KeptTableBytes(const EngineOptions& options) {
  if (options.views_for_sql) return 0;
  return options.kept_table_bytes.value_or(options.memory_limit_bytes / 8);
}

int64_t KeptMemoryAllowance(const EngineOptions& options) {
  return KeptRollupRows(options) * kKeptRollupRowBytes + KeptTableBytes(options);
}

std::string PiecesInOrderSql(std::string_view text, std::string_view sequence) {
  // list_sort orders the structs by `s`, NULLs last as ORDER BY does, then by `t`, where
  // string_agg leaves equal sequences in any order; array_to_string skips NULL pieces.
  return fmt::format("array_to_string(list_transform(list_sort(list({{'s': {}, 't': {}}})), p -> p.t), '')", sequence,
                     text);
}

Result<LakeSnapshot> LoadLakeSnapshot(StateStore* state, const std::optional<std::set<std::string>>& tables) {
  LakeSnapshot snapshot;
  if (state == nullptr) return snapshot;
  FileFilter published{.states = {FileState::kPublished}};
  if (tables) published.tables = std::vector<std::string>(tables->begin(), tables->end());
  ASSIGN_OR_RETURN(snapshot.files, state->ListFiles(published));
  ASSIGN_OR_RETURN(auto keys, state->ListKeys("schema/"));
  for (const auto& key : keys) {
    const std::string table = key.substr(7);
    if (tables && !tables->count(table)) continue;
    ASSIGN_OR_RETURN(snapshot.schemas[table], StoredSchema(*state, table));
  }
  return snapshot;
}

std::optional<std::set<std::string>> TablesReadBy(const std::string& sql) { return ViewSelection(sql).Tables(); }

std::vector<LakeTable> LakeTables(const LakeSnapshot& snapshot) {
  std::map<std::string, LakeTable> by_name;
  for (const auto& [table, columns] : snapshot.schemas) by_name[table] = {.name = table, .columns = columns};
  for (const auto& f : snapshot.files) {
    LakeTable& t = by_name[f.table];
    t.name = f.table;
    t.files++;
    t.rows += f.rows;
    t.bytes += f.bytes;
  }
  std::vector<LakeTable> tables;
  for (auto& [name, table] : by_name)
    if (table.files > 0 || !table.columns.empty()) tables.push_back(std::move(table));
  return tables;
}

namespace {

// Checks that committed files are regular files inside the lake, reached through folders that
// are no symlinks: what the engine lets DuckDB open is never a link to something else. Each
// folder is looked at once (lstat), so a lake of thousands of files costs about one lstat a
// file, not a realpath of every component of every path. Outside the Env: these are the local
// files behind committed paths, never followed.
class LakeFileCheck {
 public:
  explicit LakeFileCheck(std::string lake_root) : root_(std::move(lake_root)) {}

  Status Check(const std::string& path) {
    namespace fs = std::filesystem;
    const fs::path relative(path);
    bool plain = !path.empty() && relative.is_relative() && relative.has_filename();
    for (const auto& part : relative) plain = plain && part != ".." && part != "." && !part.empty();
    std::error_code ec;
    std::string folder;
    for (auto part = relative.begin(); plain && std::next(part) != relative.end(); ++part) {
      folder += (folder.empty() ? "" : "/") + part->string();
      if (folders_.count(folder)) continue;
      const auto kind = fs::symlink_status(root_ + "/" + folder, ec);  // outside the Env: a local folder, not followed
      plain = !ec && fs::is_directory(kind);  // outside the Env: its kind, read above
      if (plain) folders_.insert(folder);
    }
    const std::string full = root_ + "/" + path;
    if (plain) {
      const auto kind = fs::symlink_status(full, ec);  // outside the Env: a local file, not followed
      if (!ec && fs::is_regular_file(kind)) return Status::Ok();  // outside the Env: its kind, read above
    }
    return Status(StatusCode::kCorruption,
                  fmt::format("the committed file {} is not a regular file inside the lake (a symlink, or a path through "
                              "one, or missing); it is not read: run `fleetlog verify`", full));
  }

 private:
  std::string root_;
  std::set<std::string> folders_;  // relative folders known to be folders, not symlinks
};

}  // namespace

Result<std::unique_ptr<QueryEngine>> QueryEngine::Open(const EngineOptions& options, StateStore* state) {
  ASSIGN_OR_RETURN(auto snapshot, LoadLakeSnapshot(state));
  return Open(options, snapshot);
}

Result<LocalSnapshot> LocalizeSnapshot(const EngineOptions& options, const LakeSnapshot& snapshot) {
  LocalSnapshot local{.root = options.lake_root, .snapshot = snapshot, .hold = nullptr};
  const ViewSelection selection(options.views_for_sql);
  std::set<const CommittedFile*> routed;  // the files workload_hourly reads
  if (selection.WantsWorkload())
    for (const auto* f : RouteWorkload(local.snapshot.files).files()) routed.insert(f);
  std::vector<CommittedFile*> wanted;
  std::vector<const CommittedFile*> asked;
  for (auto& f : local.snapshot.files) {
    if (!selection.Wants(f.table) && !routed.count(&f)) continue;
    wanted.push_back(&f);
    asked.push_back(&f);
  }
  if (asked.empty()) return local;
  ASSIGN_OR_RETURN(LocalFiles files, ResolveLakeFiles(options.lake_root, *Env::Default(), asked));
  for (size_t i = 0; i < wanted.size(); ++i) wanted[i]->path = files.relative[i];
  local.root = files.root;
  local.hold = std::move(files.hold);
  return local;
}

Result<std::unique_ptr<QueryEngine>> QueryEngine::Open(const EngineOptions& options, const LakeSnapshot& snapshot) {
  // Each file by the local name that stays readable while this engine lives (lake/lake_files.h).
  ASSIGN_OR_RETURN(LocalSnapshot local, LocalizeSnapshot(options, snapshot));
  EngineOptions at_local = options;
  at_local.lake_root = local.root;
  ASSIGN_OR_RETURN(auto engine, OpenLocal(at_local, local.snapshot));
  engine->hold_ = std::move(local.hold);
  return engine;
}

Result<std::unique_ptr<QueryEngine>> QueryEngine::OpenLocal(const EngineOptions& options, const LakeSnapshot& snapshot) {
  std::unique_ptr<QueryEngine> engine(new QueryEngine());
  ASSIGN_OR_RETURN(engine->db_, duck::Database::OpenInMemory({
      {"memory_limit", std::to_string(options.memory_limit_bytes) + "B"},
      // With a confine hook, DuckDB starts its threads only after it (see EngineOptions).
      {"threads", options.confine ? "1" : std::to_string(options.threads)},
      // No temp folder: DuckDB may write its spill files there, and so could COPY TO.
      {"temp_directory", ""},
      {"autoinstall_known_extensions", "false"},
      {"autoload_known_extensions", "false"},
      {"allow_community_extensions", "false"},
      {"allow_unsigned_extensions", "false"},
  }));
  ASSIGN_OR_RETURN(engine->conn_, duck::Connection::Open(engine->db_));
  auto& conn = *engine->conn_;
  // Committed files never change, so their footers may be kept between statements: an
  // engine that lives on (the server's query workers) reads each footer once.
  RETURN_IF_ERROR(conn.Exec("SET parquet_metadata_cache = true"));

  // One statement's engine narrows its views now; a long-lived one narrows them for each
  // statement it runs (PruneViewsFor).
  StatementRanges ranges;
  if (options.views_for_sql && !options.cursor_columns.empty())
    ranges = RangesOf(conn, *options.views_for_sql, options.cursor_columns);
  engine->prune_each_statement_ = !options.views_for_sql && !options.cursor_columns.empty();
  if (ranges.parsed) engine->select_sql_ = *options.views_for_sql;
  engine->cursor_columns_ = options.cursor_columns;
  engine->lake_root_ = options.lake_root;
  // An EXPLAIN reads the files of the statement it explains (as in Run).
  if (const auto explained = options.views_for_sql && !options.cursor_columns.empty() && !ranges.parsed
                                 ? ExplainedStatement(*options.views_for_sql)
                                 : std::nullopt)
    ranges = RangesOf(conn, std::string(*explained), options.cursor_columns);

  std::map<std::string, std::vector<const CommittedFile*>> by_table;
  for (const auto& f : snapshot.files) by_table[f.table].push_back(&f);
  const auto narrowed = PruneTables(by_table, options.cursor_columns, ranges);
  const ViewSelection selection(options.views_for_sql);
  LakeFileCheck lake_files(options.lake_root);
  std::set<std::string> viewed;
  std::set<std::string> readable_paths;
  auto readable = [&](const CommittedFile* f) {
    if (!readable_paths.insert(f->path).second) return;
    engine->readable_files_.push_back(options.lake_root + "/" + f->path);
    engine->readable_bytes_ += f->bytes;
  };
  engine->tables_ = LakeTables(snapshot);
  for (const LakeTable& info : engine->tables_) {
    const std::string& table = info.name;
    const std::vector<const CommittedFile*>& table_files = by_table[table];
    if (!selection.Wants(table)) continue;
    const auto narrow = narrowed.find(table);
    const std::vector<const CommittedFile*>& read = narrow == narrowed.end() ? table_files : narrow->second;
    for (const auto* f : read) {
      RETURN_IF_ERROR(lake_files.Check(f->path).WithContext("table " + table));
      readable(f);
    }
    const std::string relation = read.empty() ? EmptyRelation(info.columns)
                                              : FilesRelation(options.lake_root, read);
    RETURN_IF_ERROR(conn.Exec(fmt::format("CREATE VIEW {} AS {}", QuoteIdent(table), relation))
                        .WithContext("creating the view of " + table));
    viewed.insert(table);
    engine->viewed_tables_.push_back(table);
    if (engine->prune_each_statement_)
      for (const auto* f : table_files) engine->files_.push_back(*f);
  }
  for (const auto& f : engine->files_) engine->files_by_table_[f.table].push_back(&f);
  for (const auto& v : kTextViews) {
    if (!viewed.count(v.table)) continue;
    RETURN_IF_ERROR(conn.Exec(fmt::format("CREATE VIEW {} AS {}", v.view, TextViewSelect(v, v.table))));
    viewed.insert(v.view);
  }
  // A fleet view that cannot be made (a lake whose files lack a column it reads) is left
  // out, quietly, rather than failing every query: a statement naming it says it does not exist.
  for (const auto& v : FleetViews()) {
    const std::string sql = FleetViewSql(v, viewed);
    if (sql.empty()) continue;
    if (Status s = conn.Exec(sql); !s.ok()) spdlog::debug("view {} is not available: {}", v.name, s.message());
  }

  std::vector<KeepJob> jobs;  // what a long-lived engine keeps in memory after first use
  // workload_hourly reads its own files, chosen by day (query/workload_hourly.h): a statement
  // that reads only it may open the roll-ups and the raw files of the days without one, no
  // other. Like a fleet view, it is left out when the lake's files lack a column it reads.
  if (selection.WantsWorkload() && (!snapshot.files.empty() || snapshot.schemas.count(kRollupTable))) {
    const WorkloadRoute route = RouteWorkload(snapshot.files);
    const std::vector<const CommittedFile*> routed = route.files();
    for (const auto* f : routed)
      RETURN_IF_ERROR(lake_files.Check(f->path).WithContext(std::string("view ") + kWorkloadView));
    auto relation = [&](const std::vector<const CommittedFile*>& files) {
      return "(" + FilesRelation(options.lake_root, files) + ")";
    };
    const std::string raw = WorkloadRawRowsSql(route, relation);
    const Status made = conn.Exec(WorkloadViewSql(route, relation, raw.empty() ? "" : "(" + raw + ")"));
    if (made.ok()) std::for_each(routed.begin(), routed.end(), readable);
    else spdlog::debug("view {} is not available: {}", kWorkloadView, made.message());
    // A long-lived engine answers many statements over this snapshot: the raw rows are
    // computed once, after the first that may read the view (workload_rows_kept), not again
    // by every one. So are the newest days' roll-ups, up to an eighth of the engine's memory:
    // a question of recent weeks then reads no file at all. A roll-up file holds one
    // cluster-day, and DuckDB takes about half a millisecond to open one.
    if (made.ok() && !options.views_for_sql) {
      KeepJob job{.name = kWorkloadView, .names = {kWorkloadView}};
      if (!raw.empty()) job.steps.push_back(fmt::format("CREATE TABLE {} AS {}", kWorkloadRawTable, raw));
      KeptRollups kept;
      const auto newest = NewestRollups(route, KeptRollupRows(options));
      if (!newest.empty()) {
        job.steps.push_back(
            fmt::format("CREATE TABLE {} AS {}", kWorkloadRollupRowsTable, WorkloadRollupRowsSql(newest, relation)));
        kept = {kWorkloadRollupRowsTable, {newest.begin(), newest.end()}};
      }
      if (!job.steps.empty()) {
        job.steps.push_back(WorkloadViewSql(route, relation, raw.empty() ? "" : kWorkloadRawTable, kept));
        for (const char* table : {kWorkloadRawTable, kWorkloadRollupRowsTable})
          job.undo.push_back(fmt::format("DROP TABLE IF EXISTS {}", table));
        jobs.push_back(std::move(job));
      }
    }
  }

  // The smallest tables, whose statements would open many small files each, are kept whole
  // in memory by a long-lived engine; a table with a text view as its reassembled statements,
  // which is what statements ask of it (the pieces stay in their files).
  if (!options.views_for_sql) {
    for (const std::string& table : TablesToKeep(engine->tables_, KeptTableBytes(options))) {
      const auto& files = by_table[table];
      if (files.empty() || !viewed.count(table)) continue;
      const std::string relation = "(" + FilesRelation(options.lake_root, files) + ")";
      const TextView* text = TextViewOf(table);
      const std::string name = text ? text->view : table;
      const std::string copy = QuoteIdent(name + "_kept_rows");
      KeepJob job{.name = name, .names = {table, name}};
      for (const auto& v : FleetViews())
        if (std::find(v.tables.begin(), v.tables.end(), table) != v.tables.end()) job.names.insert(v.name);
      job.steps.push_back(fmt::format("CREATE TABLE {} AS {}", copy,
                                      text ? TextViewSelect(*text, relation) : "SELECT * FROM " + relation));
      job.steps.push_back(fmt::format("CREATE OR REPLACE VIEW {} AS SELECT * FROM {}", QuoteIdent(name), copy));
      job.undo.push_back("DROP TABLE IF EXISTS " + copy);
      jobs.push_back(std::move(job));
    }
  }
  if (!jobs.empty()) engine->keeper_ = std::make_unique<Keeper>(engine->db_, std::move(jobs));

  if (options.confine) {
    RETURN_IF_ERROR(options.confine(engine->readable_files_));
    if (options.threads > 1) RETURN_IF_ERROR(conn.Exec(fmt::format("SET threads = {}", options.threads)));
  }
  // The sandbox, in this order: after lock_configuration nothing can loosen it. Exactly the
  // files of the views may be opened; no folder, so nothing can be listed or created.
  std::string allowed;
  for (const auto& path : engine->readable_files_) allowed += (allowed.empty() ? "" : ", ") + QuoteString(path);
  RETURN_IF_ERROR(conn.Exec(fmt::format("SET allowed_paths = [{}]", allowed)));
  RETURN_IF_ERROR(conn.Exec("SET allowed_directories = []"));
  RETURN_IF_ERROR(conn.Exec("SET enable_external_access = false"));
  RETURN_IF_ERROR(conn.Exec("SET lock_configuration = true"));
  return engine;
}

void QueryEngine::WaitForBackgroundWork() {
  if (keeper_) keeper_->Wait();
}

bool QueryEngine::workload_rows_kept() const { return keeper_ && keeper_->Done(kWorkloadView); }

std::vector<std::string> QueryEngine::kept_relations() const {
  if (!keeper_) return {};
  std::vector<std::string> kept = keeper_->Finished();
  std::erase(kept, kWorkloadView);
  return kept;
}

std::vector<std::string> QueryEngine::TakeKeepFailures() {
  return keeper_ ? keeper_->TakeFailures() : std::vector<std::string>{};
}

std::vector<std::string> QueryEngine::started_copies() const {
  return keeper_ ? keeper_->Started() : std::vector<std::string>{};
}

void QueryEngine::Keep(const std::vector<std::string>& names) {
  if (keeper_ && !names.empty()) keeper_->Start(std::set<std::string>(names.begin(), names.end()));
}

QueryEngine::~QueryEngine() {
  keeper_.reset();  // its copy ends first: it reads the files hold_ keeps
}

Status QueryEngine::PruneViewsFor(const StatementRanges& ranges) {
  auto wanted = PruneTables(files_by_table_, cursor_columns_, ranges);
  // A table kept in memory is read whole: DuckDB skips its row groups by the filters.
  if (keeper_) std::erase_if(wanted, [&](const auto& table) { return keeper_->Done(table.first); });
  const auto widen = [&](const std::string& table) {
    return conn_->Exec("DROP VIEW IF EXISTS temp." + QuoteIdent(table));
  };
  // A narrowed view stays while statements need the same files of its table (a dashboard
  // asks the same questions again): it is made again only when they change, and dropped
  // when a statement does not narrow its table, which then reads its whole snapshot. One
  // that cannot be dropped fails the statement, and is dropped again before the next.
  for (auto it = narrowed_.begin(); it != narrowed_.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    RETURN_IF_ERROR(widen(it->first).WithContext("widening the view of " + it->first));
    it = narrowed_.erase(it);
  }
  for (const auto& [table, read] : wanted) {
    last_skipped_files_ += static_cast<int64_t>(files_by_table_.at(table).size() - read.size());
    const auto now = narrowed_.find(table);
    if (now != narrowed_.end() && now->second == read) continue;
    // The temporary schema comes first in DuckDB's search path, for the statement and for
    // the helper and fleet views it reads through alike.
    const Status made = conn_->Exec(
        fmt::format("CREATE OR REPLACE TEMPORARY VIEW {} AS {}", QuoteIdent(table), FilesRelation(lake_root_, read)));
    if (!made.ok()) {
      // Whatever view of the table there was is no longer the one wanted.
      if (now != narrowed_.end() && widen(table).ok()) narrowed_.erase(now);
      return made.WithContext("narrowing the view of " + table);
    }
    narrowed_[table] = read;
  }
  return Status::Ok();
}

void QueryEngine::RememberRanges(const std::string& sql, const StatementRanges& ranges) {
  // Enough for every statement of the dashboard's pages; when full, the next statements
  // start the memory again (the ones asked again come back at once).
  constexpr size_t kMostStatements = 512;
  constexpr size_t kMostTextBytes = 8 << 20;
  if (!ranges.parsed || sql.size() > kMostTextBytes / 16) return;
  if (ranges_by_sql_.size() >= kMostStatements || ranges_by_sql_bytes_ + sql.size() > kMostTextBytes) {
    ranges_by_sql_.clear();
    ranges_by_sql_bytes_ = 0;
  }
  if (ranges_by_sql_.emplace(sql, ranges).second) ranges_by_sql_bytes_ += sql.size();
}

Result<duck::QueryResult> QueryEngine::Run(const std::string& sql) {
  last_skipped_files_ = 0;
  // Which files the statement needs comes from its parsed form only (json_serialize_sql
  // refuses anything but a SELECT), so the views are narrowed before DuckDB binds it: it
  // is prepared once, over the files it needs, and what it is comes from that preparation.
  // A statement may read what the engine keeps in memory by a name it gives, by a name it
  // builds (a table function such as query()), or, not being a SELECT, in ways DuckDB's
  // serialisation does not show: the copies it names start now, the others below when its
  // parsed form cannot rule them out.
  const bool keep_pending = keeper_ && keeper_->pending() && keeper_->Start(LowerWords(sql));
  StatementRanges ranges;
  const bool ranges_here = prune_each_statement_ || keep_pending;
  if (const auto known = ranges_by_sql_.find(sql); known != ranges_by_sql_.end()) {
    ranges = known->second;  // a text this engine ran before as one SELECT: the same again
  } else if (ranges_here) {
    ranges = RangesOf(*conn_, sql, cursor_columns_);
    if (prune_each_statement_) RememberRanges(sql, ranges);
  }
  // A text DuckDB serialised is one statement; any other is counted.
  if (!ranges.parsed) {
    ASSIGN_OR_RETURN(const size_t count, conn_->CountStatements(sql));
    if (count != 1)
      return InvalidArgument("{} statements given; run one at a time (the HTTP API runs several as a batch)", count);
  }
  if (keep_pending && (!ranges.parsed || ranges.table_function)) keeper_->Start({}, /*all=*/true);
  if (prune_each_statement_) {
    // An EXPLAIN is not serialised (so not `parsed`, and it goes the checked way below), but
    // the statement it explains may be: its views are narrowed as that statement's would be.
    const std::optional<std::string_view> explained = ranges.parsed ? std::nullopt : ExplainedStatement(sql);
    RETURN_IF_ERROR(PruneViewsFor(explained ? RangesOf(*conn_, std::string(*explained), cursor_columns_) : ranges));
  }
  // A statement DuckDB serialised is one SELECT, so it reads only: it runs at once, bound
  // once. (A prepared statement over Parquet files is bound again when it is executed, as
  // DuckDB cannot keep the plan of a scan of files: preparing it first bound it twice.)
  // Only a result with a column that cannot be read as text goes on to the way below,
  // which runs the statement again.
  if (ranges_here ? ranges.parsed : sql == select_sql_) {
    ASSIGN_OR_RETURN(auto result, conn_->Query(sql));
    bool readable = true;
    for (size_t c = 0; c < result.column_count(); ++c)
      readable = readable && duck::IsReadableAsText(result.column_type(c));
    if (readable) return result;
  }
  ASSIGN_OR_RETURN(auto prepared, conn_->Prepare(sql));
  if (!ReadOnlyType(prepared->statement_type())) return Status(StatusCode::kPermissionDenied, kReadOnlyOnly);
  if (prepared->statement_type() == DUCKDB_STATEMENT_TYPE_EXPLAIN) RETURN_IF_ERROR(CheckExplained(*conn_, sql));
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
  // One statement each (ExecOne refuses more), so the user's text cannot add another.
  Status view = conn_->ExecOne("CREATE OR REPLACE TEMPORARY VIEW fleetlog_result AS " + sql);
  // DESCRIBE, SUMMARIZE and SHOW are not view bodies, but they are subqueries.
  if (!view.ok()) view = conn_->ExecOne("CREATE OR REPLACE TEMPORARY VIEW fleetlog_result AS SELECT * FROM (\n" + sql + "\n)");
  if (!view.ok())
    return InvalidArgument("the result has a column of type {} that fleetlog cannot show as text here; CAST it to VARCHAR "
                           "({})", names_before[static_cast<size_t>(std::find_if(types_before.begin(), types_before.end(),
                               [](duckdb_type t) { return !duck::IsReadableAsText(t); }) - types_before.begin())],
                           view.message());
  auto result = conn_->Query("SELECT " + select + " FROM fleetlog_result");
  // The result is materialised: the view, which holds the user's text, goes now, so that
  // the next statement of a kept engine cannot read it in duckdb_views().
  RETURN_IF_ERROR(conn_->Exec("DROP VIEW IF EXISTS temp.fleetlog_result"));
  if (!result.ok()) return result.status();
  result->DeclareTypes(std::move(types_before), std::move(names_before));
  return result;
}

}  // namespace fleetlog
