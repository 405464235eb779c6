// The secret store: cluster passwords encrypted at rest with XChaCha20-Poly1305 (libsodium),
// a random 192-bit nonce per value and the secret's name as additional data, so a value
// cannot be moved to another name. Values live in the state store; the 256-bit master key
// lives in a 0600 file created by `fleetlog init`, or in $FLEETLOG_MASTER_KEY (64 hex).
// Values never appear in logs, errors or argv (`secrets set` reads stdin).
// Thread-safety: safe for concurrent use (the state store is).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "state/state_store.h"

namespace fleetlog {

class MasterKey {
 public:
  // $FLEETLOG_MASTER_KEY when set, else the key file.
  static Result<MasterKey> Load(const std::string& key_file);
  // Creates a new key file with mode 0600; fails if it exists.
  static Status Create(const std::string& key_file);
 private:
  std::string key_;  // 32 bytes
  friend class SecretStore;
  const unsigned char* data() const { return reinterpret_cast<const unsigned char*>(key_.data()); }
};

class SecretStore {
 public:
  SecretStore(StateStore& state, MasterKey key) : state_(state), key_(std::move(key)) {}

  Status Set(const std::string& name, const std::string& value);
  // kNotFound when absent; kCorruption when the value does not decrypt (wrong master key).
  Result<std::string> Get(const std::string& name);
  Result<std::vector<std::string>> List();
  Status Delete(const std::string& name);

 private:
  StateStore& state_;
  MasterKey key_;
};

}  // namespace fleetlog
