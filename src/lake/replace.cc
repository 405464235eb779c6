#include "lake/replace.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include "core/fs.h"
#include "lake/commit.h"
#include "lake/lake_writer.h"

namespace fleetlog::upkeep {
namespace {

using duck::QuoteString;

// Intents that earlier versions kept in the state store, one key per file: still honoured.
constexpr const char* kLegacyIntentPrefix = "upkeep/pending/";

// The files one replacement may place, and where its intent is recorded: a lake path, or
// (legacy) empty for a state-store key.
struct Intent {
  std::string where;
  std::vector<std::string> paths;
};

// The intent's lake path: named after the replacement's first new file, which no other
// replacement shares.
std::string IntentPath(const Replacement& r) {
  std::string name = r.add.front().path;
  std::replace(name.begin(), name.end(), '/', '~');
  return LakeLayout::IntentsDir() + "/" + name + ".json";
}

Status WriteIntent(const LakeLayout& lake, const Replacement& r) {
  nlohmann::json paths = nlohmann::json::array();
  for (const auto& f : r.add) paths.push_back(f.path);
  const std::string text = nlohmann::json{{"kind", r.run.kind}, {"paths", paths}}.dump();
  return lake.env().WriteFile(lake.Abs(IntentPath(r)), text).WithContext("recording the upkeep intent");
}

// Every recorded intent. An intent that does not parse was cut short while it was written,
// before anything was placed: it names nothing.
Result<std::vector<Intent>> ReadIntents(StateStore& state, const LakeLayout& lake) {
  std::vector<Intent> out;
  Env& env = lake.env();
  ASSIGN_OR_RETURN(auto listed, env.ListFiles(lake.Abs(LakeLayout::IntentsDir())));
  for (const auto& info : listed) {
    Intent intent{.where = LakeLayout::IntentsDir() + "/" + info.name, .paths = {}};
    ASSIGN_OR_RETURN(const std::string text, env.ReadFile(lake.Abs(intent.where)));
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.is_object() && j.contains("paths") && j["paths"].is_array()) {
      for (const auto& p : j["paths"])
        if (p.is_string()) intent.paths.push_back(p.get<std::string>());
    }
    out.push_back(std::move(intent));
  }
  ASSIGN_OR_RETURN(auto keys, state.ListKeys(kLegacyIntentPrefix));
  for (const auto& key : keys) out.push_back({.where = "", .paths = {key.substr(std::string_view(kLegacyIntentPrefix).size())}});
  return out;
}

Status ForgetIntent(StateStore& state, const LakeLayout& lake, const Intent& intent) {
  if (!intent.where.empty()) return lake.env().DeleteFile(lake.Abs(intent.where));
  return state.DeleteValue(kLegacyIntentPrefix + intent.paths.front());
}

// Best effort: a file left behind is an orphan that RecoverUpkeep or `verify` finds.
void RemoveQuietly(Env& env, const std::string& path) { (void)env.DeleteFile(path); }

// The columns of a Parquet file as DuckDB reads them, in SchemaToText's form, so that the
// query engine can read files that share them without comparing every footer.
Result<std::string> WrittenColumns(duck::Connection& conn, const std::string& path) {
  ASSIGN_OR_RETURN(auto r, conn.Query(fmt::format("SELECT * FROM read_parquet({}) LIMIT 0", QuoteString(path))));
  std::string out;
  for (size_t c = 0; c < r.column_count(); ++c)
    out += fmt::format("{}{} {}", c ? ", " : "", r.column_name(c), r.column_type_name(c));
  return out;
}

// The ranges of the id columns of the Parquet file at `path`, whose columns are `columns`
// (WrittenColumns' form; an id column is one of IdRangeColumns() read as INTEGER or
// BIGINT); a column with only NULLs has none.
Result<IdRanges> WrittenIdRanges(duck::Connection& conn, const std::string& path, const std::string& columns) {
  std::vector<std::string> ids;
  for (const auto& name : IdRangeColumns())
    for (const char* type : {" INTEGER", " BIGINT"}) {
      const std::string item = name + type;
      const size_t at = columns.find(item);
      if (at != std::string::npos && (at == 0 || columns.compare(at - 2, 2, ", ") == 0) &&
          (at + item.size() == columns.size() || columns[at + item.size()] == ','))
        ids.push_back(name);
    }
  IdRanges out;
  if (ids.empty()) return out;
  std::string bounds;
  for (const auto& c : ids) bounds += fmt::format("{0}min({1}), max({1})", bounds.empty() ? "" : ", ", duck::QuoteIdent(c));
  ASSIGN_OR_RETURN(auto r, conn.Query(fmt::format("SELECT {} FROM read_parquet({})", bounds, QuoteString(path))));
  for (size_t i = 0; i < ids.size(); ++i)
    if (r.row_count() == 1 && !r.is_null(2 * i, 0)) out[ids[i]] = {r.int64(2 * i, 0), r.int64(2 * i + 1, 0)};
  return out;
}

}  // namespace

