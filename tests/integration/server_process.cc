#include "server_process.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace fleetlog::integration {

Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log, const ServerUser& user,
                    int die_signal) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return IoError("fork failed: {}", std::strerror(errno));
  if (pid > 0) return pid;
  const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const int in = open("/dev/null", O_RDONLY);
  if (out < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(126);
  if (user.switch_user && (setgroups(1, &user.gid) != 0 || setgid(user.gid) != 0 || setuid(user.uid) != 0)) _exit(126);
  // After setuid: a credential change clears the death signal.
  if (die_signal != 0 && (prctl(PR_SET_PDEATHSIG, die_signal) != 0 || getppid() != parent)) _exit(126);
  execv(args[0], args.data());
  _exit(127);
}

std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void StopProcess(pid_t pid, int signal, std::chrono::milliseconds timeout) {
  kill(pid, signal);
  if (!WaitForExit(pid, timeout)) {
    kill(pid, SIGKILL);
    (void)WaitForExit(pid, timeout);
  }
}

std::string UniqueName(std::string_view hint, int n, char sep) {
  std::string name;
  for (char c : hint.substr(0, 40)) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    name.push_back((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : sep);
  }
  return fmt::format("t{}{}{}", n, sep, name);
}

std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() <= bytes ? all : all.substr(all.size() - bytes);
}

}  // namespace fleetlog::integration
