// The commit journal: every commit of a lake written into the lake itself, so that the lake
// alone (a bucket, when the lake lives in S3) holds everything needed to rebuild the state
// store on another machine: the catalog of committed files, the cursors and the run history.
//
//   <lake>/_fleetlog/journal/<sequence, 20 digits>.json
//     {"seq", "add": [files], "retire": [lake paths], "cursor": {...}|null, "run": {...}}
//   <lake>/_fleetlog/journal/withdrawn/<sequence, 20 digits>.json
//     a record whose write failed, void whether or not its put landed (or lands later)
//
// The rule: the journal record IS the commit point, and the local store never disagrees
// with it for longer than it takes to catch up.
//   - JournaledStateStore::Commit writes the record (one atomic put) before it applies the
//     commit to the local state store (with the applied mark, in the same transaction); the
//     local store is a cache of the journal.
//   - The record written, the commit stands: when the local apply fails (a SQLite error, a
//     full disk), the store catches up from the journal at once; when that fails too, Commit
//     returns kInDoubt ("committed, not yet local": the caller must not delete the files the
//     commit names) and every later call catches up first, failing until it can, so no call
//     reads a catalog or cursor behind the journal and no later record skips it. After a
//     crash between the two, Open() applies it; on a new machine, RestoreFromJournal() does.
//   - The record's put was refused (credentials, a missing bucket, a full disk): nothing was
//     committed; Commit fails with that error and the caller undoes.
//   - The record's put failed otherwise (a timeout, a reset, a 5xx: it may have landed, or
//     land later): Commit withdraws that sequence number (a put of withdrawn/<seq>, which
//     every reader honours) before it answers. Withdrawn, the commit did not happen: Commit
//     fails with the put's error and the caller undoes. Not withdrawn (the bucket is down),
//     Commit returns kInDoubt, the caller must not undo, and the withdrawal is retried before
//     any later call; a start that finds it pending applies the record if it landed, and the
//     caller's leftovers are cleaned by recovery as uncommitted (staging, upkeep intents).
//   - A sequence number once tried is never reused: a late put cannot overwrite a later
//     commit.
//   - Retirements are checked against the catalog before the record is written, so that a
//     record the local store would refuse never reaches the journal.
// Retirements name files by lake path, which is stable across machines (ids are not).
//
// One writer per lake: the caller holds the lake's writer lease (Env::LockFile) while it
// commits; sequence numbers come from the highest one in the journal.
// Thread-safety: JournaledStateStore is safe for concurrent use; commits are serialised.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
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

  // Writes the journal record, then applies it locally (see the rule above). Fails with
  // nothing committed anywhere, or with kInDoubt: committed, or possibly committed, and not
  // yet applied locally; then the caller must not undo what the commit names.
  Result<int64_t> Commit(const CommitRequest& request) override;
  Result<int64_t> RecordRun(const RunRecord& run) override;

  // Every read and write first brings the local store up to the journal when an earlier
  // commit left it behind (Settle); each fails while that cannot be done.
  Result<std::optional<Timestamp>> GetCursor(const std::string& cluster, const std::string& table) override {
    RETURN_IF_ERROR(Settle());
    return inner_->GetCursor(cluster, table);
  }
  Result<std::vector<CursorRecord>> ListCursors() override {
    RETURN_IF_ERROR(Settle());
    return inner_->ListCursors();
  }
  Result<std::vector<CommittedFile>> ListFiles(const FileFilter& filter) override {
    RETURN_IF_ERROR(Settle());
    return inner_->ListFiles(filter);
  }
  Status MarkPublished(const std::vector<int64_t>& file_ids) override {
    RETURN_IF_ERROR(Settle());
    return inner_->MarkPublished(file_ids);
  }
  Status SetFileState(int64_t file_id, FileState state) override {
    RETURN_IF_ERROR(Settle());
    return inner_->SetFileState(file_id, state);
  }
  Status DeleteFiles(const std::vector<int64_t>& file_ids) override {
    RETURN_IF_ERROR(Settle());
    return inner_->DeleteFiles(file_ids);
  }
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
  Result<std::vector<std::string>> ListKeys(const std::string& prefix) override {
    RETURN_IF_ERROR(Settle());  // upkeep's legacy intents: read with the catalog
    return inner_->ListKeys(prefix);
  }

  // The folder of the journal records under the lake root.
  static std::string JournalDir() { return "_fleetlog/journal"; }

 private:
  JournaledStateStore(std::unique_ptr<StateStore> inner, Env* env, std::string lake_root)
      : inner_(std::move(inner)), env_(env), lake_root_(std::move(lake_root)) {}
  // Applies the journal records the local store lacks; returns the commit id of the last
  // commit it applied (0 when none).
  Result<int64_t> CatchUpLocked(JournalReport* report);
  // Finishes what an earlier failure left: the withdrawal of a record in doubt, then the
  // catch-up of the local store. Cheap when nothing is left (one atomic load).
  Status Settle();
  Status SettleLocked();
  // Writes `text` as record `seq`; when the put fails, withdraws `seq`. Ok: the record is
  // written. Otherwise the put's error when the withdrawal is durable (nothing committed),
  // or kInDoubt when it is not (then in_doubt_ holds `seq`).
  Status WriteRecordLocked(int64_t seq, const std::string& text, const char* what);
  Status WithdrawLocked(int64_t seq);
  std::string RecordPath(int64_t seq) const;

  std::unique_ptr<StateStore> inner_;
  Env* env_;
  std::string lake_root_;
  std::mutex mutex_;      // serialises commits: one record, one sequence number at a time
  int64_t last_seq_ = 0;  // GUARDED_BY(mutex_): the highest sequence number written or tried
  std::optional<int64_t> in_doubt_;  // GUARDED_BY(mutex_): a record to withdraw
  bool behind_ = false;              // GUARDED_BY(mutex_): the journal may hold what the local store lacks
  std::atomic<bool> unsettled_{false};  // in_doubt_ || behind_, for Settle's fast path
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
