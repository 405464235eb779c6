#include <unistd.h>

#include <iostream>
#include <iterator>

#include "cli/command.h"
#include "query/engine.h"
#include "query/format.h"
#include "state/state_store.h"

namespace fleetlog::cli {

CommandAction AddQuery(CLI::App& app, const GlobalOptions& global) {
  struct Options {
    OutputFlags output;
    std::string sql;
  };
  auto opts = std::make_shared<Options>();
  AddOutputFlags(app, &opts->output);
  app.add_option("sql", opts->sql, "The SQL to run; - reads it from stdin")->required();
  return [&global, opts] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    // People at a terminal get an aligned table; a pipe gets CSV for the next program.
    const OutputFormat format = opts->output.Resolve(isatty(STDOUT_FILENO) ? OutputFormat::kTable : OutputFormat::kCsv);
    std::string sql = opts->sql;
    if (sql == "-") sql.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());

    std::unique_ptr<StateStore> state;
    auto opened = OpenSqliteStateStore(config->state_path, OpenMode::kReadOnly);
    if (opened.ok()) state = std::move(opened).value();
    else if (opened.status().code() != StatusCode::kNotFound) return Fail(opened.status());
    EngineOptions options{.lake_root = config->lake_path,
                          .memory_limit_bytes = config->query.memory_limit_bytes,
                          .threads = config->query.threads,
                          .views_for_sql = sql};
    auto engine = QueryEngine::Open(options, state.get());
    if (!engine.ok()) return Fail(engine.status());
    auto result = (*engine)->Run(sql);
    if (!result.ok()) {
      std::cerr << "fleetlog: query failed: " << result.status().message() << "\n";
      return static_cast<int>(kExitFailed);
    }
    WriteResult(*result, format, std::cout, opts->output.format_options());
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
