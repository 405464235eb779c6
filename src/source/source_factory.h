// Makes the Source a [[cluster]] describes: libpq for redshift and postgres, the simulator
// for sim. Passwords come from the secret store or an environment variable, never from the
// config text, and are handed to libpq alone.
// Thread-safety: safe to call concurrently (the secret store is).
#pragma once

#include <memory>

#include "core/config.h"
#include "secrets/secret_store.h"
#include "source/source.h"

namespace fleetlog {

// `secrets` may be null when no cluster names a password_secret.
Result<std::unique_ptr<Source>> MakeSource(const Config& config, const ClusterConfig& cluster, SecretStore* secrets);

}  // namespace fleetlog
