#include "query/worker.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <nlohmann/json.hpp>

#include "query/confine.h"
#include "query/format.h"

namespace fleetlog {
namespace {

using nlohmann::json;

constexpr size_t kWriteChunk = 64 << 10;

StatusCode CodeNamed(const std::string& name) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kInternal); ++c)
    if (name == StatusCodeName(static_cast<StatusCode>(c))) return static_cast<StatusCode>(c);
  return StatusCode::kInternal;
}

// Buffered writes to a pipe; a failed write (the parent went away) ends the process.
class Output {
 public:
  explicit Output(int fd) : fd_(fd) {}
  ~Output() { Flush(); }
  void Line(std::string_view text) {
    buffer_.append(text);
    buffer_ += '\n';
    if (buffer_.size() >= kWriteChunk) Flush();
  }
  void Event(const json& event) { Line(event.dump(-1, ' ', false, json::error_handler_t::replace)); }
  void Flush() {
    size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(3);
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
  }

 private:
  int fd_;
  std::string buffer_;
};

void SendError(Output& out, const Status& s) {
  out.Event({{"event", "error"}, {"code", StatusCodeName(s.code())}, {"message", s.message()}});
}

int Fail(Output& out, const Status& s) {
  SendError(out, s);
  out.Flush();
  return 1;
}

// Lines from a descriptor: the request, then (a long-lived worker) one job per line.
class LineInput {
 public:
  explicit LineInput(int fd) : fd_(fd) {}
  // The next line without its newline; nullopt at the end of the input (a last line without
  // a newline is still a line).
  Result<std::optional<std::string>> Next() {
    for (;;) {
      if (const size_t newline = buffer_.find('\n', scanned_); newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        scanned_ = 0;
        return std::optional(std::move(line));
      }
      scanned_ = buffer_.size();
      if (eof_) {
        if (buffer_.empty()) return std::optional<std::string>();
        scanned_ = 0;
        return std::optional(std::exchange(buffer_, std::string()));
      }
      char buf[1 << 16];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return IoError("cannot read the request: {}", std::strerror(errno));
      if (n == 0) eof_ = true;
      buffer_.append(buf, static_cast<size_t>(std::max<ssize_t>(n, 0)));
    }
  }

 private:
  int fd_;
  std::string buffer_;
  size_t scanned_ = 0;  // bytes of buffer_ known to hold no newline
  bool eof_ = false;
};

// Runs one job's statements in order on `engine`, stopping at the first that fails.
void RunJob(QueryEngine& engine, const WorkerRequest& request, const std::vector<std::string>& statements,
            Output& out) {
  for (const auto& sql : statements) {
    if (Status s = CheckScanLimit(engine, request.max_scan_bytes, request.workgroup); !s.ok()) return SendError(out, s);
    auto result = engine.Run(sql);
    if (!result.ok()) return SendError(out, result.status());
    const size_t cols = result->column_count(), rows = result->row_count();
    json columns = json::array();
    std::vector<duckdb_type> types(cols);
    for (size_t c = 0; c < cols; ++c) {
      types[c] = result->column_type(c);
      columns.push_back({result->column_name(c), result->column_type_name(c)});
    }
    out.Event({{"event", "columns"}, {"columns", std::move(columns)}});
    std::string line;
    for (size_t row = 0; row < rows; ++row) {
      line.clear();
      AppendRowJson(*result, row, types, &line);
      out.Line(line);
    }
    out.Event({{"event", "end"}, {"rows", rows}, {"skipped_files", engine.last_skipped_files()}});
    out.Flush();
  }
}

