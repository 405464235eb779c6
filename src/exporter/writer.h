// Everything a process that writes to the lake holds: the writer lock, the state store, the
// lake writer and the secret store, opened in the order that makes writing safe (lock, then
// recovery of whatever a killed predecessor left). Used by export, run, demo and upkeep.
// A lake in S3 ([lake] path = "s3://bucket/prefix") adds, in this order: the bucket (storage/
// s3_lake.h, its file cache registered for the lake's readers), the writer lease in the
// bucket, the local state store rebuilt from the lake's journal when it is missing, and the
// state store wrapped in the journal (lake/journal.h), so that every commit is in the bucket.
// Thread-safety: the members are safe for concurrent use as their own headers say.
#pragma once

#include <memory>
#include <optional>

#include "core/config.h"
#include "exporter/cycle.h"
#include "lake/layout.h"
#include "lake/lake_writer.h"
#include "secrets/secret_store.h"
#include "state/state_store.h"
#include "storage/s3_lake.h"

namespace fleetlog {

// The secret store over `state` with the master key of [secrets]; null without a master key.
Result<std::unique_ptr<SecretStore>> OpenSecrets(const Config& config, StateStore& state);

class LakeSession {
 public:
  // Fails with kUnavailable when another process writes to the lake. Files and the clock are
  // reached through `env` (which must outlive the session).
  static Result<std::unique_ptr<LakeSession>> Open(const Config& config, Env* env = Env::Default());

  const Config& config() const { return config_; }
  StateStore& state() { return *state_; }
  LakeWriter& writer() { return *writer_; }
  const LakeLayout& lake() const { return lake_; }
  const Clock& clock() const { return lake_.env().clock(); }
  SecretStore* secrets() { return secrets_.get(); }  // null without a master key
  S3Lake* s3() { return s3_.get(); }                 // null for a local lake
  ExportContext export_context();
  SourceFactory source_factory();

 private:
  LakeSession(const Config& config, LakeLayout lake, WriterLock lock)
      : config_(config), lake_(std::move(lake)), lock_(std::move(lock)) {}
  std::unique_ptr<S3Lake> s3_;  // first: destroyed after everything that reaches the bucket
  Config config_;
  LakeLayout lake_;
  WriterLock lock_;
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<LakeWriter> writer_;
  std::unique_ptr<SecretStore> secrets_;  // null without a master key
};

}  // namespace fleetlog
