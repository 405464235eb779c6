// Everything a process that writes to the lake holds: the writer lock, the state store, the
// lake writer and the secret store, opened in the order that makes writing safe (lock, then
// recovery of whatever a killed predecessor left). Used by export, run, demo and upkeep.
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

namespace fleetlog {

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
  ExportContext export_context();
  SourceFactory source_factory();

 private:
  LakeSession(const Config& config, LakeLayout lake, WriterLock lock)
      : config_(config), lake_(std::move(lake)), lock_(std::move(lock)) {}
  Config config_;
  LakeLayout lake_;
  WriterLock lock_;
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<LakeWriter> writer_;
  std::unique_ptr<SecretStore> secrets_;  // null without a master key
};

}  // namespace fleetlog
