#include "lake/journal.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

namespace fleetlog {
namespace {

using nlohmann::json;

constexpr const char* kAppliedKey = "journal/applied";

json OptionalTime(const std::optional<Timestamp>& t) { return t ? json(t->micros()) : json(nullptr); }
std::optional<Timestamp> OptionalTime(const json& j) {
  return j.is_number_integer() ? std::optional<Timestamp>(Timestamp::FromMicros(j.get<int64_t>())) : std::nullopt;
}

json EncodeFile(const NewFile& f) {
  return {{"table", f.table}, {"cluster", f.cluster}, {"dt", f.dt}, {"path", f.path},
          {"staging_path", f.staging_path}, {"rows", f.rows}, {"bytes", f.bytes}, {"checksum", f.checksum},
          {"min_cursor", OptionalTime(f.min_cursor)}, {"max_cursor", OptionalTime(f.max_cursor)},
          {"columns", f.columns}, {"id_ranges", IdRangesToText(f.id_ranges)}};
}

NewFile DecodeFile(const json& j) {
  NewFile f;
  f.table = j.at("table");
  f.cluster = j.at("cluster");
  f.dt = j.at("dt");
  f.path = j.at("path");
  f.staging_path = j.at("staging_path");
  f.rows = j.at("rows");
  f.bytes = j.at("bytes");
  f.checksum = j.at("checksum");
  f.min_cursor = OptionalTime(j.at("min_cursor"));
  f.max_cursor = OptionalTime(j.at("max_cursor"));
  f.columns = j.at("columns");
  // Journals written before files recorded id ranges have none: unknown.
  if (auto it = j.find("id_ranges"); it != j.end() && it->is_string()) f.id_ranges = IdRangesFromText(it->get<std::string>());
  return f;
}

json EncodeRun(const RunRecord& r) {
  return {{"cluster", r.cluster}, {"table", r.table}, {"started_at", r.started_at.micros()},
          {"finished_at", r.finished_at.micros()}, {"ok", r.status == RunStatus::kOk},
          {"window_lower", OptionalTime(r.window_lower)}, {"window_upper", OptionalTime(r.window_upper)},
          {"source_now", OptionalTime(r.source_now)}, {"rows_read", r.rows_read}, {"rows_written", r.rows_written},
          {"rows_duplicate", r.rows_duplicate}, {"bytes_written", r.bytes_written}, {"error", r.error},
          {"kind", r.kind}};
}

RunRecord DecodeRun(const json& j) {
  RunRecord r;
  r.cluster = j.at("cluster");
  r.table = j.at("table");
  r.started_at = Timestamp::FromMicros(j.at("started_at"));
  r.finished_at = Timestamp::FromMicros(j.at("finished_at"));
  r.status = j.at("ok").get<bool>() ? RunStatus::kOk : RunStatus::kFailed;
  r.window_lower = OptionalTime(j.at("window_lower"));
  r.window_upper = OptionalTime(j.at("window_upper"));
  r.source_now = OptionalTime(j.at("source_now"));
  r.rows_read = j.at("rows_read");
  r.rows_written = j.at("rows_written");
  r.rows_duplicate = j.at("rows_duplicate");
  r.bytes_written = j.at("bytes_written");
  r.error = j.at("error");
  r.kind = j.at("kind");
  return r;
}

// A journal record: a commit (with or without files), or a run that committed nothing.
struct JournalRecord {
  int64_t seq = 0;
  bool is_commit = true;
  CommitRequest request;              // retire ids unused: see retire_paths
  std::vector<std::string> retire_paths;
};

std::string Encode(const JournalRecord& record) {
  json add = json::array();
  for (const NewFile& f : record.request.add) add.push_back(EncodeFile(f));
  json cursor = nullptr;
  if (record.request.cursor) {
    const CursorRecord& c = *record.request.cursor;
    cursor = {{"cluster", c.cluster}, {"table", c.table}, {"position", c.position.micros()},
              {"updated_at", c.updated_at.micros()}};
  }
  return json{{"seq", record.seq}, {"type", record.is_commit ? "commit" : "run"}, {"add", add},
              {"retire", record.retire_paths}, {"cursor", cursor}, {"run", EncodeRun(record.request.run)}}
      .dump();
}

Result<JournalRecord> Decode(const std::string& text, const std::string& where) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status(StatusCode::kCorruption, fmt::format("journal record {} is not JSON", where));
  try {
    JournalRecord record;
    record.seq = j.at("seq");
    record.is_commit = j.at("type") == "commit";
    for (const json& f : j.at("add")) record.request.add.push_back(DecodeFile(f));
    record.retire_paths = j.at("retire").get<std::vector<std::string>>();
    if (!j.at("cursor").is_null()) {
      const json& c = j.at("cursor");
      record.request.cursor = CursorRecord{c.at("cluster"), c.at("table"), Timestamp::FromMicros(c.at("position")),
                                           Timestamp::FromMicros(c.at("updated_at"))};
    }
    record.request.run = DecodeRun(j.at("run"));
    return record;
  } catch (const json::exception& e) {
    return Status(StatusCode::kCorruption, fmt::format("journal record {} is malformed: {}", where, e.what()));
  }
}

std::string RecordName(int64_t seq) { return fmt::format("{:020}.json", seq); }

// The journal's records, by sequence number.
Result<std::vector<std::pair<int64_t, std::string>>> ListRecords(Env* env, const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<FileInfo> files, env->ListFiles(dir));
  std::vector<std::pair<int64_t, std::string>> records;
  for (const FileInfo& file : files) {
    if (file.name.size() != 25 || !file.name.ends_with(".json")) continue;
    records.emplace_back(std::strtoll(file.name.c_str(), nullptr, 10), dir + "/" + file.name);
  }
  std::sort(records.begin(), records.end());
  return records;
}

