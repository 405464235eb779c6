// Helpers shared by fleetlog's tests: temporary folders, files, running a program (the
// fleetlog binary above all) with its stdout, stderr and exit status captured, and writing
// rows into a lake through the real stage -> commit -> publish path.
// Thread-safety: TempDir is a value owned by one test; the functions are safe from any thread
// but RunProcess forks, so call it when no other thread holds locks the child needs.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "lake/layout.h"
#include "core/row_batch.h"
#include "state/state_store.h"

namespace fleetlog::test {

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + relative.
  std::string Sub(const std::string& relative) const { return path_ + "/" + relative; }

 private:
  std::string path_;
};

// Writes `content` to `path`, creating its folders. Aborts the test on failure (ASSERT-style
// callers should check the returned bool).
bool WriteFile(const std::string& path, const std::string& content);
// The whole file, or nullopt when it cannot be read.
std::optional<std::string> ReadWholeFile(const std::string& path);
// Regular files under `dir` (recursively), as paths relative to `dir`, sorted.
std::vector<std::string> ListFilesUnder(const std::string& dir);

struct ProcessResult {
  int exit_code = -1;  // when the process exited normally, else -1
  int signal = 0;      // the signal that killed it, else 0
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
};

struct ProcessOptions {
  std::string stdin_data;                      // written to the child's stdin, then closed
  std::map<std::string, std::string> env;      // set (added or replaced) in the child
  std::vector<std::string> unset_env;          // removed from the child's environment
  std::string working_dir;                     // empty: the current folder
};

// Runs argv[0] (searched in PATH when it has no '/') with `argv`, waits for it and returns
// what it printed. exit_code 127 when the program cannot be started.
ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// The fleetlog CLI under test and the source tree (compile definitions of the test binary).
std::string FleetlogBinary();
std::string SourceDir();
// Runs the fleetlog binary with `args`. FLEETLOG_CONFIG, FLEETLOG_MASTER_KEY and
// FLEETLOG_CRASH_AT are removed from its environment unless `options.env` sets them.
ProcessResult RunFleetlog(const std::vector<std::string>& args, ProcessOptions options = {});

// True when `program` is found in PATH (or is an executable path).
bool HaveProgram(const std::string& program);

// A minimal valid config whose lake and state store live under `dir`; returns its path.
// `extra` is appended verbatim (more sections, clusters).
std::string WriteMinimalConfig(const std::string& dir, const std::string& extra = "");

// Writes `batch` as one window of (table, cluster) into the lake at `lake` and commits it
// in `state` through WindowBuffer::Stage and CommitAndPublish, deduplicating against the
// table's committed files by `keys` (empty: every column). Records the table's schema so
// the query engine has it. Returns what was staged.
struct LakeWrite {
  std::string table;
  std::string cluster;
  std::string cursor_column;   // decides dt; empty: batch.partition_ts() decides
  std::vector<std::string> keys;
  std::optional<Timestamp> cursor;  // moved in the same commit when set
};
struct LakeWriteResult {
  int64_t commit_id = 0;
  int64_t rows_written = 0;
  int64_t rows_duplicate = 0;
  std::vector<NewFile> files;
};
Result<LakeWriteResult> WriteToLake(StateStore& state, const LakeLayout& lake, const LakeWrite& what,
                                    const RowBatch& batch);

// The rows of `select`, a statement with one text column in which "{files}" stands for
// read_parquet(...) over the published files `filter` selects (its states are set here), read
// by DuckDB straight from the lake folder `root`, without fleetlog's engine: what a reader
// of the lake sees. Empty when there are no such files.
Result<std::vector<std::string>> PublishedFileRows(StateStore& state, const std::string& root, std::string select,
                                                   FileFilter filter = {});

// A clock that always says `now`.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(Timestamp now) : now_(now) {}
  Timestamp Now() const override { return now_; }

 private:
  Timestamp now_;
};

}  // namespace fleetlog::test
