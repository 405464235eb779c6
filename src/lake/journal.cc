#include "lake/journal.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/fs.h"

namespace fleetlog {
namespace {

using nlohmann::json;

constexpr const char* kAppliedKey = "journal/applied";
// The sequence number of a record whose put failed and is not yet withdrawn.
constexpr const char* kInDoubtKey = "journal/in_doubt";

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

// Whether a put that failed with `s` may have stored the object all the same (a timeout, a
// reset, a 5xx answer: the store may have done the work and lost the answer). Refusals
// (credentials, a missing bucket, a full disk, bad input) stored nothing.
bool MayHaveLanded(const Status& s) {
  switch (s.code()) {
    case StatusCode::kPermissionDenied:
    case StatusCode::kNotFound:
    case StatusCode::kInvalidArgument:
    case StatusCode::kResourceExhausted:
    case StatusCode::kAlreadyExists:
      return false;
    default:
      return true;
  }
}

std::string RecordName(int64_t seq) { return fmt::format("{:020}.json", seq); }

constexpr const char* kWithdrawnDir = "withdrawn";

// The journal's records, by sequence number, and the sequence numbers withdrawn.
struct JournalListing {
  std::vector<std::pair<int64_t, std::string>> records;
  std::set<int64_t> withdrawn;
};

// One listing of the journal folder holds both (withdrawals sit one level down).
Result<JournalListing> ListRecords(Env* env, const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<FileInfo> files, env->ListFiles(dir));
  JournalListing listing;
  const std::string withdrawn = std::string(kWithdrawnDir) + "/";
  for (const FileInfo& file : files) {
    if (!file.name.ends_with(".json")) continue;
    if (file.name.size() == 25) {
      listing.records.emplace_back(std::strtoll(file.name.c_str(), nullptr, 10), dir + "/" + file.name);
    } else if (file.name.size() == withdrawn.size() + 25 && file.name.starts_with(withdrawn)) {
      listing.withdrawn.insert(std::strtoll(file.name.c_str() + withdrawn.size(), nullptr, 10));
    }
  }
  std::sort(listing.records.begin(), listing.records.end());
  return listing;
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

  // Applies `record` with the applied mark `seq` in the same transaction; returns the commit
  // id (0 for a run).
  Result<int64_t> Apply(const JournalRecord& record, int64_t seq) {
    if (!record.is_commit) {
      RETURN_IF_ERROR(store_.RecordRun(record.request.run).status());
      RETURN_IF_ERROR(store_.PutValue(kAppliedKey, std::to_string(seq)));
      return 0;
    }
    CommitRequest request = record.request;
    for (const std::string& path : record.retire_paths) {
      auto it = ids_.find(path);
      if (it == ids_.end()) {
        return Status(StatusCode::kCorruption,
                      fmt::format("journal record {} retires {}, which no earlier record added", record.seq, path));
      }
      request.retire.push_back(it->second);
    }
    request.values = {{kAppliedKey, std::to_string(seq)}};
    ASSIGN_OR_RETURN(int64_t commit_id, store_.Commit(request));
    if (!request.add.empty()) {
      FileFilter filter{.table = request.add.front().table, .cluster = request.add.front().cluster};
      ASSIGN_OR_RETURN(std::vector<CommittedFile> files, store_.ListFiles(filter));
      for (const CommittedFile& f : files) {
        if (f.commit_id == commit_id) ids_[f.path] = f.id;
      }
    }
    return commit_id;
  }

