#include <iostream>

#include "cli/command.h"
#include "core/env.h"
#include "query/ddl.h"
#include "query/engine.h"
#include "state/state_store.h"

namespace fleetlog::cli {

CommandAction AddDdl(CLI::App& app, const GlobalOptions& global) {
  struct Options {
    std::string engine;
    std::string location;
    std::string database = "fleetlog";
  };
  auto opts = std::make_shared<Options>();
  app.add_option("--engine", opts->engine, "athena, glue, trino, spark or duckdb")->required();
  app.add_option("--location", opts->location, "Where the engine finds the lake (default: [lake] path), e.g. s3://bucket/prefix");
  app.add_option("--database", opts->database, "Database (schema) to register the tables in (default fleetlog)");
  return [&global, opts] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    auto engine = ParseDdlEngine(opts->engine);
    if (!engine.ok()) return Fail(engine.status());
    auto state = OpenSqliteStateStore(config->state_path, OpenMode::kReadOnly);
    if (!state.ok())
      return Fail(state.status().WithContext("the lake's tables are read from the state store; run an export first"));
    auto lake = QueryEngine::Open({.lake_root = config->lake_path, .memory_limit_bytes = 256LL << 20, .threads = 1,
                                   .views_for_sql = ""}, state->get());
    if (!lake.ok()) return Fail(lake.status());
    DdlInput input{.tables = (*lake)->tables(),
                   .location = opts->location.empty() ? config->lake_path : opts->location,
                   .database = opts->database};
    for (const auto& c : config->clusters) input.clusters.push_back(c.name);
    auto files = (*state)->ListFiles({.states = {FileState::kPublished}});
    if (!files.ok()) return Fail(files.status());
    for (const auto& f : *files)
      if (input.first_day.empty() || f.dt < input.first_day) input.first_day = f.dt;
    if (input.first_day.empty()) input.first_day = DateOf(Env::Default()->Now());
    auto text = TableDefinitions(*engine, input);
    if (!text.ok()) return Fail(text.status());
    std::cout << *text;
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
