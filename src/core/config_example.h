// The commented fleetlog.toml that `fleetlog init` writes (and the package installs in
// /etc/fleetlog): every section, with the defaults of optional keys commented.
// Thread-safety: a pure function.
#pragma once

#include <string>

namespace fleetlog {

// `lake_path` and `state_dir` (the folder of the state store and the master key) are written
// as given; relative paths are relative to the config file.
std::string ExampleConfig(const std::string& lake_path, const std::string& state_dir);

}  // namespace fleetlog