 private:
  StateStore& store_;
  std::map<std::string, int64_t> ids_;
};

struct Applied {
  int64_t last_seq = 0;        // the highest sequence number in the journal (or the mark)
  int64_t last_commit_id = 0;  // the local id of the last commit applied, 0 when none
};

// Applies every record after the store's applied mark, except withdrawn ones.
Result<Applied> ApplyJournal(Env* env, const std::string& lake_root, StateStore& store, JournalReport* report) {
  const std::string dir = lake_root + "/" + JournaledStateStore::JournalDir();
  ASSIGN_OR_RETURN(JournalListing listing, ListRecords(env, dir));
  ASSIGN_OR_RETURN(std::optional<std::string> mark, store.GetValue(kAppliedKey));
  const int64_t applied = mark ? std::strtoll(mark->c_str(), nullptr, 10) : 0;
  Applier applier(store);
  RETURN_IF_ERROR(applier.Load());
  // A withdrawn number counts as used: a record written under it would be ignored.
  Applied out{.last_seq = std::max(applied, listing.withdrawn.empty() ? 0 : *listing.withdrawn.rbegin())};
  for (const auto& [seq, path] : listing.records) {
    ++report->records;
    out.last_seq = std::max(out.last_seq, seq);
    if (seq <= applied || listing.withdrawn.count(seq)) continue;
    ASSIGN_OR_RETURN(std::string text, env->ReadFile(path));
    ASSIGN_OR_RETURN(JournalRecord record, Decode(text, path));
    // Only the record right after the mark can have been applied without the mark moving
    // (journals written before the mark moved in the commit's own transaction).
    if (!(seq == applied + 1 && applier.AlreadyApplied(record))) {
      Result<int64_t> commit_id = applier.Apply(record, seq);
      if (!commit_id.ok()) return commit_id.status().WithContext("applying " + path);
      if (record.is_commit) out.last_commit_id = *commit_id;
      ++report->applied;
    } else {
      RETURN_IF_ERROR(store.PutValue(kAppliedKey, std::to_string(seq)));
    }
  }
  ASSIGN_OR_RETURN(std::vector<CommittedFile> files, store.ListFiles({}));
  report->files = static_cast<int64_t>(files.size());
  return out;
}

}  // namespace

Result<std::unique_ptr<JournaledStateStore>> JournaledStateStore::Open(std::unique_ptr<StateStore> inner, Env* env,
                                                                       std::string lake_root, JournalReport* report) {
  std::unique_ptr<JournaledStateStore> store(new JournaledStateStore(std::move(inner), env, std::move(lake_root)));
  JournalReport ignored;
  {
    std::lock_guard lock(store->mutex_);
    // A record left in doubt by the last process is withdrawn before anything is applied.
    ASSIGN_OR_RETURN(std::optional<std::string> in_doubt, store->inner_->GetValue(kInDoubtKey));
    if (in_doubt) {
      store->in_doubt_ = std::strtoll(in_doubt->c_str(), nullptr, 10);
      RETURN_IF_ERROR(store->SettleLocked());
    }
    RETURN_IF_ERROR(store->CatchUpLocked(report != nullptr ? report : &ignored).status());
  }
  return store;
}

Result<int64_t> JournaledStateStore::CatchUpLocked(JournalReport* report) {
  ASSIGN_OR_RETURN(Applied applied, ApplyJournal(env_, lake_root_, *inner_, report));
  // A number tried but withdrawn, or never landed, stays used.
  last_seq_ = std::max(last_seq_, applied.last_seq);
  behind_ = false;
  unsettled_ = in_doubt_.has_value();
  return applied.last_commit_id;
}

Status JournaledStateStore::Settle() {
  if (!unsettled_.load()) return Status::Ok();
  std::lock_guard lock(mutex_);
  return SettleLocked();
}

Status JournaledStateStore::SettleLocked() {
  if (in_doubt_) {
    RETURN_IF_ERROR(WithdrawLocked(*in_doubt_).WithContext(
        fmt::format("journal record {} is in doubt and cannot be withdrawn yet", RecordPath(*in_doubt_))));
    in_doubt_.reset();
    RETURN_IF_ERROR(inner_->DeleteValue(kInDoubtKey));
  }
  if (behind_) {
    JournalReport ignored;
    Result<int64_t> caught_up = CatchUpLocked(&ignored);
    if (!caught_up.ok()) {
      return caught_up.status().WithContext("the local state store is behind the lake's journal and cannot catch up");
    }
  }
  unsettled_ = false;
  return Status::Ok();
}

std::string JournaledStateStore::RecordPath(int64_t seq) const {
  return lake_root_ + "/" + JournalDir() + "/" + RecordName(seq);
}

Status JournaledStateStore::WithdrawLocked(int64_t seq) {
  const std::string path = lake_root_ + "/" + JournalDir() + "/" + kWithdrawnDir + "/" + RecordName(seq);
  RETURN_IF_ERROR(env_->WriteFile(path, json{{"withdraws", seq}}.dump()));
  CrashPoint("journal-withdrawn");
  return Status::Ok();
}

