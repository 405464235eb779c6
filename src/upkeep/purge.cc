#include "upkeep/purge.h"

#include <pwd.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "upkeep/policy.h"
#include "lake/replace.h"
#include "upkeep/rollup.h"
#include "query/engine.h"
#include "query/sql_lexer.h"

namespace fleetlog::upkeep {
namespace {

using duck::QuoteIdent;
using duck::QuoteString;

constexpr const char* kHiveOptions =
    "hive_partitioning = true, hive_types = {'cluster': VARCHAR, 'dt': DATE}, union_by_name = true";

// Counts the predicate's rows through the query engine: the same sandbox and views as any
// user query, so a predicate that works there works here.
Result<int64_t> CountInEngine(StateStore& state, const LakeLayout& lake, const Config& config,
                              const PurgeRequest& request) {
  ASSIGN_OR_RETURN(auto engine, QueryEngine::Open({.lake_root = lake.root(),
                                                   .memory_limit_bytes = config.query.memory_limit_bytes,
                                                   .threads = config.query.threads},
                                                  &state));
  bool known = false;
  for (const auto& t : engine->tables()) known |= t.name == request.table;
  if (!known) return InvalidArgument("the lake has no table \"{}\"; `fleetlog status` lists them", request.table);
  auto counted = engine->Run(fmt::format("SELECT count(*) FROM {} WHERE ({})", QuoteIdent(request.table), request.predicate));
  if (!counted.ok())
    return InvalidArgument("the predicate does not work on table {}: {}", request.table, counted.status().message());
  return counted->int64(0, 0);
}

std::string AuditRecord(const PurgeRequest& request, const PurgeReport& report, const char* status, Timestamp now) {
  nlohmann::json j = {{"who", request.who},
                      {"at", FormatTimestampIso(now)},
                      {"table", request.table},
                      {"predicate", request.predicate},
                      {"rows", report.rows_matched},
                      {"files", report.files_affected},
                      {"files_written", report.files_written},
                      {"status", status}};
  if (report.commit_id) j["commit_id"] = *report.commit_id;
  return j.dump();
}


}  // namespace

std::string CurrentUser() {
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr) return pw->pw_name;
  if (const char* user = std::getenv("USER"); user != nullptr && *user) return user;
  return "uid " + std::to_string(::geteuid());
}

Status CheckPredicateShape(std::string_view p) {
  auto refuse = [&](const std::string& why) {
    return InvalidArgument("--where must be one SQL expression, such as \"userid = 42\": {}", why);
  };
  int depth = 0;
  bool any = false;
  for (const SqlToken& t : LexSql(p)) {
    using Kind = SqlToken::Kind;
    if (t.kind == Kind::kSpace) continue;
    any = true;
    if (t.unterminated) return refuse(t.kind == Kind::kComment ? "a comment is not closed" : "a quote is not closed");
    switch (t.kind) {
      case Kind::kComment: return refuse("comments are not accepted");
      case Kind::kDollarParameter: return refuse("'$' (parameters, dollar quoting) is not accepted");
      case Kind::kString:
        if (t.value[0] == '$') return refuse("'$' (parameters, dollar quoting) is not accepted");
        if (t.value[0] == 'e' || t.value[0] == 'E') return refuse("E'...' strings are not accepted");
        break;
      case Kind::kSymbol: {
        const char c = p[t.begin];
        if (c == ';') return refuse("';' would end the statement");
        if (c == '$') return refuse("'$' (parameters, dollar quoting) is not accepted");
        if (c == '(') ++depth;
        if (c == ')' && --depth < 0) return refuse("a ')' closes more than the predicate opened");
        break;
      }
      default: break;
    }
  }
  if (depth != 0) return refuse("a '(' is not closed");
  if (!any) return refuse("it is empty");
  return Status::Ok();
}