// Writes all of `data` to a pipe.
Status WriteAll(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("cannot send the request to the query worker: {}", std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

int64_t WorkerMemoryHeadroom(int64_t memory_limit_bytes) { return (128LL << 20) + memory_limit_bytes / 4; }

std::string EncodeWorkerRequest(const WorkerRequest& r) {
  json files = json::array();
  // cluster and dt: workload_hourly routes the files by day (query/workload_hourly.h); the
  // ranges: a long-lived worker skips files by them for each statement (prune.h).
  const auto micros = [](const std::optional<Timestamp>& t) { return t ? json(t->micros()) : json(nullptr); };
  for (const auto& f : r.snapshot.files)
    files.push_back({f.table, f.path, f.rows, f.bytes, f.columns, f.cluster, f.dt, micros(f.min_cursor),
                     micros(f.max_cursor), IdRangesToText(f.id_ranges)});
  json schemas = json::object();
  for (const auto& [table, schema] : r.snapshot.schemas) schemas[table] = SchemaToText(schema);
  json out = {{"lake_root", r.engine.lake_root}, {"memory_limit_bytes", r.engine.memory_limit_bytes},
              {"threads", r.engine.threads}, {"statements", r.statements}, {"max_scan_bytes", r.max_scan_bytes},
              {"workgroup", r.workgroup}, {"files", std::move(files)}, {"schemas", std::move(schemas)}};
  if (r.engine.views_for_sql) out["views_for_sql"] = *r.engine.views_for_sql;
  if (!r.engine.cursor_columns.empty()) out["cursor_columns"] = r.engine.cursor_columns;
  if (r.engine.kept_table_bytes) out["kept_table_bytes"] = *r.engine.kept_table_bytes;
  if (!r.keep.empty()) out["keep"] = r.keep;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<WorkerRequest> DecodeWorkerRequest(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("the worker request is not JSON");
  try {
    WorkerRequest r;
    r.engine.lake_root = j.at("lake_root").get<std::string>();
    r.engine.memory_limit_bytes = j.at("memory_limit_bytes").get<int64_t>();
    r.engine.threads = j.at("threads").get<int>();
    if (j.contains("views_for_sql")) r.engine.views_for_sql = j.at("views_for_sql").get<std::string>();
    if (j.contains("cursor_columns"))
      r.engine.cursor_columns = j.at("cursor_columns").get<std::map<std::string, std::string>>();
    if (j.contains("kept_table_bytes")) r.engine.kept_table_bytes = j.at("kept_table_bytes").get<int64_t>();
    r.statements = j.at("statements").get<std::vector<std::string>>();
    if (j.contains("keep")) r.keep = j.at("keep").get<std::vector<std::string>>();
    r.max_scan_bytes = j.at("max_scan_bytes").get<int64_t>();
    r.workgroup = j.at("workgroup").get<std::string>();
    for (const auto& f : j.at("files")) {
      CommittedFile file;
      file.table = f.at(0).get<std::string>();
      file.path = f.at(1).get<std::string>();
      file.rows = f.at(2).get<int64_t>();
      file.bytes = f.at(3).get<int64_t>();
      file.columns = f.at(4).get<std::string>();
      file.cluster = f.at(5).get<std::string>();
      file.dt = f.at(6).get<std::string>();
      if (f.at(7).is_number_integer()) file.min_cursor = Timestamp::FromMicros(f.at(7).get<int64_t>());
      if (f.at(8).is_number_integer()) file.max_cursor = Timestamp::FromMicros(f.at(8).get<int64_t>());
      file.id_ranges = IdRangesFromText(f.at(9).get<std::string>());
      r.snapshot.files.push_back(std::move(file));
    }
    for (const auto& [table, schema] : j.at("schemas").items()) {
      ASSIGN_OR_RETURN(r.snapshot.schemas[table], SchemaFromText(schema.get<std::string>()));
    }
    return r;
  } catch (const std::exception& e) {
    return InvalidArgument("bad worker request: {}", e.what());
  }
}

Status CheckScanLimit(const QueryEngine& engine, int64_t max_scan_bytes, const std::string& workgroup) {
  if (max_scan_bytes <= 0 || engine.readable_bytes() <= max_scan_bytes) return Status::Ok();
  std::string which;
  for (const auto& t : engine.viewed_tables()) which += (which.empty() ? "" : ", ") + t;
  return Error(StatusCode::kResourceExhausted,
               "the statement can read {} bytes (every committed file of {}), over the limit of {} bytes of workgroup "
               "\"{}\" (max_scan_bytes); the engine can open no other file, so this bounds what it reads: query "
               "fewer tables or raise the limit", engine.readable_bytes(), which, max_scan_bytes, workgroup);
}

std::string EncodeWorkerJob(const std::vector<std::string>& statements) {
  return json{{"statements", statements}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

int RunQueryWorker(int in_fd, int out_fd) {
  Output out(out_fd);
  LineInput in(in_fd);
  auto first = in.Next();
  if (!first.ok()) return Fail(out, first.status());
  if (!first->has_value()) return Fail(out, InvalidArgument("the worker request is empty"));
  auto request = DecodeWorkerRequest(**first);
  if (!request.ok()) return Fail(out, request.status());
  first = std::optional<std::string>();
  // Before any user SQL, and before DuckDB starts its threads: from here on the process
  // can read the views' files and nothing else, and write only to the pipes it holds.
  Confinement confined;
  int64_t limit = 0;
  request->engine.confine = [&](const std::vector<std::string>& files) -> Status {
    // The limits first: they read /proc, which Landlock then closes.
    const int64_t memory = request->engine.memory_limit_bytes;
    // What the engine keeps in memory comes on top: DuckDB's allocator keeps address space
    // it has used, and the copies' rows took that much from statements' room under the cap.
    ASSIGN_OR_RETURN(limit, LimitProcess(memory + WorkerMemoryHeadroom(memory) + KeptMemoryAllowance(request->engine),
                                         /*may_write_files=*/false));
    ASSIGN_OR_RETURN(confined, ConfineToFiles(files));
    return Status::Ok();
  };
  auto engine = QueryEngine::Open(request->engine, request->snapshot);
  if (!engine.ok()) return Fail(out, engine.status().WithContext("cannot open the query engine"));
  request->snapshot = {};
  (*engine)->Keep(request->keep);
  out.Event({{"event", "confined"}, {"landlock_abi", confined.landlock_abi}, {"landlocked", confined.landlocked},
             {"network_blocked", confined.network_blocked}, {"note", confined.note}, {"data_limit", limit}});
  out.Flush();  // the server starts the statement's clock when it reads this

  std::vector<std::string> statements = std::move(request->statements);
  for (;;) {
    RunJob(**engine, *request, statements, out);
    json ready = {{"event", "ready"}, {"copies", (*engine)->started_copies()}};
    if (auto failures = (*engine)->TakeKeepFailures(); !failures.empty()) ready["keep_failures"] = failures;
    out.Event(ready);
    out.Flush();
    auto line = in.Next();
    if (!line.ok()) return Fail(out, line.status());
    if (!line->has_value()) return 0;  // the parent closed our input: nothing more to run
    const json job = json::parse(**line, nullptr, false);
    if (job.is_discarded() || !job.is_object() || !job.contains("statements") || !job["statements"].is_array())
      return Fail(out, InvalidArgument("the worker job is not {{\"statements\": [...]}}"));
    statements.clear();
    for (const auto& sql : job["statements"])
      if (sql.is_string()) statements.push_back(sql.get<std::string>());
  }
}

Result<std::unique_ptr<QueryProcess>> QueryProcess::Start(const std::string& binary, const std::string& request,
                                                          bool keep_input_open) {
  const std::string path = binary.empty() ? "/proc/self/exe" : binary;
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return IoError("pipe: {}", std::strerror(errno));
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    return IoError("pipe: {}", std::strerror(errno));
  }
  // Everything the child needs is made before fork(): after it, only async-signal-safe calls.
  const char* argv[] = {path.c_str(), "query-worker", nullptr};
  const char* envp[] = {"LC_ALL=C", nullptr};  // nothing of ours (no secrets in variables)
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
    return IoError("cannot start the query worker: fork: {}", std::strerror(errno));
  }
  if (pid == 0) {
    // Dies with the thread that started it, so a crashed server leaves no worker behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(in[0], 0) < 0 || ::dup2(out[1], 1) < 0) _exit(127);
    // No descriptor of the server (sockets, the state store, results) reaches the worker.
    ::close_range(3, ~0U, 0);
    ::execve(path.c_str(), const_cast<char* const*>(argv), const_cast<char* const*>(envp));
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  std::unique_ptr<QueryProcess> p(new QueryProcess());
  p->pid_ = pid;
  p->out_fd_ = out[0];
  // The worker reads the whole request before it writes, so this cannot deadlock.
  ::signal(SIGPIPE, SIG_IGN);  // a worker that died early is an error here, not our end
  Status sent = WriteAll(in[1], request + "\n");
  if (keep_input_open && sent.ok()) p->in_fd_ = in[1];
  else ::close(in[1]);
  if (!sent.ok()) return sent.WithContext("the worker " + p->Reap());
  return p;
}

Status QueryProcess::Send(const std::string& job) {
  if (in_fd_ < 0) return Status(StatusCode::kInternal, "this query worker takes no further jobs");
  return WriteAll(in_fd_, job + "\n");
}

QueryProcess::~QueryProcess() {
  if (in_fd_ >= 0) ::close(in_fd_);  // a long-lived worker ends at the end of its input
  Reap();
  if (out_fd_ >= 0) ::close(out_fd_);
}

Result<std::optional<WorkerEvent>> QueryProcess::Next(size_t max_line) {
  size_t newline;
  while ((newline = buffer_.find('\n')) == std::string::npos) {
    if (eof_) return std::optional<WorkerEvent>();
    if (buffer_.size() > max_line)
      return Error(StatusCode::kResourceExhausted, "a result row is longer than {} bytes", max_line);
    char buf[1 << 16];
    const ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;
      continue;
    }
    buffer_.append(buf, static_cast<size_t>(n));
  }
  WorkerEvent e;
  e.line = buffer_.substr(0, newline);
  buffer_.erase(0, newline + 1);
  if (!e.line.empty() && e.line.front() == '[') return std::optional<WorkerEvent>(std::move(e));
  const json j = json::parse(e.line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("event"))
    return Error(StatusCode::kInternal, "the query worker sent something that is not an event");
  const std::string kind = j.value("event", "");
  if (kind == "confined") {
    e.kind = WorkerEvent::Kind::kConfined;
  } else if (kind == "columns") {
    e.kind = WorkerEvent::Kind::kColumns;
    for (const auto& c : j.value("columns", json::array()))
      if (c.is_array() && c.size() == 2 && c[0].is_string() && c[1].is_string())
        e.columns.emplace_back(c[0].get<std::string>(), c[1].get<std::string>());
  } else if (kind == "end") {
    e.kind = WorkerEvent::Kind::kEnd;
    e.rows = j.value("rows", int64_t{0});
    e.skipped_files = j.value("skipped_files", int64_t{0});
  } else if (kind == "ready") {
    e.kind = WorkerEvent::Kind::kReady;
    for (const auto& f : j.value("keep_failures", json::array()))
      if (f.is_string()) e.keep_failures.push_back(f.get<std::string>());
    for (const auto& c : j.value("copies", json::array()))
      if (c.is_string()) e.copies.push_back(c.get<std::string>());
  } else if (kind == "error") {
    e.kind = WorkerEvent::Kind::kError;
    e.error = Status(CodeNamed(j.value("code", "")), j.value("message", "the query worker failed"));
  } else {
    return Error(StatusCode::kInternal, "the query worker sent an unknown event \"{}\"", kind);
  }
  return std::optional<WorkerEvent>(std::move(e));
}

void QueryProcess::Kill() {
  std::lock_guard lock(mu_);
  if (pid_ > 0) ::kill(pid_, SIGKILL);
}

std::string QueryProcess::Reap() {
  pid_t pid;
  int status = 0;
  rusage usage{};
  bool reaped = false;
  {
    std::lock_guard lock(mu_);
    pid = pid_;
    if (pid <= 0) return "was reaped";
    // Still running (say, a batch that stopped early): it has nothing more to give.
    reaped = ::wait4(pid, &status, WNOHANG, &usage) == pid;
    if (reaped) pid_ = -1;
    else ::kill(pid, SIGKILL);
  }
  // Kill() may still send SIGKILL until pid_ is cleared: the pid cannot be reused before
  // this wait4() returns, so that signal reaches our worker (or its zombie) only.
  if (!reaped) {
    while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    std::lock_guard lock(mu_);
    pid_ = -1;
  }
  peak_rss_bytes_ = static_cast<int64_t>(usage.ru_maxrss) * 1024;
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

}  // namespace fleetlog
