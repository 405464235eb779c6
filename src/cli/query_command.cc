#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>
#include <iterator>

#include "cli/command.h"
#include "client/curl_connection.h"
#include "client/remote_query.h"
#include "query/confine.h"
#include "query/engine.h"
#include "query/format.h"
#include "query/worker.h"
#include "source/table_spec.h"
#include "state/state_store.h"

namespace fleetlog::cli {

CommandAction AddQuery(CLI::App& app, const GlobalOptions& global) {
  struct Options {
    OutputFlags output;
    std::string sql;
    std::string server;
  };
  auto opts = std::make_shared<Options>();
  AddOutputFlags(app, &opts->output);
  app.add_option("sql", opts->sql, "The SQL to run; - reads it from stdin")->required();
  app.add_option("--server", opts->server,
                 "Run it on a fleetlog server (`serve`, or `run` with [server]) at this URL, with the "
                 "token in $FLEETLOG_TOKEN; no config or lake is needed here")
      ->envname("FLEETLOG_SERVER");
  return [&global, opts] {
    const OutputFormat format = opts->output.Resolve(QueryFormatForStdout());
    if (!opts->server.empty())
      return client::QueryOnServer(opts->server, opts->sql, format, opts->output.format_options(), client::ConnectAny);
    std::string sql = opts->sql;
    if (sql == "-") sql.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());

    // Where start-up goes, with --verbose: each phase's wall time since the command began.
    const auto began = std::chrono::steady_clock::now();
    const auto phase = [&began](const char* what) {
      spdlog::debug("query: {} after {:.1f} ms", what,
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count());
    };
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());

    std::unique_ptr<StateStore> state;
    auto opened = OpenSqliteStateStore(config->state_path, OpenMode::kReadOnly);
    if (opened.ok())
      state = std::move(opened).value();
    else if (opened.status().code() != StatusCode::kNotFound)
      return Fail(opened.status());
    auto s3 = OpenS3Reader(*config, state.get());  // an S3 lake's files come through the local cache
    if (!s3.ok()) return Fail(s3.status());
    EngineOptions options{.lake_root = config->lake_path,
                          .memory_limit_bytes = config->query.memory_limit_bytes,
                          .threads = config->query.threads,
                          .views_for_sql = sql,
                          .cursor_columns = FileRangeColumns(*config)};
    // As the server's query workers: once the views are made, this process may read their
    // files only, and its memory is capped (stdout stays writable: it is already open).
    options.confine = [&options](const std::vector<std::string>& files) -> Status {
      // The limits first: they read /proc, which Landlock then closes.
      const int64_t memory = options.memory_limit_bytes;
      RETURN_IF_ERROR(LimitProcess(memory + WorkerMemoryHeadroom(memory), /*may_write_files=*/true).status());
      ASSIGN_OR_RETURN(Confinement confined, ConfineToFiles(files));
      if (!confined.note.empty()) spdlog::debug("{}", confined.note);
      return Status::Ok();
    };
    phase("config and state store opened");
    auto snapshot = LoadLakeSnapshot(state.get(), TablesReadBy(sql));
    if (!snapshot.ok()) return Fail(snapshot.status());
    state.reset();
    phase("snapshot of committed files loaded");
    auto engine = QueryEngine::Open(options, *snapshot);
    if (!engine.ok()) return Fail(engine.status());
    phase("engine open (views made, process confined)");
    auto result = (*engine)->Run(sql);
    phase("statement run");
    if (!result.ok()) {
      std::cerr << "fleetlog: query failed: " << result.status().message() << "\n";
      return static_cast<int>(kExitFailed);
    }
    WriteResult(*result, format, std::cout, opts->output.format_options());
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
