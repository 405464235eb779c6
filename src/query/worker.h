// The query worker: user SQL runs in a child process of its own, one per statement or
// batch, never in the process that holds the state store, the results and the HTTP server.
//
// The parent (QueryProcess) starts `<fleetlog binary> query-worker`, writes one request
// (the engine options, the snapshot of committed files, the statements) to its stdin as one
// line, and reads events from its stdout, one per line:
//   {"event":"confined",...}            what confinement the kernel applied (once)
//   {"event":"columns","columns":[..]}  a statement's result starts
//   [v1,v2,...]                          one row, as AppendRowJson() writes it
//   {"event":"end","rows":N,"skipped_files":K}  the statement finished; K files not read (prune.h)
//   {"event":"error","code":C,"message":M}  the statement failed; the rest of the job is not run
//   {"event":"ready","copies":[..],"keep_failures":[..]}  the job (the request's statements)
//                                        is over; the copies kept in memory started so far
//                                        (QueryEngine::started_copies), and why copies failed
//                                        since the last (if any)
// A worker whose stdin stays open is long-lived: after `ready` it reads the next job, one
// line {"statements":[...]} (EncodeWorkerJob), runs it on the same engine, and so on until
// its stdin closes. Its engine, and so its snapshot and the files it may read, never change.
// A request may name copies to start at once (`keep`) and no statements: a worker made
// ready over a new snapshot before a statement needs it (server/worker_pool.h, warm-ups).
// The worker opens its engine (DuckDB's sandbox: exactly the views' files), then confines
// itself (Landlock: read those files only, write nothing, no TCP; RLIMIT_DATA: the
// workgroup's memory plus a stated headroom; no files written, no core dumps) before it
// runs any user SQL. It writes nothing but its stdout: the parent writes the results.
// The parent bounds time by SIGKILL, which also serves cancel and shutdown.
// Thread-safety: QueryProcess::Kill() from any thread; everything else from one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "query/engine.h"

namespace fleetlog {

struct WorkerRequest {
  EngineOptions engine;
  LakeSnapshot snapshot;
  std::vector<std::string> statements;
  std::vector<std::string> keep;  // copies to start as the engine opens (QueryEngine::Keep)
  int64_t max_scan_bytes = 0;  // 0: no limit
  std::string workgroup;       // for messages
};

// Memory the worker may use beyond the engine's memory_limit: DuckDB's own structures,
// strings built outside its buffer pool, the result being read. docs/security.md states it.
int64_t WorkerMemoryHeadroom(int64_t memory_limit_bytes);

std::string EncodeWorkerRequest(const WorkerRequest& request);
Result<WorkerRequest> DecodeWorkerRequest(std::string_view text);
// The line that gives a long-lived worker its next statements (run in order, as a batch).
std::string EncodeWorkerJob(const std::vector<std::string>& statements);

// The worker's main: reads the request from `in_fd` to its end, writes events to `out_fd`.
// Returns the process exit code (0 when every statement finished).
int RunQueryWorker(int in_fd, int out_fd);

// Fails with kResourceExhausted when the engine can read more than `max_scan_bytes`.
Status CheckScanLimit(const QueryEngine& engine, int64_t max_scan_bytes, const std::string& workgroup);

struct WorkerEvent {
  enum class Kind { kConfined, kColumns, kRow, kEnd, kError, kReady };
  Kind kind = Kind::kRow;
  std::string line;  // the row (kRow) or the raw event
  std::vector<std::pair<std::string, std::string>> columns;  // kColumns: name, type
  int64_t rows = 0;                                          // kEnd
  int64_t skipped_files = 0;                                 // kEnd: files its filters let it skip
  Status error;                                              // kError
  std::vector<std::string> keep_failures;                    // kReady: Keeper::TakeFailures
  std::vector<std::string> copies;                           // kReady: QueryEngine::started_copies
};

class QueryProcess {
 public:
  // Starts `binary query-worker` and sends it `request`. `binary` empty: /proc/self/exe.
  // With `keep_input_open` the worker is long-lived: Send() gives it further jobs.
  static Result<std::unique_ptr<QueryProcess>> Start(const std::string& binary, const std::string& request,
                                                     bool keep_input_open = false);
  ~QueryProcess();
  QueryProcess(const QueryProcess&) = delete;
  QueryProcess& operator=(const QueryProcess&) = delete;

  // The next event; nullopt when the worker closed its output (it ended or was killed).
  // A line longer than `max_line` bytes is kResourceExhausted.
  Result<std::optional<WorkerEvent>> Next(size_t max_line);
  // Sends a long-lived worker its next job (EncodeWorkerJob); call after its `ready`.
  Status Send(const std::string& job);
  // SIGKILL, unless the worker was already reaped. Any thread; idempotent.
  void Kill();
  // Kills it if still running, reaps it, and describes how it ended ("exit 0", "killed by
  // signal 9", ...).
  std::string Reap();
  // The largest resident set the worker reached, in bytes (after Reap()).
  int64_t peak_rss_bytes() const { return peak_rss_bytes_; }

 private:
  QueryProcess() = default;
  std::mutex mu_;
  pid_t pid_ = -1;  // GUARDED_BY(mu_); -1 once reaped
  int in_fd_ = -1;  // a long-lived worker's stdin; -1 when closed
  int out_fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
  int64_t peak_rss_bytes_ = 0;
};

}  // namespace fleetlog