// Applies records to a state store, resolving retirements by lake path.
class Applier {
 public:
  explicit Applier(StateStore& store) : store_(store) {}

  Status Load() {
    ASSIGN_OR_RETURN(std::vector<CommittedFile> files, store_.ListFiles({}));
    for (const CommittedFile& f : files) ids_[f.path] = f.id;
    return Status::Ok();
  }

  bool AlreadyApplied(const JournalRecord& record) {
    for (const NewFile& f : record.request.add) {
      if (ids_.count(f.path)) return true;
    }
    return false;
  }

  Status Apply(const JournalRecord& record) {
    if (!record.is_commit) return store_.RecordRun(record.request.run).status();
    CommitRequest request = record.request;
    for (const std::string& path : record.retire_paths) {
      auto it = ids_.find(path);
      if (it == ids_.end()) {
        return Status(StatusCode::kCorruption,
                      fmt::format("journal record {} retires {}, which no earlier record added", record.seq, path));
      }
      request.retire.push_back(it->second);
    }
    ASSIGN_OR_RETURN(int64_t commit_id, store_.Commit(request));
    if (!request.add.empty()) {
      FileFilter filter{.table = request.add.front().table, .cluster = request.add.front().cluster};
      ASSIGN_OR_RETURN(std::vector<CommittedFile> files, store_.ListFiles(filter));
      for (const CommittedFile& f : files) {
        if (f.commit_id == commit_id) ids_[f.path] = f.id;
      }
    }
    return Status::Ok();
  }

 private:
  StateStore& store_;
  std::map<std::string, int64_t> ids_;
};

// Applies every record after the store's applied mark; returns the highest sequence seen.
Result<int64_t> ApplyJournal(Env* env, const std::string& lake_root, StateStore& store, JournalReport* report) {
  const std::string dir = lake_root + "/" + JournaledStateStore::JournalDir();
  ASSIGN_OR_RETURN(auto records, ListRecords(env, dir));
  ASSIGN_OR_RETURN(std::optional<std::string> mark, store.GetValue(kAppliedKey));
  const int64_t applied = mark ? std::strtoll(mark->c_str(), nullptr, 10) : 0;
  Applier applier(store);
  RETURN_IF_ERROR(applier.Load());
  int64_t last = applied;
  for (const auto& [seq, path] : records) {
    ++report->records;
    last = std::max(last, seq);
    if (seq <= applied) continue;
    ASSIGN_OR_RETURN(std::string text, env->ReadFile(path));
    ASSIGN_OR_RETURN(JournalRecord record, Decode(text, path));
    // Only the record right after the mark can have been applied without the mark moving.
    if (!(seq == applied + 1 && applier.AlreadyApplied(record))) {
      RETURN_IF_ERROR(applier.Apply(record).WithContext("applying " + path));
      ++report->applied;
    }
    RETURN_IF_ERROR(store.PutValue(kAppliedKey, std::to_string(seq)));
  }
  ASSIGN_OR_RETURN(std::vector<CommittedFile> files, store.ListFiles({}));
  report->files = static_cast<int64_t>(files.size());
  return last;
}

}  // namespace