Result<PurgeReport> PurgeRows(StateStore& state, const LakeLayout& lake, const Config& config,
                              const PurgeRequest& req) {
  PurgeRequest request = req;
  if (request.who.empty()) request.who = CurrentUser();
  RETURN_IF_ERROR(CheckPredicateShape(request.predicate));
  PurgeReport report;
  ASSIGN_OR_RETURN(report.rows_matched, CountInEngine(state, lake, config, request));

  ASSIGN_OR_RETURN(auto files, state.ListFiles({.table = request.table, .states = {FileState::kPublished}}));
  report.files_total = static_cast<int>(files.size());
  if (report.rows_matched == 0 || files.empty()) return report;

  ASSIGN_OR_RETURN(auto db, OpenUpkeepDatabase(lake));
  ASSIGN_OR_RETURN(auto conn, duck::Connection::Open(db));
  ASSIGN_OR_RETURN(const LocalFiles local, ResolveLakeFiles(lake, files));
  std::map<std::string, const CommittedFile*> by_abs;  // by local path
  std::map<const CommittedFile*, std::string> local_of;
  for (size_t i = 0; i < files.size(); ++i) {
    by_abs[local.path(i)] = &files[i];
    local_of[&files[i]] = local.path(i);
  }
  ASSIGN_OR_RETURN(auto per_file, conn->Query(fmt::format(
      "SELECT filename, count(*) FROM read_parquet({}, {}, filename = true) WHERE ({}) GROUP BY filename ORDER BY filename",
      ParquetList(local), kHiveOptions, request.predicate)));
  std::vector<std::pair<const CommittedFile*, int64_t>> affected;
  int64_t matched = 0;
  for (size_t i = 0; i < per_file.row_count(); ++i) {
    auto it = by_abs.find(per_file.text(0, i));
    if (it == by_abs.end()) return Internal("DuckDB named a file the catalog does not hold: {}", per_file.text(0, i));
    affected.emplace_back(it->second, per_file.int64(1, i));
    matched += per_file.int64(1, i);
    report.affected_paths.push_back(it->second->path);
  }
  if (matched != report.rows_matched)
    return Internal("the predicate matched {} rows file by file but {} through the query engine; nothing was changed",
                    matched, report.rows_matched);
  report.files_affected = static_cast<int>(affected.size());

  std::map<std::string, Timestamp> horizons;
  for (const auto& [f, rows] : affected) {
    if (!horizons.count(f->cluster)) {
      ASSIGN_OR_RETURN(horizons[f->cluster], ReceiveHorizon(state, config, f->cluster, request.table, lake.env().Now()));
    }
    if (!DayEndsBy(f->dt, horizons[f->cluster]))
      report.warnings.push_back(fmt::format(
          "{}: the exporter still reads this day; matching rows the source still holds may be exported again", f->path));
  }
  if (request.dry_run) return report;

  report.audit_key = fmt::format("purge/{}-{}", FormatTimestampIso(lake.env().Now()), RandomHex(4));
  RETURN_IF_ERROR(state.PutValue(report.audit_key, AuditRecord(request, report, "started", lake.env().Now())));

  Replacement r;
  r.crash_prefix = "purge";
  r.run = {.table = request.table, .started_at = lake.env().Now(), .kind = "purge"};
  for (const auto& [f, rows] : affected) {
    r.retire.push_back(f->id);
    r.run.rows_read += f->rows;
    const int64_t keep = f->rows - rows;
    if (keep == 0) continue;
    auto staged = StageSelect(*conn, lake, f->table, f->cluster, f->dt,
                              fmt::format("SELECT * EXCLUDE (cluster, dt) FROM read_parquet([{}], {}) WHERE ({}) IS NOT TRUE",
                                          QuoteString(local_of[f]), kHiveOptions, request.predicate));
    if (!staged.ok() || staged->rows != keep) {
      RemoveStagedFiles(lake, r.add);
      if (staged.ok()) RemoveStagedFiles(lake, {*staged});
      return staged.ok() ? Internal("rewriting {} kept {} rows instead of {}; nothing was changed", f->path, staged->rows, keep)
                         : staged.status().WithContext("rewriting " + f->path);
    }
    staged->min_cursor = f->min_cursor;
    staged->max_cursor = f->max_cursor;
    r.run.rows_written += keep;
    r.run.bytes_written += staged->bytes;
    r.add.push_back(std::move(staged).value());
    CrashPoint("purge-staged");
  }
  report.rows_kept = r.run.rows_written;
  report.files_written = static_cast<int>(r.add.size());
  r.run.rows_duplicate = 0;
  r.run.cluster = "*";
  r.run.finished_at = lake.env().Now();
  ASSIGN_OR_RETURN(report.commit_id, CommitReplacement(state, lake, std::move(r)));
  RETURN_IF_ERROR(state.PutValue(report.audit_key, AuditRecord(request, report, "committed", lake.env().Now())));

  if (IsRollupInput(request.table)) {
    std::set<std::pair<std::string, std::string>> days;
    for (const auto& [f, rows] : affected) days.insert({f->cluster, f->dt});
    for (const auto& [cluster, dt] : days) {
      ASSIGN_OR_RETURN(auto rolled_up, RollupEnd(state, cluster, dt));  // the whole day or part-way
      if (!rolled_up) continue;
      RETURN_IF_ERROR(RebuildRollupDay(state, lake, *conn, cluster, dt).status().WithContext(
          fmt::format("purged, but rebuilding the roll-up of cluster {}, {} failed (run `fleetlog compact --retention`)",
                      cluster, dt)));
      ++report.rollup_days_rebuilt;
    }
  }
  return report;
}

}  // namespace fleetlog::upkeep
