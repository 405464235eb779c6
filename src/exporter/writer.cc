#include "exporter/writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "lake/commit.h"
#include "lake/journal.h"
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

Result<std::unique_ptr<SecretStore>> OpenSecrets(const Config& config, StateStore& state) {
  auto key = MasterKey::Load(config.key_file);
  if (key.ok()) return std::make_unique<SecretStore>(state, std::move(key).value());
  if (key.status().code() != StatusCode::kNotFound) return key.status();
  return std::unique_ptr<SecretStore>();
}

// Opens the bucket of an S3 lake, takes its lease, and opens the local state store wrapped in
// the lake's journal: rebuilt from the journal first when it is missing (a new machine).
Status OpenS3Session(const Config& config, Env* local, std::unique_ptr<S3Lake>* s3, std::optional<WriterLock>* lock,
                     std::unique_ptr<StateStore>* state) {
  ASSIGN_OR_RETURN(const bool had_state, local->FileExists(config.state_path));
  std::unique_ptr<StateStore> sqlite;
  std::unique_ptr<SecretStore> secrets;  // the credentials may be stored secrets
  if (had_state) {
    ASSIGN_OR_RETURN(sqlite, OpenSqliteStateStore(config.state_path, OpenMode::kReadWrite, local));
    ASSIGN_OR_RETURN(secrets, OpenSecrets(config, *sqlite));
  }
  ASSIGN_OR_RETURN(*s3, S3Lake::Open(config, secrets.get(), local));
  secrets.reset();
  const LakeLayout lake((*s3)->lake_root(), &(*s3)->env());
  ASSIGN_OR_RETURN(WriterLock taken, WriterLock::Acquire(lake));
  lock->emplace(std::move(taken));
  RETURN_IF_ERROR((*s3)->env().DropScratch());
  if (!had_state) {
    Result<JournalReport> restored = RestoreStateFile(&(*s3)->env(), lake.root(), local, config.state_path);
    if (!restored.ok()) return restored.status().WithContext("restoring the local state from the lake's journal");
    spdlog::info("no local state: restored {} from {} ({} journal records, {} files)", config.state_path, lake.root(),
                 restored->records, restored->files);
    ASSIGN_OR_RETURN(sqlite, OpenSqliteStateStore(config.state_path, OpenMode::kReadWrite, local));
  }
  JournalReport caught_up;
  ASSIGN_OR_RETURN(auto journaled, JournaledStateStore::Open(std::move(sqlite), &(*s3)->env(), lake.root(), &caught_up));
  if (caught_up.applied > 0) spdlog::info("journal: applied {} commits the local state lacked", caught_up.applied);
  *state = std::move(journaled);
  return Status::Ok();
}

Result<std::unique_ptr<LakeSession>> LakeSession::Open(const Config& config, Env* env) {
  std::unique_ptr<S3Lake> s3;
  std::optional<WriterLock> s3_lock;
  std::unique_ptr<StateStore> s3_state;
  if (config.lake_is_s3()) RETURN_IF_ERROR(OpenS3Session(config, env, &s3, &s3_lock, &s3_state));
  LakeLayout lake(s3 ? s3->lake_root() : config.lake_path, s3 ? &s3->env() : env);
  std::optional<WriterLock> local_lock;
  if (!s3_lock) {
    ASSIGN_OR_RETURN(WriterLock taken, WriterLock::Acquire(lake));
    local_lock.emplace(std::move(taken));
  }
  std::unique_ptr<LakeSession> s(new LakeSession(config, lake, s3_lock ? std::move(*s3_lock) : std::move(*local_lock)));
  s->s3_ = std::move(s3);
  if (s3_state) {
    s->state_ = std::move(s3_state);
  } else {
    ASSIGN_OR_RETURN(s->state_, OpenSqliteStateStore(config.state_path, OpenMode::kReadWrite));
  }
  ASSIGN_OR_RETURN(RecoveryReport recovered, Recover(*s->state_, lake));
  ASSIGN_OR_RETURN(int upkeep_cleaned, upkeep::RecoverUpkeep(*s->state_, lake));
  if (upkeep_cleaned > 0) spdlog::info("recovery: removed {} files of an interrupted compaction or purge", upkeep_cleaned);
  if (recovered.published > 0 || recovered.staging_deleted > 0)
    spdlog::info("recovery: published {} committed files, deleted {} uncommitted staging files", recovered.published,
                 recovered.staging_deleted);
  ASSIGN_OR_RETURN(s->writer_, LakeWriter::Open(lake, kWriterMemoryBytes, WriterThreads(config)));
  ASSIGN_OR_RETURN(s->secrets_, OpenSecrets(config, *s->state_));
  return s;
}

ExportContext LakeSession::export_context() {
  return {.config = &config_, .state = state_.get(), .writer = writer_.get(), .clock = &clock()};
}

SourceFactory LakeSession::source_factory() {
  return [this](const ClusterConfig& cluster) { return MakeSource(config_, cluster, secrets_.get()); };
}

}  // namespace fleetlog
