#include "test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/fs.h"
#include "duck/duck.h"
#include "lake/commit_window.h"
#include "lake/lake_writer.h"
#include "query/engine.h"

namespace fleetlog::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/fleetlog-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  // Canonical, so paths the code under test derives (and prints) compare equal to ours.
  path_ = fs::canonical(pattern).string();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

bool WriteFile(const std::string& path, const std::string& content) {
  std::error_code ec;
  const auto dir = fs::path(path).parent_path();
  if (!dir.empty()) fs::create_directories(dir, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return static_cast<bool>(out);
}

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<std::string> ListFilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file()) out.push_back(fs::relative(it->path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Feeds stdin and drains stdout and stderr together, so no pipe fills up and blocks.
void Pump(int in_fd, const std::string& input, int out_fd, int err_fd, ProcessResult* result) {
  size_t written = 0;
  if (input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  char buf[1 << 16];
  while (out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    const auto add = [&](int fd, short events) {
      if (fd >= 0) fds[n++] = pollfd{fd, events, 0};
    };
    add(out_fd, POLLIN);
    add(err_fd, POLLIN);
    add(in_fd, POLLOUT);
    if (::poll(fds, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      const int fd = fds[i].fd;
      if (fd == in_fd) {
        const ssize_t w = ::write(in_fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 || written == input.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      const ssize_t r = ::read(fd, buf, sizeof buf);
      if (r > 0) {
        (fd == out_fd ? result->out : result->err).append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(fd);
        (fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }
  if (in_fd >= 0) ::close(in_fd);
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessResult result;
  if (argv.empty()) return result;
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return result;
  // Built before fork: the child may only call async-signal-safe functions.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    for (const auto& name : options.unset_env) ::unsetenv(name.c_str());
    for (const auto& [name, value] : options.env) ::setenv(name.c_str(), value.c_str(), 1);
    if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0) ::_exit(127);
    ::signal(SIGPIPE, SIG_DFL);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return result;
  }
  // A child that exits without reading its stdin must not kill us with SIGPIPE.
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);
  SetNonBlocking(in[1]);
  Pump(in[1], options.stdin_data, out[0], err[0], &result);
  ::sigaction(SIGPIPE, &old, nullptr);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::string FleetlogBinary() { return FLEETLOG_BINARY; }
std::string SourceDir() { return FLEETLOG_SOURCE_DIR; }

ProcessResult RunFleetlog(const std::vector<std::string>& args, ProcessOptions options) {
  std::vector<std::string> argv = {FleetlogBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const char* name : {"FLEETLOG_CONFIG", "FLEETLOG_MASTER_KEY", "FLEETLOG_CRASH_AT"})
    if (!options.env.count(name)) options.unset_env.push_back(name);
  return RunProcess(argv, options);
}

bool HaveProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  return false;
}

std::string WriteMinimalConfig(const std::string& dir, const std::string& extra) {
  const std::string path = dir + "/fleetlog.toml";
  WriteFile(path, "[lake]\npath = \"" + dir + "/lake\"\n\n[state]\npath = \"" + dir + "/fleetlog.db\"\n\n" +
                      "[secrets]\nkey_file = \"" + dir + "/fleetlog.key\"\n\n" + extra);
  return path;
}

Result<LakeWriteResult> WriteToLake(StateStore& state, const LakeLayout& lake, const LakeWrite& what,
                                    const RowBatch& batch) {
  ASSIGN_OR_RETURN(auto writer, LakeWriter::Open(lake, 256LL << 20, 1));
  std::vector<std::string> keys = what.keys;
  if (keys.empty())
    for (const auto& c : batch.schema()) keys.push_back(c.name);
  CommitWindow window(*writer, state,
                      {.table = what.table, .cluster = what.cluster, .partition_column = what.cursor_column, .key = keys});
  RETURN_IF_ERROR(window.Append(batch));
  SystemClock clock;
  RunRecord run{.cluster = what.cluster, .table = what.table, .started_at = clock.Now(), .rows_read = window.rows()};
  ASSIGN_OR_RETURN(WindowCommitted committed, window.Commit(clock, run, what.cursor));
  RETURN_IF_ERROR(committed.publish_error);
  return LakeWriteResult{committed.commit_id, committed.run.rows_written, committed.run.rows_duplicate, committed.files};
}

Result<std::vector<std::string>> PublishedFileRows(StateStore& state, const std::string& root, std::string select,
                                                   FileFilter filter) {
  filter.states = {FileState::kPublished};
  ASSIGN_OR_RETURN(auto files, state.ListFiles(filter));
  if (files.empty()) return std::vector<std::string>{};
  std::string list;
  for (const auto& f : files) list += (list.empty() ? "" : ", ") + duck::QuoteString(root + "/" + f.path);
  const size_t at = select.find("{files}");
  if (at == std::string::npos) return InvalidArgument("the SELECT has no {{files}}: {}", select);
  select.replace(at, 7, "read_parquet([" + list + "], hive_partitioning = true)");
  ASSIGN_OR_RETURN(auto db, duck::Database::OpenInMemory({}));
  ASSIGN_OR_RETURN(auto conn, duck::Connection::Open(db));
  ASSIGN_OR_RETURN(auto result, conn->Query(select));
  std::vector<std::string> rows;
  for (size_t i = 0; i < result.row_count(); ++i) rows.push_back(result.text(0, i));
  return rows;
}

}  // namespace fleetlog::test