Result<std::unique_ptr<JournaledStateStore>> JournaledStateStore::Open(std::unique_ptr<StateStore> inner, Env* env,
                                                                       std::string lake_root, JournalReport* report) {
  std::unique_ptr<JournaledStateStore> store(new JournaledStateStore(std::move(inner), env, std::move(lake_root)));
  JournalReport ignored;
  RETURN_IF_ERROR(store->CatchUp(report != nullptr ? report : &ignored));
  return store;
}

Status JournaledStateStore::CatchUp(JournalReport* report) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(last_seq_, ApplyJournal(env_, lake_root_, *inner_, report));
  return Status::Ok();
}

Result<int64_t> JournaledStateStore::Commit(const CommitRequest& request) {
  std::lock_guard lock(mutex_);
  JournalRecord record;
  record.seq = last_seq_ + 1;
  record.request = request;
  record.request.retire.clear();
  if (!request.retire.empty()) {
    ASSIGN_OR_RETURN(std::vector<CommittedFile> files, inner_->ListFiles({}));
    std::map<int64_t, std::string> paths;
    for (const CommittedFile& f : files) paths[f.id] = f.path;
    for (int64_t id : request.retire) {
      auto it = paths.find(id);
      if (it == paths.end()) return Error(StatusCode::kNotFound, "cannot retire file id {}: no such file", id);
      record.retire_paths.push_back(it->second);
    }
  }
  const std::string path = lake_root_ + "/" + JournalDir() + "/" + RecordName(record.seq);
  RETURN_IF_ERROR(env_->WriteFile(path, Encode(record)).WithContext("writing the commit to the lake's journal"));
  last_seq_ = record.seq;
  Result<int64_t> commit_id = inner_->Commit(request);
  if (!commit_id.ok()) {
    return commit_id.status().WithContext(
        fmt::format("committed in the lake ({}) but not in the local state store; the next start applies it", path));
  }
  RETURN_IF_ERROR(inner_->PutValue(kAppliedKey, std::to_string(record.seq)));
  return commit_id;
}

Result<int64_t> JournaledStateStore::RecordRun(const RunRecord& run) {
  std::lock_guard lock(mutex_);
  JournalRecord record;
  record.seq = last_seq_ + 1;
  record.is_commit = false;
  record.request.run = run;
  const std::string path = lake_root_ + "/" + JournalDir() + "/" + RecordName(record.seq);
  RETURN_IF_ERROR(env_->WriteFile(path, Encode(record)).WithContext("writing the run to the lake's journal"));
  last_seq_ = record.seq;
  ASSIGN_OR_RETURN(int64_t run_id, inner_->RecordRun(run));
  RETURN_IF_ERROR(inner_->PutValue(kAppliedKey, std::to_string(record.seq)));
  return run_id;
}

Result<JournalReport> RestoreStateFile(Env* lake_env, const std::string& lake_root, Env* local,
                                       const std::string& state_path) {
  const std::string building = state_path + ".restoring";
  for (const char* suffix : {"", "-wal", "-shm"}) RETURN_IF_ERROR(local->DeleteFile(building + suffix));
  JournalReport report;
  {
    ASSIGN_OR_RETURN(std::unique_ptr<StateStore> state, OpenSqliteStateStore(building, OpenMode::kReadWrite, local));
    ASSIGN_OR_RETURN(report, RestoreFromJournal(lake_env, lake_root, *state));
  }  // closed: SQLite has checkpointed its log into the file
  for (const char* suffix : {"-wal", "-shm"}) RETURN_IF_ERROR(local->DeleteFile(state_path + suffix));
  RETURN_IF_ERROR(local->Publish(building, state_path));
  return report;
}

Result<JournalReport> RestoreFromJournal(Env* env, const std::string& lake_root, StateStore& empty) {
  JournalReport report;
  RETURN_IF_ERROR(ApplyJournal(env, lake_root, empty, &report).status());
  ASSIGN_OR_RETURN(std::vector<CommittedFile> pending, empty.ListFiles({.states = {FileState::kCommitted}}));
  // One listing of the lake rather than a request per file.
  ASSIGN_OR_RETURN(std::vector<FileInfo> listed, env->ListFiles(lake_root));
  std::set<std::string> present;
  for (FileInfo& info : listed) present.insert(std::move(info.name));
  std::vector<int64_t> published;
  for (const CommittedFile& f : pending) {
    if (present.count(f.path)) published.push_back(f.id);
  }
  RETURN_IF_ERROR(empty.MarkPublished(published));
  return report;
}

}  // namespace fleetlog
