#include "lake/commit.h"

#include <filesystem>
#include <set>

#include "core/fs.h"

namespace fleetlog {
namespace fs = std::filesystem;

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
  for (const auto& f : files) {
    const std::string from = lake.Abs(f.staging_path), to = lake.Abs(f.path);
    if (fs::exists(from)) {
      RETURN_IF_ERROR(DurableRename(from, to));
      CrashPoint("mid-publish");
    } else if (!fs::exists(to)) {
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
  // one was just renamed away, so whatever is left is garbage.)
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(lake.Abs(LakeLayout::StagingDir()), ec)) {
    fs::remove_all(entry.path(), ec);
    if (!ec) ++report.staging_deleted;
  }
  // DuckDB's spill files from a killed process.
  for (const auto& entry : fs::directory_iterator(lake.Abs(LakeLayout::TmpDir()), ec)) fs::remove_all(entry.path(), ec);
  return report;
}

}  // namespace fleetlog
