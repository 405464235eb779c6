#include "lake/layout.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "core/fs.h"

namespace fleetlog {

std::string LakeLayout::NewFilePath(const std::string& table, const std::string& cluster, const std::string& dt) {
  std::string stamp = FormatTimestampIso(Timestamp::Now());  // 2026-11-21T03:44:32.123456Z
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
  std::error_code ec;
  for (const auto& dir : {StagingDir(), TmpDir(), QuarantineDir()}) {
    std::filesystem::create_directories(Abs(dir), ec);
    if (ec) return IoError("cannot create {}: {} (is the lake path writable?)", Abs(dir), ec.message());
  }
  return Status::Ok();
}

Result<WriterLock> WriterLock::Acquire(const LakeLayout& lake) {
  RETURN_IF_ERROR(lake.Prepare());
  const std::string path = lake.Abs("_fleetlog/writer.lock");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot open {}: {}", path, std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    return Error(StatusCode::kUnavailable,
                 "another fleetlog process (pid {}) is writing to the lake {}; stop it or wait for it to finish",
                 n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?", lake.root());
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the message above; the lock itself holds.
  }
  return WriterLock(fd);
}

WriterLock::~WriterLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace fleetlog
