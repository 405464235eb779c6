// `fleetlog run` as systemd runs it (Type=notify): the test plays systemd's part with a unix
// datagram socket in $NOTIFY_SOCKET and a watchdog interval in $WATCHDOG_USEC, then reloads
// a broken config and a good one with SIGHUP and stops the service with SIGTERM.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

extern char** environ;

namespace fleetlog {
namespace {

using ::testing::HasSubstr;

// Guards against a hang only: nothing asserts how fast anything happens.
constexpr int kPatienceMs = 120'000;

// systemd's side of the notify protocol: a bound unix datagram socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return bound_; }

  // The next datagram, or "" when none came within kPatienceMs.
  std::string Receive() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, kPatienceMs) <= 0) return "";
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
  // Receives until a datagram contains `what`; every datagram seen is appended to `seen`.
  bool ReceiveUntil(const std::string& what, std::vector<std::string>* seen) {
    for (;;) {
      std::string m = Receive();
      if (m.empty()) return false;
      seen->push_back(m);
      if (m.find(what) != std::string::npos) return true;
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

// `fleetlog args...` in the background, stdout and stderr into files.
pid_t Spawn(const std::vector<std::string>& args, const std::vector<std::string>& extra_env, const std::string& out,
            const std::string& err) {
  std::vector<std::string> argv_s{test::FleetlogBinary()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    if (kv.rfind("NOTIFY_SOCKET=", 0) != 0 && kv.rfind("WATCHDOG_", 0) != 0 && kv.rfind("FLEETLOG_", 0) != 0)
      env_s.push_back(kv);
  }
  env_s.insert(env_s.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

size_t CountOf(const std::string& path, const std::string& what) {
  const std::string text = test::ReadWholeFile(path).value_or("");
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Waits until `path` contains `what` at least `times` times (true), or the patience runs out.
bool WaitForText(const std::string& path, const std::string& what, size_t times = 1) {
  for (int waited = 0; waited < kPatienceMs; waited += 50) {
    if (CountOf(path, what) >= times) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string ServiceConfig(const std::string& dir, const std::string& interval) {
  return test::WriteMinimalConfig(dir, "[export]\ninterval = \"" + interval +
                                           "\"\ninitial_backfill = \"1h\"\ntables = [\"stl_query\"]\n\n"
                                           "[detect]\nenabled = false\n\n[upkeep]\nenabled = false\n\n"
                                           "[[cluster]]\nname = \"sim-1\"\nkind = \"sim\"\nscale = 0.05\n");
}

TEST(ServiceTest, NotifyWatchdogReloadAndStop) {
  test::TempDir dir;
  const std::string config = ServiceConfig(dir.path(), "1s");
  NotifySocket notify(dir.Sub("notify.sock"));
  ASSERT_TRUE(notify.ok()) << std::strerror(errno);
  const std::string err = dir.Sub("stderr.log");
  const pid_t pid = Spawn({"--config", config, "run"},
                          {"NOTIFY_SOCKET=" + dir.Sub("notify.sock"), "WATCHDOG_USEC=200000"}, dir.Sub("stdout.log"), err);
  ASSERT_GT(pid, 0);
  struct Reaper {  // never leaves the service running when an assertion fails
    pid_t pid;
    ~Reaper() {
      if (pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  } reaper{pid};

  std::vector<std::string> seen;
  ASSERT_TRUE(notify.ReceiveUntil("READY=1", &seen)) << test::ReadWholeFile(err).value_or("");
  EXPECT_THAT(seen.back(), HasSubstr("STATUS=exporting 1 clusters every 1s"));
  for (int pings = 0; pings < 2; ++pings) ASSERT_TRUE(notify.ReceiveUntil("WATCHDOG=1", &seen));
  ASSERT_TRUE(WaitForText(err, " rows written")) << test::ReadWholeFile(err).value_or("");

  // A broken config: logged with the reason, the running one kept.
  ASSERT_TRUE(test::WriteFile(config, "[export]\ninterval = \"soon\"\n"));
  ASSERT_EQ(kill(pid, SIGHUP), 0);
  ASSERT_TRUE(notify.ReceiveUntil("RELOADING=1", &seen));
  ASSERT_TRUE(notify.ReceiveUntil("READY=1", &seen));
  ASSERT_TRUE(WaitForText(err, "reload failed, keeping the running config")) << test::ReadWholeFile(err).value_or("");
  EXPECT_THAT(*test::ReadWholeFile(err), HasSubstr("interval"));
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), 0) << "the service exited on a bad reload";
  ASSERT_TRUE(notify.ReceiveUntil("WATCHDOG=1", &seen));
  const size_t cycles = CountOf(err, " rows written");
  ASSERT_TRUE(WaitForText(err, " rows written", cycles + 1)) << "no cycle ran on the old config after the failed reload";

  // A good config: taken.
  ServiceConfig(dir.path(), "2s");
  ASSERT_EQ(kill(pid, SIGHUP), 0);
  ASSERT_TRUE(notify.ReceiveUntil("RELOADING=1", &seen));
  ASSERT_TRUE(notify.ReceiveUntil("READY=1", &seen));
  EXPECT_THAT(seen.back(), HasSubstr("every 2s"));
  ASSERT_TRUE(WaitForText(err, "reloaded " + config)) << test::ReadWholeFile(err).value_or("");

  // SIGTERM: STOPPING=1, the window in progress finishes, exit 0.
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  ASSERT_TRUE(notify.ReceiveUntil("STOPPING=1", &seen));
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  reaper.pid = -1;
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << test::ReadWholeFile(err).value_or("");
  EXPECT_THAT(*test::ReadWholeFile(err), HasSubstr("stopped"));
}

}  // namespace
}  // namespace fleetlog
