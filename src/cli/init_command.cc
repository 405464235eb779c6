#include <iostream>

#include "cli/command.h"
#include "core/fs.h"
#include "secrets/secret_store.h"

namespace fleetlog::cli {

CommandAction AddInit(CLI::App& app, const GlobalOptions& global) {
  auto lake = std::make_shared<std::string>("./lake");
  app.add_option("--lake", *lake, "Lake folder to write into the config (default ./lake)");
  return [&global, lake] {
    Env& env = *Env::Default();
    auto exists = env.FileExists(global.config_path);
    if (!exists.ok()) return Fail(exists.status());
    if (*exists) return Fail(InvalidArgument("{} already exists; remove it or pass --config NEW_PATH", global.config_path));
    if (Status s = env.WriteFile(global.config_path, ExampleConfig(*lake)); !s.ok()) return Fail(s);
    auto config = LoadConfig(global.config_path);
    if (!config.ok()) return Fail(config.status());
    auto key_exists = env.FileExists(config->key_file);
    if (!key_exists.ok()) return Fail(key_exists.status());
    if (!*key_exists) {
      if (Status s = MasterKey::Create(config->key_file); !s.ok()) return Fail(s);
      std::cout << "wrote master key " << config->key_file << " (mode 0600; back it up: secrets need it)\n";
    }
    std::cout << "wrote " << global.config_path << "\n"
              << "next: edit it to add your clusters, then `fleetlog export` (one cycle) or `fleetlog run`\n";
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
