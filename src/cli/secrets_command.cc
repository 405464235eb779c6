#include <unistd.h>

#include <iostream>
#include <iterator>

#include "cli/command.h"
#include "secrets/secret_store.h"
#include "state/state_store.h"

namespace fleetlog::cli {

CommandAction AddSecrets(CLI::App& app, const GlobalOptions& global) {
  app.require_subcommand(1);
  auto name = std::make_shared<std::string>();
  CLI::App* set = app.add_subcommand("set", "Store a secret; the value is read from stdin, never from arguments");
  set->add_option("name", *name, "Secret name, as password_secret names it")->required();
  CLI::App* list = app.add_subcommand("list", "List secret names (never values)");
  auto output = std::make_shared<OutputFlags>();
  AddOutputFlags(*list, output.get());
  CLI::App* del = app.add_subcommand("delete", "Delete a secret");
  del->add_option("name", *name, "Secret name")->required();
  return [&global, name, set, list, del, output]() -> int {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    auto key = MasterKey::Load(config->key_file);
    if (!key.ok()) return Fail(key.status());
    auto state = OpenSqliteStateStore(config->state_path, OpenMode::kReadWrite);
    if (!state.ok()) return Fail(state.status());
    SecretStore secrets(**state, std::move(key).value());
    if (set->parsed()) {
      if (isatty(STDIN_FILENO)) std::cerr << "enter the value of " << *name << ", then Ctrl-D:\n";
      std::string value((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
      if (!value.empty() && value.back() == '\n') value.pop_back();  // `echo` adds one
      if (value.empty()) return Fail(InvalidArgument("no value on stdin for secret \"{}\"", *name));
      if (Status s = secrets.Set(*name, value); !s.ok()) return Fail(s);
      std::cout << "stored secret " << *name << "\n";
    } else if (list->parsed()) {
      auto names = secrets.List();
      if (!names.ok()) return Fail(names.status());
      const OutputFormat format = output->Resolve(OutputFormat::kTable);
      if (format == OutputFormat::kTable) {  // a name per line, as `ls` prints
        for (const auto& n : *names) std::cout << n << "\n";
      } else {
        Grid grid{.columns = {{"name"}}};
        for (const auto& n : *names) grid.rows.push_back({n});
        WriteGrid(grid, format, std::cout, output->format_options());
      }
    } else if (del->parsed()) {
      if (Status s = secrets.Delete(*name); !s.ok()) return Fail(s);
      std::cout << "deleted secret " << *name << "\n";
    }
    return kExitOk;
  };
}

}  // namespace fleetlog::cli
