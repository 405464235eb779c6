#include "query/confine.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace fleetlog {
namespace {

// Landlock's interface, spelled out here so that older kernel headers still build; the
// values are the kernel's ABI (include/uapi/linux/landlock.h) and never change.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
struct PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));
constexpr uint32_t kCreateRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1;
constexpr uint64_t kFsReadFile = 1ULL << 2;
constexpr uint64_t kFsAbi1 = (1ULL << 13) - 1;  // EXECUTE .. MAKE_SYM
constexpr uint64_t kFsRefer = 1ULL << 13;        // ABI 2
constexpr uint64_t kFsTruncate = 1ULL << 14;     // ABI 3
constexpr uint64_t kFsIoctlDev = 1ULL << 15;     // ABI 5
constexpr uint64_t kNetBindConnectTcp = 3;       // ABI 4
constexpr uint64_t kScopeUnixAndSignal = 3;      // ABI 6

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

long CreateRuleset(const RulesetAttr* attr, size_t size, uint32_t flags) {
  return syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

}  // namespace

int LandlockAbi() {
  const long v = CreateRuleset(nullptr, 0, kCreateRulesetVersion);
  return v < 0 ? 0 : static_cast<int>(v);
}

Result<Confinement> ConfineToFiles(const std::vector<std::string>& readable_files) {
  Confinement c;
  c.landlock_abi = LandlockAbi();
  if (c.landlock_abi <= 0) {
    c.note = "this kernel has no Landlock (landlock_create_ruleset: " + std::string(std::strerror(errno)) +
             "); only DuckDB's own sandbox limits what the query worker can open";
    return c;
  }
  RulesetAttr attr{};
  attr.handled_access_fs = kFsAbi1;
  if (c.landlock_abi >= 2) attr.handled_access_fs |= kFsRefer;
  if (c.landlock_abi >= 3) attr.handled_access_fs |= kFsTruncate;
  if (c.landlock_abi >= 5) attr.handled_access_fs |= kFsIoctlDev;
  size_t size = sizeof(uint64_t);
  if (c.landlock_abi >= 4) {
    attr.handled_access_net = kNetBindConnectTcp;
    size = 2 * sizeof(uint64_t);
  }
  if (c.landlock_abi >= 6) {
    attr.scoped = kScopeUnixAndSignal;
    size = sizeof(RulesetAttr);
  }
  const int ruleset = static_cast<int>(CreateRuleset(&attr, size, 0));
  if (ruleset < 0) return Internal("landlock_create_ruleset failed: {}", std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{ruleset};
  for (const auto& path : readable_files) {
    const int fd = ::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);  // outside the Env: Landlock rules take descriptors
    if (fd < 0) return IoError("cannot open {} to allow reading it: {}", path, std::strerror(errno));
    struct stat st{};
    const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    PathBeneathAttr rule{.allowed_access = kFsReadFile, .parent_fd = fd};
    const long added = regular ? syscall(SYS_landlock_add_rule, ruleset, kRulePathBeneath, &rule, 0) : -1;
    const int err = errno;
    ::close(fd);
    if (!regular) return Error(StatusCode::kPermissionDenied, "{} is not a regular file; it is not read", path);
    if (added != 0) return Internal("landlock_add_rule({}) failed: {}", path, std::strerror(err));
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Internal("prctl(NO_NEW_PRIVS): {}", std::strerror(errno));
  if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
    return Internal("landlock_restrict_self failed: {}", std::strerror(errno));
  c.landlocked = true;
  c.network_blocked = c.landlock_abi >= 4;
  c.signals_scoped = c.landlock_abi >= 6;
  if (!c.network_blocked) c.note = "Landlock ABI " + std::to_string(c.landlock_abi) + " cannot refuse TCP";
  return c;
}

int64_t CurrentDataBytes() {
  std::ifstream in("/proc/self/status");  // outside the Env: the kernel's own numbers
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmData:", 0) == 0) return std::stoll(line.substr(7)) * 1024;
  return -1;
}

Result<int64_t> LimitProcess(int64_t data_bytes, bool may_write_files) {
  const int64_t now = CurrentDataBytes();
  if (now < 0) return Internal("cannot read VmData from /proc/self/status");
  const rlimit data{.rlim_cur = static_cast<rlim_t>(now + data_bytes), .rlim_max = static_cast<rlim_t>(now + data_bytes)};
  const rlimit zero{.rlim_cur = 0, .rlim_max = 0};
  if (::setrlimit(RLIMIT_DATA, &data) != 0 || ::setrlimit(RLIMIT_CORE, &zero) != 0 ||
      (!may_write_files && ::setrlimit(RLIMIT_FSIZE, &zero) != 0))
    return Internal("setrlimit failed: {}", std::strerror(errno));
  return now + data_bytes;
}

}  // namespace fleetlog
