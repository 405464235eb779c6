#include "exporter/writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "lake/commit.h"
#include "lake/replace.h"
#include "source/source_factory.h"

namespace fleetlog {

// DuckDB's buffer for export windows; larger windows spill to <lake>/_fleetlog/tmp. The
// process needs more than this: the Parquet writers' buffers and DuckDB's allocator cache
// come on top, so the limit leaves room for them under the 512 MB the export promises.
constexpr int64_t kWriterMemoryBytes = 192LL << 20;

// DuckDB threads for staging: more threads than cores only adds Parquet writers' buffers.
int WriterThreads(const Config& config) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::clamp(config.export_.parallelism, 1, cores);
}

Result<std::unique_ptr<LakeSession>> LakeSession::Open(const Config& config, Env* env) {
  LakeLayout lake(config.lake_path, env);
  ASSIGN_OR_RETURN(WriterLock lock, WriterLock::Acquire(lake));
  std::unique_ptr<LakeSession> s(new LakeSession(config, lake, std::move(lock)));
  ASSIGN_OR_RETURN(s->state_, OpenSqliteStateStore(config.state_path, OpenMode::kReadWrite));
  ASSIGN_OR_RETURN(RecoveryReport recovered, Recover(*s->state_, lake));
  ASSIGN_OR_RETURN(int upkeep_cleaned, upkeep::RecoverUpkeep(*s->state_, lake));
  if (upkeep_cleaned > 0) spdlog::info("recovery: removed {} files of an interrupted compaction or purge", upkeep_cleaned);
  if (recovered.published > 0 || recovered.staging_deleted > 0)
    spdlog::info("recovery: published {} committed files, deleted {} uncommitted staging files", recovered.published,
                 recovered.staging_deleted);
  ASSIGN_OR_RETURN(s->writer_, LakeWriter::Open(lake, kWriterMemoryBytes, WriterThreads(config)));
  auto key = MasterKey::Load(config.key_file);
  if (key.ok()) s->secrets_ = std::make_unique<SecretStore>(*s->state_, std::move(key).value());
  else if (key.status().code() != StatusCode::kNotFound) return key.status();
  return s;
}

ExportContext LakeSession::export_context() {
  return {.config = &config_, .state = state_.get(), .writer = writer_.get(), .clock = &clock()};
}

SourceFactory LakeSession::source_factory() {
  return [this](const ClusterConfig& cluster) { return MakeSource(config_, cluster, secrets_.get()); };
}

}  // namespace fleetlog
