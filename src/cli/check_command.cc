// `fleetlog check [--cluster N] [--json]`: exit 0 when no cluster has a problem, 1 otherwise.

#include <algorithm>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/env.h"
#include "exporter/cluster_check.h"
#include "secrets/secret_store.h"
#include "source/source_factory.h"

namespace fleetlog::cli {

ClusterSources::~ClusterSources() = default;

Result<ClusterSources> ClusterSources::Open(const Config& config) {
  ClusterSources out;
  out.config_ = &config;
  auto state = OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly);
  if (state.ok()) {
    out.state_ = std::move(state).value();
    auto key = MasterKey::Load(config.key_file);
    if (key.ok()) out.secrets_ = std::make_unique<SecretStore>(*out.state_, std::move(key).value());
    else if (key.status().code() != StatusCode::kNotFound) return key.status();
  } else if (state.status().code() != StatusCode::kNotFound) {
    return state.status();
  }
  return out;
}

Result<std::unique_ptr<Source>> ClusterSources::Make(const ClusterConfig& cluster) {
  return MakeSource(*config_, cluster, secrets_.get());
}

namespace {

void PrintTable(const std::vector<ClusterCheck>& checks, std::ostream& out) {
  for (const auto& c : checks) {
    out << c.cluster << ": " << (c.ok() ? "ok" : "PROBLEMS") << "\n";
    for (const auto& i : c.items)
      out << "  " << (i.problem ? "FAIL " : "ok   ") << fmt::format("{:<24}", i.check) << " " << i.detail << "\n";
  }
}

nlohmann::json ToJson(const std::vector<ClusterCheck>& checks) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : checks) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& i : c.items) items.push_back({{"check", i.check}, {"problem", i.problem}, {"detail", i.detail}});
    out.push_back({{"cluster", c.cluster}, {"ok", c.ok()}, {"items", items}});
  }
  return out;
}

}  // namespace

CommandAction AddCheck(CLI::App& app, const GlobalOptions& global) {
  struct Options {
    std::vector<std::string> clusters;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  app.add_option("--cluster", opts->clusters, "Only this cluster (repeatable)");
  app.add_flag("--json", opts->json, "Print the findings as JSON");
  return [&global, opts] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    for (const auto& c : opts->clusters)
      if (!config->FindCluster(c)) return Fail(InvalidArgument("no [[cluster]] named \"{}\" in {}", c, config->file));
    auto sources = ClusterSources::Open(*config);
    if (!sources.ok()) return Fail(sources.status());
    std::vector<ClusterCheck> checks;
    for (const auto& cluster : config->clusters) {
      if (!Chosen(opts->clusters, cluster.name)) continue;
      auto source = sources->Make(cluster);
      if (!source.ok()) {
        checks.push_back({.cluster = cluster.name, .items = {{"connect", true, source.status().message()}}});
        continue;
      }
      checks.push_back(CheckCluster(*config, cluster, **source, sources->state(), Env::Default()->Now()));
    }
    if (opts->json) std::cout << ToJson(checks).dump(2) << "\n";
    else PrintTable(checks, std::cout);
    const bool ok = std::all_of(checks.begin(), checks.end(), [](const ClusterCheck& c) { return c.ok(); });
    return static_cast<int>(ok ? kExitOk : kExitFailed);
  };
}

}  // namespace fleetlog::cli