Result<std::shared_ptr<duck::Database>> OpenUpkeepDatabase(const LakeLayout& lake, int64_t memory_limit_bytes,
                                                           int threads) {
  RETURN_IF_ERROR(lake.Prepare());
  ASSIGN_OR_RETURN(auto db, duck::Database::OpenInMemory({
      {"memory_limit", std::to_string(memory_limit_bytes) + "B"},
      {"threads", std::to_string(threads)},
      {"temp_directory", lake.env().LocalPath(lake.Abs(LakeLayout::TmpDir())) + "/upkeep"},
      {"autoinstall_known_extensions", "false"},
      {"autoload_known_extensions", "false"},
      {"allow_community_extensions", "false"},
      {"allow_unsigned_extensions", "false"},
  }));
  // The sandbox, as the query engine's: purge predicates are user SQL.
  ASSIGN_OR_RETURN(auto conn, duck::Connection::Open(db));
  std::string dirs;
  for (const auto& dir : LocalLakeDirs(lake)) dirs += (dirs.empty() ? "" : ", ") + QuoteString(dir);
  RETURN_IF_ERROR(conn->Exec(fmt::format("SET allowed_directories = [{}]", dirs)));
  RETURN_IF_ERROR(conn->Exec("SET enable_external_access = false"));
  RETURN_IF_ERROR(conn->Exec("SET lock_configuration = true"));
  return db;
}

std::string ParquetList(const LocalFiles& files) {
  std::string list = "[";
  for (size_t i = 0; i < files.relative.size(); ++i) list += (list.size() > 1 ? ", " : "") + QuoteString(files.path(i));
  return list + "]";
}

Result<NewFile> StageSelect(duck::Connection& conn, const LakeLayout& lake, const std::string& table,
                            const std::string& cluster, const std::string& dt, const std::string& select_sql) {
  NewFile f;
  f.table = table;
  f.cluster = cluster;
  f.dt = dt;
  Env& env = lake.env();
  f.path = LakeLayout::NewFilePath(table, cluster, dt, env.Now());
  f.staging_path = LakeLayout::StagingPathFor(f.path);
  const std::string staging = lake.Abs(f.staging_path);
  const std::string local = env.LocalPath(staging);
  if (local.empty()) return Internal("writing {}: this lake's Env has no local files for DuckDB to write", staging);
  ASSIGN_OR_RETURN(auto copied, conn.Query(fmt::format("COPY ({}) TO {} (FORMAT parquet, COMPRESSION zstd)", select_sql,
                                                       QuoteString(local))));
  f.rows = copied.row_count() > 0 ? copied.int64(0, 0) : 0;
  auto columns = WrittenColumns(conn, local);
  if (!columns.ok()) {
    RemoveQuietly(env, staging);
    return columns.status();
  }
  f.columns = std::move(columns).value();
  auto id_ranges = WrittenIdRanges(conn, local, f.columns);
  if (!id_ranges.ok()) {
    RemoveQuietly(env, staging);
    return id_ranges.status();
  }
  f.id_ranges = std::move(id_ranges).value();
  Status synced = env.SyncFile(staging);
  auto digest = synced.ok() ? DigestFile(env, staging) : Result<FileDigest>(synced);
  if (!digest.ok()) {
    RemoveQuietly(env, staging);
    return digest.status();
  }
  f.bytes = digest->bytes;
  f.checksum = digest->checksum;
  return f;
}

void RemoveStagedFiles(const LakeLayout& lake, const std::vector<NewFile>& files) {
  for (const auto& f : files) RemoveQuietly(lake.env(), lake.Abs(f.staging_path));
}

