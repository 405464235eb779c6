// `fleetlog restore`: rebuilds the local state store of an S3 lake from the lake's journal, so
// that a new machine given only the bucket resumes where the lost one stopped.
#include <chrono>
#include <iostream>

#include "cli/command.h"
#include "lake/journal.h"
#include "state/state_store.h"
#include "storage/s3_lake.h"

namespace fleetlog::cli {

CommandAction AddRestore(CLI::App& app, const GlobalOptions& global) {
  auto force = std::make_shared<bool>(false);
  app.add_flag("--force", *force, "Replace an existing local state store");
  return [&global, force] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    if (!config->lake_is_s3()) {
      return Fail(InvalidArgument("restore rebuilds the local state of an S3 lake, but [lake] path = \"{}\" is a "
                                  "folder, whose state lives beside it",
                                  config->lake_path));
    }
    Env* local = Env::Default();
    auto exists = local->FileExists(config->state_path);
    if (!exists.ok()) return Fail(exists.status());
    if (*exists && !*force) {
      return Fail(Error(StatusCode::kAlreadyExists,
                        "the state store {} exists; move it away, or pass --force to replace it with the lake's",
                        config->state_path));
    }
    auto location = ResolveS3Lake(*config, ProcessEnvironment(), nullptr);
    if (!location.ok()) return Fail(location.status());
    auto env = OpenS3Lake(*location, &local->clock());
    if (!env.ok()) return Fail(env.status());
    std::string root = config->lake_path;
    while (root.ends_with('/')) root.pop_back();
    const auto started = std::chrono::steady_clock::now();
    auto report = RestoreStateFile(env->get(), root, local, config->state_path);
    if (!report.ok()) return Fail(report.status().WithContext("restore from " + root));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << fmt::format("restored {} from {}: {} journal records, {} files in the catalog ({:.2f}s)\n",
                             config->state_path, root, report->records, report->files, seconds);
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
