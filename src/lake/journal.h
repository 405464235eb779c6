// The commit journal: every commit of a lake written into the lake itself, so that the lake
// alone (a bucket, when the lake lives in S3) holds everything needed to rebuild the state
// store on another machine: the catalog of committed files, the cursors and the run history.
//
//   <lake>/_fleetlog/journal/<sequence, 20 digits>.json
//     {"seq", "add": [files], "retire": [lake paths], "cursor": {...}|null, "run": {...}}
//
// The journal record IS the commit point: JournaledStateStore::Commit writes the record (one
// atomic put) before it applies the commit to the local state store, and the local store is
// a cache of the journal. After a crash between the two, CatchUp() applies the records the
// local store lacks; on a new machine, RestoreFromJournal() applies them all to an empty one.
// Retirements name files by lake path, which is stable across machines (ids are not).
//
// One writer per lake: the caller holds the lake's writer lease (Env::LockFile) while it
// commits; sequence numbers come from the highest one in the journal.
// Thread-safety: JournaledStateStore is safe for concurrent use; commits are serialised.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "core/env.h"
#include "lake/layout.h"
#include "state/state_store.h"

namespace fleetlog {

struct JournalReport {
  int64_t records = 0;  // journal records read
  int64_t applied = 0;  // records the local state store lacked and now has
  int64_t files = 0;    // committed files in the catalog afterwards (all states)
};

class JournaledStateStore final : public StateStore {
 public:
  // Opens the journal of the lake at `lake_root` on `env` and catches `inner` up with it.
  // Neither `env` nor the journal is owned by the caller afterwards: `env` must outlive this.
  static Result<std::unique_ptr<JournaledStateStore>> Open(std::unique_ptr<StateStore> inner, Env* env,
                                                           std::string lake_root, JournalReport* report = nullptr);

  // Writes the journal record, then applies it locally. When the record cannot be written,
  // nothing is committed anywhere. When the local apply fails after it, the commit stands (it
  // is in the lake) and the next Open() applies it; the Status says so.
  Result<int64_t> Commit(const CommitRequest& request) override;
  Result<int64_t> RecordRun(const RunRecord& run) override;

  Result<std::optional<Timestamp>> GetCursor(const std::string& cluster, const std::string& table) override {
    return inner_->GetCursor(cluster, table);
  }
  Result<std::vector<CursorRecord>> ListCursors() override { return inner_->ListCursors(); }
  Result<std::vector<CommittedFile>> ListFiles(const FileFilter& filter) override { return inner_->ListFiles(filter); }
  Status MarkPublished(const std::vector<int64_t>& file_ids) override { return inner_->MarkPublished(file_ids); }
  Status SetFileState(int64_t file_id, FileState state) override { return inner_->SetFileState(file_id, state); }
  Status DeleteFiles(const std::vector<int64_t>& file_ids) override { return inner_->DeleteFiles(file_ids); }
  Result<std::vector<RunRecord>> LatestRuns() override { return inner_->LatestRuns(); }
  Result<std::vector<RunRecord>> RecentRuns(int limit, const std::string& cluster = "") override {
    return inner_->RecentRuns(limit, cluster);
  }
  Result<std::vector<RunTotals>> ListRunTotals() override { return inner_->ListRunTotals(); }
  Result<int> FailureStreak(const std::string& cluster, const std::string& table) override {
    return inner_->FailureStreak(cluster, table);
  }
  Result<std::optional<std::string>> GetValue(const std::string& key) override { return inner_->GetValue(key); }
  Status PutValue(const std::string& key, const std::string& value) override { return inner_->PutValue(key, value); }
  Status DeleteValue(const std::string& key) override { return inner_->DeleteValue(key); }
  Result<std::vector<std::string>> ListKeys(const std::string& prefix) override { return inner_->ListKeys(prefix); }

  // The folder of the journal records under the lake root.
  static std::string JournalDir() { return "_fleetlog/journal"; }

 private:
  JournaledStateStore(std::unique_ptr<StateStore> inner, Env* env, std::string lake_root)
      : inner_(std::move(inner)), env_(env), lake_root_(std::move(lake_root)) {}
  // Applies the journal records the local store lacks.
  Status CatchUp(JournalReport* report);

  std::unique_ptr<StateStore> inner_;
  Env* env_;
  std::string lake_root_;
  std::mutex mutex_;      // serialises commits: one record, one sequence number at a time
  int64_t last_seq_ = 0;  // GUARDED_BY(mutex_)
};

// Rebuilds the state of the lake at `lake_root` into `empty` (a new state store) from the
// journal, and marks the files found at their lake path as published (the others stay
// committed, for Recover() to publish from staging). `fleetlog restore` and a writer that finds
// no local state use it.
Result<JournalReport> RestoreFromJournal(Env* env, const std::string& lake_root, StateStore& empty);

// Rebuilds the SQLite state store at `state_path` (in the local Env `local`) from the journal:
// into a new file beside it, then moved into place, so that a restore cut short leaves no
// half-built state behind. Replaces a state store that is there.
Result<JournalReport> RestoreStateFile(Env* lake_env, const std::string& lake_root, Env* local,
                                       const std::string& state_path);

}  // namespace fleetlog