Status JournaledStateStore::WriteRecordLocked(int64_t seq, const std::string& text, const char* what) {
  last_seq_ = std::max(last_seq_, seq);  // tried: never reused, even when the put fails
  const std::string path = RecordPath(seq);
  Status written = env_->WriteFile(path, text);
  if (written.ok()) return Status::Ok();
  written = written.WithContext(fmt::format("writing {} to the lake's journal", what));
  if (!MayHaveLanded(written)) return written;
  // The put may have landed, or may land later: void the number before anyone undoes.
  if (Status withdrawn = WithdrawLocked(seq); !withdrawn.ok()) {
    in_doubt_ = seq;
    unsettled_ = true;
    // For the next process, should this one end first. When even this fails, the record is
    // applied at the next start if it landed, and its files cleaned up if it did not.
    (void)inner_->PutValue(kInDoubtKey, std::to_string(seq));
    return Status(StatusCode::kInDoubt,
                  fmt::format("{}; and withdrawing it failed too ({}): it may stand, so nothing it names is undone, "
                              "and the withdrawal is retried before the next change (or the next start applies it)",
                              written.message(), withdrawn.message()));
  }
  return written;
}

Result<int64_t> JournaledStateStore::Commit(const CommitRequest& request) {
  std::lock_guard lock(mutex_);
  RETURN_IF_ERROR(SettleLocked());
  JournalRecord record;
  record.seq = last_seq_ + 1;
  record.request = request;
  record.request.retire.clear();
  if (!request.retire.empty()) {
    // Checked here, so that the journal never holds a commit the local store would refuse.
    ASSIGN_OR_RETURN(std::vector<CommittedFile> files, inner_->ListFiles({}));
    std::map<int64_t, const CommittedFile*> by_id;
    for (const CommittedFile& f : files) by_id[f.id] = &f;
    for (int64_t id : request.retire) {
      auto it = by_id.find(id);
      if (it == by_id.end()) return Error(StatusCode::kNotFound, "cannot retire file id {}: no such file", id);
      if (it->second->state == FileState::kRetired)
        return Error(StatusCode::kAlreadyExists, "file {} was already replaced by another commit", it->second->path);
      record.retire_paths.push_back(it->second->path);
    }
  }
  RETURN_IF_ERROR(WriteRecordLocked(record.seq, Encode(record), "the commit"));
  CrashPoint("journal-written");
  // The commit stands from here on: the local store follows, now or at the latest next time.
  CommitRequest local = request;
  local.values.emplace_back(kAppliedKey, std::to_string(record.seq));
  Result<int64_t> commit_id = inner_->Commit(local);
  if (commit_id.ok()) return commit_id;
  behind_ = true;
  unsettled_ = true;
  JournalReport ignored;
  Result<int64_t> caught_up = CatchUpLocked(&ignored);
  if (caught_up.ok() && *caught_up > 0) return *caught_up;
  return Status(StatusCode::kInDoubt,
                fmt::format("committed in the lake ({}) but not in the local state store ({}; catching up: {}); "
                            "the next call or start applies it",
                            RecordPath(record.seq), commit_id.status().message(),
                            caught_up.ok() ? "nothing applied" : caught_up.status().message()));
}

Result<int64_t> JournaledStateStore::RecordRun(const RunRecord& run) {
  std::lock_guard lock(mutex_);
  RETURN_IF_ERROR(SettleLocked());
  JournalRecord record;
  record.seq = last_seq_ + 1;
  record.is_commit = false;
  record.request.run = run;
  RETURN_IF_ERROR(WriteRecordLocked(record.seq, Encode(record), "the run"));
  Result<int64_t> run_id = inner_->RecordRun(run);
  Status marked = run_id.ok() ? inner_->PutValue(kAppliedKey, std::to_string(record.seq)) : run_id.status();
  if (!marked.ok()) {
    // Recorded in the lake: the next call or start applies it (a run twice at worst).
    behind_ = true;
    unsettled_ = true;
    return Status(StatusCode::kInDoubt, fmt::format("recorded the run in the lake ({}) but not in the local state store: {}",
                                                    RecordPath(record.seq), marked.message()));
  }
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
