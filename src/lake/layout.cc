#include "lake/layout.h"

#include <unistd.h>

#include "core/fs.h"

namespace fleetlog {

std::string LakeLayout::NewFilePath(const std::string& table, const std::string& cluster, const std::string& dt,
                                    Timestamp now) {
  std::string stamp = FormatTimestampIso(now);  // 2026-11-21T03:44:32.123456Z
  std::string compact;
  for (char c : stamp.substr(0, 19))
    if (c != '-' && c != ':') compact += c;
  return PartitionDir(table, cluster, dt) + "/" + compact + "Z-" + RandomHex(8) + ".parquet";
}

std::string LakeLayout::StagingPathFor(const std::string& final_path) {
  // Flatten the final path into one name so staging stays a single folder.
  std::string name;
  for (char c : final_path) name += (c == '/') ? '~' : c;
  return StagingDir() + "/" + name;
}

Status LakeLayout::Prepare() const {
  for (const auto& dir : {StagingDir(), TmpDir(), QuarantineDir(), IntentsDir()}) {
    if (Status s = env_->CreateDir(Abs(dir)); !s.ok())
      return Status(s.code(), fmt::format("cannot create {}: {} (is the lake path writable?)", Abs(dir), s.message()));
  }
  return Status::Ok();
}

Result<WriterLock> WriterLock::Acquire(const LakeLayout& lake) {
  RETURN_IF_ERROR(lake.Prepare());
  // The holder as a person can find it: "pid 4242 on host-a" (a lease in a bucket is shared by machines).
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  auto lock = lake.env().LockFile(lake.Abs("_fleetlog/writer.lock"), fmt::format("pid {} on {}", ::getpid(), host));
  if (!lock.ok() && lock.status().code() == StatusCode::kUnavailable) {
    return Error(StatusCode::kUnavailable, "another fleetlog process is writing to the lake {} ({}); stop it or wait for it to finish",
                 lake.root(), lock.status().message());
  }
  if (!lock.ok()) return lock.status();
  return WriterLock(std::move(lock).value());
}

}  // namespace fleetlog
