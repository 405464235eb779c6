// Where DuckDB, which reads only local files, reads a lake's committed files: the lake's own
// folders for a local lake; local copies for a lake in an object store (storage/file_cache.h),
// fetched for the files at hand. The dedup of the writer, upkeep and the query engine resolve
// committed files through here, so that the one difference between the two lakes is the
// resolver registered for an object store's lake root.
// Thread-safety: the registry and ResolveLakeFiles are safe for concurrent use; a resolver
// must be too.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/layout.h"
#include "state/state_store.h"

namespace fleetlog {

// Committed files made readable by DuckDB: root + "/" + relative[i] is the local file of the
// i-th file asked for, and stays so while `hold` lives (a cache pins its copies).
struct LocalFiles {
  std::string root;
  std::vector<std::string> relative;
  std::shared_ptr<void> hold;

  std::string path(size_t i) const { return root + "/" + relative[i]; }
};

class LakeFileResolver {
 public:
  virtual ~LakeFileResolver() = default;
  // Local copies of `files` (lake-relative paths with their sizes and checksums), in order.
  // A copy keeps its file's partition folders (table/cluster=/dt=/), which DuckDB's hive
  // partitioning reads `cluster` and `dt` from.
  virtual Result<LocalFiles> Resolve(const std::vector<const CommittedFile*>& files) = 0;
  // The local folder that holds every copy.
  virtual std::string root() const = 0;
};

// Registers `resolver` (not owned; null removes it) for the lake at `lake_root`, for every
// engine and writer of this process that reaches that lake.
void SetLakeFileResolver(const std::string& lake_root, LakeFileResolver* resolver);
// True when a resolver is registered for `lake_root` (an object store's lake).
bool HasLakeFileResolver(const std::string& lake_root);

// The local files of `files` in the lake at `lake_root` reached through `env`: the resolver
// registered for it, else the lake's own files (env.LocalPath). kInternal when neither gives a
// local file.
Result<LocalFiles> ResolveLakeFiles(const std::string& lake_root, Env& env,
                                    const std::vector<const CommittedFile*>& files);
Result<LocalFiles> ResolveLakeFiles(const LakeLayout& lake, const std::vector<CommittedFile>& files);

// The local folders, each ending in '/', that a DuckDB working on the lake may touch: the lake
// itself when it is local; else its local staging and spill folders (Env::LocalPath) and the
// registered resolver's copies.
std::vector<std::string> LocalLakeDirs(const LakeLayout& lake);

}  // namespace fleetlog
