#include "upkeep/verify.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

#include "core/fs.h"
#include "lake/replace.h"

namespace fleetlog::upkeep {
namespace {

namespace fs = std::filesystem;

// Moves a lake file to <lake>/_fleetlog/quarantine/<path> (a fresh name if taken); returns
// the new lake-relative path.
Result<std::string> Quarantine(const LakeLayout& lake, const std::string& path) {
  std::string target = LakeLayout::QuarantineDir() + "/" + path;
  ASSIGN_OR_RETURN(const bool taken, lake.env().FileExists(lake.Abs(target)));
  if (taken) target += "." + RandomHex(4);
  RETURN_IF_ERROR(lake.env().Publish(lake.Abs(path), lake.Abs(target)));
  return target;
}

// Checks one published file: present, the recorded size and checksum, readable as Parquet
// with the recorded row count.
std::optional<VerifyIssue> CheckFile(const LakeLayout& lake, duck::Connection* conn, const CommittedFile& f,
                                     VerifyReport& report) {
  const std::string abs = lake.Abs(f.path);
  auto size = lake.env().FileSize(abs);
  if (!size.ok())
    return VerifyIssue{IssueKind::kMissing, f.path, f.id, fmt::format("not in the lake ({})", size.status().message()), ""};
  ++report.files_checked;
  report.bytes_checked += *size;
  if (*size != f.bytes)
    return VerifyIssue{IssueKind::kSize, f.path, f.id, fmt::format("{} bytes, the catalog says {}", *size, f.bytes), ""};
  auto digest = DigestFile(lake.env(), abs);
  if (!digest.ok()) return VerifyIssue{IssueKind::kUnreadable, f.path, f.id, digest.status().message(), ""};
  if (digest->checksum != f.checksum)
    return VerifyIssue{IssueKind::kChecksum, f.path, f.id,
                       fmt::format("BLAKE2b {}, the catalog says {}", digest->checksum, f.checksum), ""};
  if (conn == nullptr) return std::nullopt;
  auto local = ResolveLakeFiles(lake, {f});
  if (!local.ok()) return VerifyIssue{IssueKind::kUnreadable, f.path, f.id, local.status().message(), ""};
  auto counted = conn->Query(fmt::format("SELECT count(*) FROM read_parquet({})", duck::QuoteString(local->path(0))));
  if (!counted.ok()) return VerifyIssue{IssueKind::kUnreadable, f.path, f.id, counted.status().message(), ""};
  if (counted->int64(0, 0) != f.rows)
    return VerifyIssue{IssueKind::kUnreadable, f.path, f.id,
                       fmt::format("{} rows, the catalog says {}", counted->int64(0, 0), f.rows), ""};
  return std::nullopt;
}

// Finishes (with repair) or reports a committed file that was never published.
Status CheckCommitted(StateStore& state, const LakeLayout& lake, const CommittedFile& f, bool repair,
                      VerifyReport& report) {
  ASSIGN_OR_RETURN(const bool staged, lake.env().FileExists(lake.Abs(f.staging_path)));
  ASSIGN_OR_RETURN(const bool placed, lake.env().FileExists(lake.Abs(f.path)));
  if (!staged && !placed) {
    VerifyIssue issue{IssueKind::kMissing, f.path, f.id, "committed, but neither in staging nor in the lake", ""};
    if (repair) {
      RETURN_IF_ERROR(state.SetFileState(f.id, FileState::kQuarantined));
      issue.repair = fmt::format("marked quarantined: its {} rows are not in the lake (restore the file or re-export)", f.rows);
    }
    report.issues.push_back(std::move(issue));
    return Status::Ok();
  }
  VerifyIssue issue{IssueKind::kUnpublished, f.path, f.id,
                    staged ? "committed, still in staging (the next writer start publishes it)"
                           : "in place, not yet marked published",
                    ""};
  if (repair) {
    if (staged && !placed) RETURN_IF_ERROR(lake.env().Publish(lake.Abs(f.staging_path), lake.Abs(f.path)));
    RETURN_IF_ERROR(state.MarkPublished({f.id}));
    issue.repair = "published";
  }
  report.issues.push_back(std::move(issue));
  return Status::Ok();
}

Status RepairDamaged(StateStore& state, const LakeLayout& lake, VerifyIssue& issue) {
  if (issue.kind == IssueKind::kMissing) {
    RETURN_IF_ERROR(state.SetFileState(issue.file_id, FileState::kQuarantined));
    issue.repair = "marked quarantined so that queries work again (restore the file or re-export its rows)";
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(std::string moved, Quarantine(lake, issue.path));
  if (issue.file_id != 0) RETURN_IF_ERROR(state.SetFileState(issue.file_id, FileState::kQuarantined));
  issue.repair = "moved to " + moved + (issue.file_id != 0 ? ", marked quarantined" : "");
  return Status::Ok();
}

// Files inside table folders (not <lake>/_fleetlog, not the lake's top level).
Result<std::vector<std::string>> FilesUnderTables(const LakeLayout& lake) {
  ASSIGN_OR_RETURN(auto files, lake.env().ListFiles(lake.root()));
  std::vector<std::string> out;
  for (auto& f : files) {
    if (f.name.find('/') == std::string::npos || f.name.starts_with("_fleetlog/")) continue;
    out.push_back(std::move(f.name));
  }
  return out;
}

// Symbolic links (at any depth, a table folder itself included; never followed) and
// entries that are neither folders nor regular files, in a local lake's table folders.
// An object-store lake has neither.
std::vector<std::pair<IssueKind, std::string>> LocalOddities(const LakeLayout& lake) {
  std::vector<std::pair<IssueKind, std::string>> out;
  std::error_code ec;
  const fs::path root(lake.root());
  if (!fs::is_directory(root, ec)) return out;  // outside the Env: symlinks exist only in a local lake
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();  // outside the Env: listing links without following them
       it.increment(ec)) {
    if (it.depth() == 0 && it->path().filename() == "_fleetlog") {
      it.disable_recursion_pending();
      continue;
    }
    std::error_code type_ec;
    const std::string relative = it->path().lexically_relative(root).string();  // never through a link
    if (it->is_symlink(type_ec)) out.emplace_back(IssueKind::kSymlink, relative);
    else if (it.depth() > 0 && !it->is_directory(type_ec) && !it->is_regular_file(type_ec))
      out.emplace_back(IssueKind::kForeign, relative);
  }
  return out;
}

}  // namespace

const char* IssueKindName(IssueKind kind) {
  switch (kind) {
    case IssueKind::kMissing: return "missing";
    case IssueKind::kOrphan: return "orphan";
    case IssueKind::kSize: return "size";
    case IssueKind::kChecksum: return "checksum";
    case IssueKind::kUnreadable: return "unreadable";
    case IssueKind::kUnpublished: return "unpublished";
    case IssueKind::kSymlink: return "symlink";
    case IssueKind::kForeign: return "foreign";
  }
  return "?";
}

Result<VerifyReport> VerifyLake(StateStore& state, const LakeLayout& lake, const VerifyOptions& options) {
  VerifyReport report;
  if (options.repair) {
    ASSIGN_OR_RETURN(report.upkeep_leftovers_removed, RecoverUpkeep(state, lake));
  }
  std::shared_ptr<duck::Database> db;
  std::unique_ptr<duck::Connection> conn;
  if (options.read_parquet) {
    ASSIGN_OR_RETURN(db, OpenUpkeepDatabase(lake, 256LL << 20, 1));
    ASSIGN_OR_RETURN(conn, duck::Connection::Open(db));
  }

  ASSIGN_OR_RETURN(auto files, state.ListFiles({}));
  std::set<std::string> known;  // paths a commit names and that may be on disk
  for (const auto& f : files) {
    if (f.state != FileState::kQuarantined) known.insert(f.path);
    if (f.state == FileState::kCommitted) {
      RETURN_IF_ERROR(CheckCommitted(state, lake, f, options.repair, report));
    } else if (f.state == FileState::kPublished) {
      if (auto issue = CheckFile(lake, conn.get(), f, report)) report.issues.push_back(std::move(*issue));
    }
  }

  ASSIGN_OR_RETURN(auto pending_paths, PendingReplacementPaths(state, lake));
  const std::set<std::string> pending(pending_paths.begin(), pending_paths.end());
  std::set<std::string> odd;  // reported here, not again as orphans
  for (auto& [kind, path] : LocalOddities(lake)) {
    report.issues.push_back({kind, path, 0,
                             kind == IssueKind::kSymlink ? "a symbolic link in the lake; queries never follow it"
                                                         : "not a regular Parquet file; queries never read it",
                             ""});
    odd.insert(path);
  }
  ASSIGN_OR_RETURN(auto under_tables, FilesUnderTables(lake));
  for (const auto& path : under_tables) {
    if (odd.count(path) || std::any_of(odd.begin(), odd.end(), [&](const std::string& o) { return path.starts_with(o + "/"); }))
      continue;
    if (!path.ends_with(".parquet")) {
      report.issues.push_back({IssueKind::kForeign, path, 0, "not a regular Parquet file; queries never read it", ""});
      continue;
    }
    if (known.count(path)) continue;
    if (pending.count(path)) {
      report.in_progress.push_back(path);
      continue;
    }
    report.issues.push_back({IssueKind::kOrphan, path, 0, "in a table folder, but no commit names it", ""});
  }

  if (options.repair) {
    for (auto& issue : report.issues) {
      if (!issue.repair.empty() || issue.kind == IssueKind::kUnpublished) continue;
      RETURN_IF_ERROR(RepairDamaged(state, lake, issue).WithContext("repairing " + issue.path));
    }
  }
  return report;
}

}  // namespace fleetlog::upkeep
