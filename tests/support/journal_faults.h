// Faults for the commit journal's tests, on either side of its commit point:
//   FaultyStateStore  a StateStore that forwards to a real one and fails its commits on
//                     demand, as SQLite does when the disk is full or the database is locked
//                     or damaged (the transaction rolls back, Commit returns the error): the
//                     local commit failing right after the journal record reached the lake;
//   JournalFaultEnv   an Env whose puts of journal records fail: refused, or landed with the
//                     answer lost (a timeout after the object store stored it), and whose
//                     withdrawals can be refused (a bucket that went away).
// Thread-safety: as the store or Env they wrap; set the faults from the test's thread only.
#pragma once

#include <memory>
#include <string>

#include "core/env.h"
#include "state/state_store.h"

namespace fleetlog::test {

class FaultyStateStore final : public StateStore {
 public:
  // Forwards to `inner`, which must outlive it.
  explicit FaultyStateStore(StateStore* inner) : inner_(inner) {}
  // Forwards to `owned`.
  explicit FaultyStateStore(std::unique_ptr<StateStore> owned) : owned_(std::move(owned)), inner_(owned_.get()) {}

  // How many of the next Commit calls fail: 0 none, -1 every one (a database that stays
  // broken until the process restarts).
  int fail_commits = 0;
  // Commits that failed so far.
  int failed = 0;

  Result<int64_t> Commit(const CommitRequest& r) override {
    if (fail_commits != 0) {
      if (fail_commits > 0) --fail_commits;
      ++failed;
      return Status(StatusCode::kIoError, "injected: database or disk is full");
    }
    return inner_->Commit(r);
  }
  Result<int64_t> RecordRun(const RunRecord& r) override { return inner_->RecordRun(r); }
  Result<std::optional<Timestamp>> GetCursor(const std::string& c, const std::string& t) override {
    return inner_->GetCursor(c, t);
  }
  Result<std::vector<CursorRecord>> ListCursors() override { return inner_->ListCursors(); }
  Result<std::vector<CommittedFile>> ListFiles(const FileFilter& f) override { return inner_->ListFiles(f); }
  Status MarkPublished(const std::vector<int64_t>& ids) override { return inner_->MarkPublished(ids); }
  Status SetFileState(int64_t id, FileState s) override { return inner_->SetFileState(id, s); }
  Status DeleteFiles(const std::vector<int64_t>& ids) override { return inner_->DeleteFiles(ids); }
  Result<std::vector<RunRecord>> LatestRuns() override { return inner_->LatestRuns(); }
  Result<std::vector<RunRecord>> RecentRuns(int n, const std::string& c) override { return inner_->RecentRuns(n, c); }
  Result<std::vector<RunTotals>> ListRunTotals() override { return inner_->ListRunTotals(); }
  Result<int> FailureStreak(const std::string& c, const std::string& t) override { return inner_->FailureStreak(c, t); }
  Result<std::optional<std::string>> GetValue(const std::string& k) override { return inner_->GetValue(k); }
  Status PutValue(const std::string& k, const std::string& v) override { return inner_->PutValue(k, v); }
  Status DeleteValue(const std::string& k) override { return inner_->DeleteValue(k); }
  Result<std::vector<std::string>> ListKeys(const std::string& p) override { return inner_->ListKeys(p); }

 private:
  std::unique_ptr<StateStore> owned_;
  StateStore* inner_;
};

class JournalFaultEnv final : public EnvWrapper {
 public:
  explicit JournalFaultEnv(Env* target = Env::Default()) : EnvWrapper(target) {}

  int lose_answers = 0;             // the next n record puts land, then fail with kTimeout
  bool refuse_records = false;      // record puts fail with kUnavailable and land nowhere
  bool refuse_withdrawals = false;  // withdrawals fail with kUnavailable
  int records_written = 0;          // record puts that landed

  Status WriteFile(const std::string& path, std::string_view data, const WriteOptions& options = {}) override {
    if (path.find("/_fleetlog/journal/withdrawn/") != std::string::npos) {
      if (refuse_withdrawals) return Status(StatusCode::kUnavailable, "injected: the bucket is unreachable: " + path);
    } else if (path.find("/_fleetlog/journal/") != std::string::npos) {
      if (refuse_records) return Status(StatusCode::kUnavailable, "injected: the bucket is unreachable: " + path);
      RETURN_IF_ERROR(target()->WriteFile(path, data, options));
      ++records_written;
      if (lose_answers > 0) {
        --lose_answers;
        return Status(StatusCode::kTimeout, "injected: no answer in time to the put of " + path);
      }
      return Status::Ok();
    }
    return target()->WriteFile(path, data, options);
  }
};

}  // namespace fleetlog::test