Result<int64_t> CommitReplacement(StateStore& state, const LakeLayout& lake, Replacement r) {
  Env& env = lake.env();
  if (!r.add.empty()) {
    if (Status s = WriteIntent(lake, r); !s.ok()) {
      RemoveStagedFiles(lake, r.add);
      return s;
    }
  }
  std::vector<std::string> placed;
  auto undo = [&](const Status& why) {
    // When a placed file cannot be removed, the intent stays, so RecoverUpkeep removes it.
    bool all_removed = true;
    for (const auto& p : placed) all_removed = env.DeleteFile(lake.Abs(p)).ok() && all_removed;
    RemoveStagedFiles(lake, r.add);
    if (all_removed && !r.add.empty()) RemoveQuietly(env, lake.Abs(IntentPath(r)));  // retire-only: no intent
    return why;
  };
  if (!r.add.empty()) {
    if (Status s = env.SyncDir(lake.Abs(LakeLayout::StagingDir())); !s.ok()) return undo(s);
  }
  for (auto& f : r.add) {
    if (Status s = env.Publish(lake.Abs(f.staging_path), lake.Abs(f.path)); !s.ok()) return undo(s);
    placed.push_back(f.path);
    f.staging_path = f.path;  // already in place: the commit records it as published
    CrashPoint(r.crash_prefix + "-placed");
  }
  CommitRequest request{.add = r.add, .retire = r.retire, .run = r.run};
  auto commit = state.Commit(request);
  // In doubt (the commit journal's record may stand): the placed files and their intent stay,
  // for recovery to keep or remove once the journal says which.
  if (!commit.ok() && commit.status().code() == StatusCode::kInDoubt) return commit.status();
  if (!commit.ok()) return undo(commit.status());
  CrashPoint(r.crash_prefix + "-committed");
  // An intent left behind names only committed files now: RecoverUpkeep just forgets it.
  if (!r.add.empty()) RemoveQuietly(env, lake.Abs(IntentPath(r)));
  // Committed: the retired files leave the table folders now (a failure here is finished by
  // the next start's recovery), and the new ones get their reader names.
  for (const auto& f : r.add) {
    if (Status s = KeepForReaders(lake, f.path); !s.ok()) spdlog::warn("{}", s.message());
  }
  if (!r.retire.empty()) RETURN_IF_ERROR(ClearRetiredFromFolders(state, lake).WithContext("committed, but"));
  return commit;
}

Result<std::vector<std::string>> PendingReplacementPaths(StateStore& state, const LakeLayout& lake) {
  ASSIGN_OR_RETURN(auto intents, ReadIntents(state, lake));
  std::vector<std::string> paths;
  for (auto& intent : intents) paths.insert(paths.end(), intent.paths.begin(), intent.paths.end());
  return paths;
}

Result<int> RecoverUpkeep(StateStore& state, const LakeLayout& lake) {
  ASSIGN_OR_RETURN(auto intents, ReadIntents(state, lake));
  if (intents.empty()) return 0;
  ASSIGN_OR_RETURN(auto files, state.ListFiles({}));
  std::set<std::string> known;
  for (const auto& f : files) known.insert(f.path);
  int removed = 0;
  for (const auto& intent : intents) {
    for (const auto& path : intent.paths) {
      if (known.count(path)) continue;
      ASSIGN_OR_RETURN(const bool existed, lake.env().FileExists(lake.Abs(path)));
      RETURN_IF_ERROR(lake.env().DeleteFile(lake.Abs(path)).WithContext("removing an uncommitted upkeep file"));
      if (existed) ++removed;
    }
    RETURN_IF_ERROR(ForgetIntent(state, lake, intent).WithContext("forgetting a finished upkeep intent"));
  }
  return removed;
}

Result<SweepReport> SweepRetired(StateStore& state, const LakeLayout& lake, Timestamp now, Duration grace) {
  ASSIGN_OR_RETURN(auto retired, state.ListFiles({.states = {FileState::kRetired}}));
  SweepReport report;
  std::vector<int64_t> forget;
  for (const auto& f : retired) {
    if (!f.retired_at || now - *f.retired_at < grace) continue;
    ASSIGN_OR_RETURN(bool existed, lake.env().FileExists(lake.Abs(f.path)));
    RETURN_IF_ERROR(lake.env().DeleteFile(lake.Abs(f.path)).WithContext("deleting a retired file"));
    for (const std::string& kept : {LakeLayout::ReaderDir() + "/" + f.path, LakeLayout::RetiredDir() + "/" + f.path}) {
      ASSIGN_OR_RETURN(const bool there, lake.env().FileExists(lake.Abs(kept)));
      RETURN_IF_ERROR(lake.env().DeleteFile(lake.Abs(kept)).WithContext("deleting a retired file"));
      existed = existed || there;
    }
    if (existed) {
      ++report.files_deleted;
      report.bytes_deleted += f.bytes;
    }
    forget.push_back(f.id);
    CrashPoint("sweep-deleted");
  }
  if (!forget.empty()) RETURN_IF_ERROR(state.DeleteFiles(forget));
  return report;
}

}  // namespace fleetlog::upkeep
