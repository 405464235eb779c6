// The commit protocol: staged files become visible in two steps.
//   1. Commit: one state-store transaction records the files (state kCommitted), moves the
//      cursor and writes the run's audit row. After it returns, the rows are exported.
//   2. Publish: each staged file is renamed into its partition folder (atomic, fsynced) and
//      marked kPublished. Readers list published files only.
// Recover() runs at the start of every writer process: it publishes what was committed but
// not yet renamed and deletes staging files that no commit names. Together they make every
// crash point safe: before the commit nothing is visible and the staging files are garbage;
// after it, publishing is idempotent.
// Thread-safety: safe to call from several threads for different (table, cluster) pairs.
#pragma once

#include "core/status.h"
#include "lake/layout.h"
#include "state/state_store.h"

namespace fleetlog {

struct CommitOutcome {
  int64_t commit_id = 0;
  // Ok, or why publishing failed after the commit succeeded. The rows are committed all the
  // same and the next Recover() publishes them: a warning, not a failure.
  Status publish_error;
};
// Commits `request` and publishes its files. The Result fails only when the commit did (then
// nothing changed).
Result<CommitOutcome> CommitAndPublish(StateStore& state, const LakeLayout& lake, const CommitRequest& request);

// Publishes the committed files of (table, cluster) (all when both are empty).
Status PublishCommitted(StateStore& state, const LakeLayout& lake, const std::string& table = "",
                        const std::string& cluster = "");

struct RecoveryReport {
  int published = 0;        // committed files that recovery renamed into place
  int staging_deleted = 0;  // staging files no commit named
};
// REQUIRES: the caller holds the lake's WriterLock.
Result<RecoveryReport> Recover(StateStore& state, const LakeLayout& lake);

}  // namespace fleetlog
