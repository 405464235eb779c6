// The commit protocol: staged files become visible in two steps.
//   1. Commit: one state-store transaction records the files (state kCommitted), moves the
//      cursor and writes the run's audit row. After it returns, the rows are exported.
//   2. Publish: each staged file is renamed into its partition folder (atomic, fsynced) and
//      marked kPublished. Readers list published files only.
// Recover() runs at the start of every writer process: it publishes what was committed but
// not yet renamed and deletes staging files that no commit names. Together they make every
// crash point safe: before the commit nothing is visible and the staging files are garbage;
// after it, publishing is idempotent.
//
// Which record is the truth. A local lake has one record of a commit: the state store's
// transaction. An S3 lake has two, the commit journal's record in the bucket and the local
// state store's transaction (JournaledStateStore, lake/journal.h), written in that order,
// and the journal record is the commit point: once it is in the bucket the commit stands,
// and the local store is brought up to it (at once, by the next call, or by the next start's
// Open), never the commit undone. So a StateStore::Commit that fails means one of two things,
// told apart by the code:
//   - any code but kInDoubt: nothing was committed anywhere; the caller removes its files;
//   - kInDoubt: committed, or perhaps committed (a journal put that failed and could not be
//     withdrawn); the caller deletes nothing the request names. Export files then wait in
//     staging (Recover publishes them once the journal is applied, or deletes them as
//     uncommitted); an upkeep replacement's placed files wait under their intent
//     (RecoverUpkeep keeps them when the journal committed them, removes them otherwise).
// Every export commit (CommitAndPublish), compaction, roll-up, expiry and purge
// (upkeep::CommitReplacement) follows this rule; docs/storage.md says it for users.
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
// Commits `request` and publishes its files. The Result fails only when the commit did: then
// nothing changed, or (kInDoubt) the commit stands in the journal, and its staged files wait
// for the local store to catch up.
Result<CommitOutcome> CommitAndPublish(StateStore& state, const LakeLayout& lake, const CommitRequest& request);

// Publishes the committed files of (table, cluster) (all when both are empty).
Status PublishCommitted(StateStore& state, const LakeLayout& lake, const std::string& table = "",
                        const std::string& cluster = "");

struct RecoveryReport {
  int published = 0;        // committed files that recovery renamed into place
  int staging_deleted = 0;  // staging files no commit named
};
// REQUIRES: the caller holds the lake's WriterLock.
// Gives the published file at lake path `path` its reader name (LakeLayout::ReaderDir) in a
// local lake; nothing for an object store's lake.
Status KeepForReaders(const LakeLayout& lake, const std::string& path);
// Takes retired files out of the table folders, so that engines that list folders see only
// committed files: a local lake's file keeps its reader name; an object is moved under
// LakeLayout::RetiredDir. Called right after a commit that retires files, and at recovery.
Status ClearRetiredFromFolders(StateStore& state, const LakeLayout& lake);

Result<RecoveryReport> Recover(StateStore& state, const LakeLayout& lake);

}  // namespace fleetlog
