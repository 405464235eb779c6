#include <iostream>

#include "cli/command.h"
#include "core/config_example.h"
#include "core/fs.h"
#include "secrets/secret_store.h"

namespace fleetlog::cli {

CommandAction AddInit(CLI::App& app, const GlobalOptions& global) {
  struct Options {
    std::string lake = "./lake";
    std::string state_dir = ".";
    bool to_stdout = false;
  };
  auto opts = std::make_shared<Options>();
  app.add_option("--lake", opts->lake, "Lake folder to write into the config (default ./lake)");
  app.add_option("--state-dir", opts->state_dir,
                 "Folder of the state store and the master key to write into the config (default: beside it)");
  app.add_flag("--stdout", opts->to_stdout, "Print the config instead of writing it (and no master key)");
  return [&global, opts] {
    const std::string text = ExampleConfig(opts->lake, opts->state_dir);
    if (opts->to_stdout) {
      std::cout << text;
      return static_cast<int>(kExitOk);
    }
    Env& env = *Env::Default();
    auto exists = env.FileExists(global.config_path);
    if (!exists.ok()) return Fail(exists.status());
    if (*exists) return Fail(InvalidArgument("{} already exists; remove it or pass --config NEW_PATH", global.config_path));
    if (Status s = env.WriteFile(global.config_path, text); !s.ok()) return Fail(s);
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
