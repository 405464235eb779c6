// What the test harnesses (PostgreSQL, Swift) need to run servers as children of the test
// process: spawning with the output in a log, waiting, free loopback ports, log tails.
// Thread-safety: free functions; Spawn forks, so call it from the test's main thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace fleetlog::integration {

// Who a server's processes run as: another OS user (switch_user), or ourselves.
struct ServerUser {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Forks and runs `argv` with stdout and stderr appended to `log`. With `die_signal` non-zero,
// the child gets that signal when the forking thread exits, so that a crashed or killed test
// run leaves no server behind. Everything the child needs is prepared before fork().
Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log, const ServerUser& user,
                    int die_signal);
// Waits up to `timeout` for `pid` to exit; its wait status, or nullopt on timeout.
std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout);
// Sends `signal`, waits up to `timeout`, then SIGKILL and waits again.
void StopProcess(pid_t pid, int signal, std::chrono::milliseconds timeout);
// "t<n><sep><hint>": `hint` lower-cased, cut to 40 characters, anything but a-z0-9 as `sep`.
std::string UniqueName(std::string_view hint, int n, char sep);
// The last `bytes` bytes of the file at `path` ("" when unreadable).
std::string Tail(const std::string& path, size_t bytes);

}  // namespace fleetlog::integration
