#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

#include "cli/command.h"
#include "core/env.h"
#include "demo/demo.h"
#include "exporter/scheduler.h"
#include "server/server.h"

namespace fleetlog::cli {
namespace {

namespace fs = std::filesystem;

// How the user can call this binary again: `fleetlog` when PATH finds this very file, else its
// path (relative to the working folder when inside it: `./build/fleetlog` after scripts/demo).
std::string HowToCallMe() {
  std::error_code ec;
  const fs::path me = fs::read_symlink("/proc/self/exe", ec);  // outside the Env: a /proc link
  if (ec) return "fleetlog";
  const char* path = std::getenv("PATH");
  for (std::string_view rest = path ? path : ""; !rest.empty();) {
    const size_t colon = rest.find(':');
    const std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
    if (!dir.empty() && fs::equivalent(fs::path(dir) / "fleetlog", me, ec))
      return "fleetlog";  // outside the Env: PATH lookup
  }
  const fs::path relative = me.lexically_relative(fs::current_path(ec));  // outside the Env: the working folder
  if (!ec && !relative.empty() && *relative.begin() != "..") return (fs::path(".") / relative).string();
  return me.string();
}

}  // namespace

CommandAction AddDemo(CLI::App& app, const GlobalOptions& /*global*/) {
  auto opts = std::make_shared<DemoOptions>();
  app.add_option("--clusters", opts->clusters, "Simulated clusters (default 4)");
  app.add_option("--days", opts->days, "Days of history to backfill (default 3)");
  app.add_option("--dir", opts->dir, "Workspace folder (default ./fleetlog-demo)");
  app.add_flag("--serve", opts->serve, "Keep exporting live and serve the dashboard");
  return [opts] {
    const auto started = Env::Default()->Now();
    opts->end = started;
    auto config_path = CreateDemoWorkspace(*opts);
    if (!config_path.ok()) return Fail(config_path.status());
    auto config = LoadConfig(*config_path);
    if (!config.ok()) return Fail(config.status());
    std::cout << "fleetlog demo: " << opts->clusters << " simulated Redshift clusters, " << opts->days
              << " days of history, in " << std::filesystem::path(*config_path).parent_path().string() << "\n";
    spdlog::set_level(spdlog::level::warn);  // the progress bar speaks for the exporter
    if (Status s = BackfillDemo(*config, opts->days, opts->end, std::cerr); !s.ok()) return Fail(s);
    spdlog::set_level(spdlog::level::info);
    if (Status s = PrintFleetReport(*config, std::cout); !s.ok()) return Fail(s);
    const std::string call = HowToCallMe() + " --config " + *config_path;
    std::cout << fmt::format(
        "\ndone in {:.1f}s. Try next:\n"
        "  {} query \"select cluster, family, count(*) from fleet_queries group by all\"\n"
        "  {} query --format csv \"select * from stl_querytext_full limit 3\"\n"
        "  {} status\n"
        "  {} running      # queries running now on the Serverless workgroups\n"
        "  {} run          # keep exporting every 5 seconds\n",
        (Env::Default()->Now() - started).seconds(), call, call, call, call, call);
    if (!opts->serve) return static_cast<int>(kExitOk);
    auto session = LakeSession::Open(*config);
    if (!session.ok()) return Fail(session.status());
    InstallStopHandlers();
    auto server = StartServerIfConfigured(*config, &(*session)->state());
    if (!server.ok()) return Fail(server.status());
    std::cout << "dashboard: http://" << opts->listen << "/  (exporting live every 5s; stop with Ctrl-C)\n"
              << std::flush;
    RunScheduler(**session, StopRequested(), {});
    if (*server) (*server)->Stop();
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
