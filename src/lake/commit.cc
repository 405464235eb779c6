#include "lake/commit.h"

#include "core/fs.h"

namespace fleetlog {

Result<CommitOutcome> CommitAndPublish(StateStore& state, const LakeLayout& lake, const CommitRequest& request) {
  CrashPoint("before-commit");
  CommitOutcome out;
  ASSIGN_OR_RETURN(out.commit_id, state.Commit(request));
  CrashPoint("after-commit");
  if (!request.add.empty()) {
    out.publish_error = PublishCommitted(state, lake, request.add.front().table, request.add.front().cluster)
                            .WithContext("committed, but publishing failed (the next start publishes it)");
  }
  CrashPoint("after-publish");
  return out;
}

Status PublishCommitted(StateStore& state, const LakeLayout& lake, const std::string& table, const std::string& cluster) {
  FileFilter filter;
  if (!table.empty()) filter.table = table;
  if (!cluster.empty()) filter.cluster = cluster;
  filter.states = {FileState::kCommitted};
  ASSIGN_OR_RETURN(auto files, state.ListFiles(filter));
  std::vector<int64_t> published;
  Env& env = lake.env();
  for (const auto& f : files) {
    const std::string from = lake.Abs(f.staging_path), to = lake.Abs(f.path);
    // Published means "at its final path": an object store may hold both after a crash.
    ASSIGN_OR_RETURN(const bool placed, env.FileExists(to));
    ASSIGN_OR_RETURN(const bool staged, env.FileExists(from));
    if (staged && !placed) {
      RETURN_IF_ERROR(env.Publish(from, to));
      CrashPoint("mid-publish");
    } else if (staged) {
      RETURN_IF_ERROR(env.DeleteFile(from));
    } else if (!placed) {
      return Error(StatusCode::kCorruption,
                   "committed file {} is neither in staging nor in the lake; run `fleetlog verify`", f.path);
    }
    published.push_back(f.id);
  }
  return state.MarkPublished(published);
}

Result<RecoveryReport> Recover(StateStore& state, const LakeLayout& lake) {
  RETURN_IF_ERROR(lake.Prepare());
  RecoveryReport report;
  ASSIGN_OR_RETURN(auto pending, state.ListFiles({.states = {FileState::kCommitted}}));
  report.published = static_cast<int>(pending.size());
  RETURN_IF_ERROR(PublishCommitted(state, lake));
  // Staging files that no commit names were never committed: delete them. (Every committed
  // one was just published, so whatever is left is garbage.)
  Env& env = lake.env();
  ASSIGN_OR_RETURN(auto staged, env.ListFiles(lake.Abs(LakeLayout::StagingDir())));
  for (const auto& f : staged) {
    RETURN_IF_ERROR(env.DeleteFile(lake.Abs(LakeLayout::StagingDir()) + "/" + f.name));
    ++report.staging_deleted;
  }
  // DuckDB's spill files from a killed process.
  ASSIGN_OR_RETURN(auto spilled, env.ListFiles(lake.Abs(LakeLayout::TmpDir())));
  for (const auto& f : spilled) RETURN_IF_ERROR(env.DeleteFile(lake.Abs(LakeLayout::TmpDir()) + "/" + f.name));
  return report;
}

}  // namespace fleetlog
