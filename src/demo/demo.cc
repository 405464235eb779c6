#include "demo/demo.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>

#include "core/fs.h"
#include "exporter/writer.h"
#include "query/engine.h"
#include "query/format.h"
#include "secrets/secret_store.h"
#include "source/sim/anomaly_schedule.h"
#include "source/sim/sim_random.h"
#include "source/sim/sim_source.h"

namespace fleetlog {
namespace {

namespace fs = std::filesystem;
constexpr const char* kMarker = ".fleetlog-demo";

// The simulated clusters' clock during backfill: it steps through history a day at a time.
class SteppedClock final : public Clock {
 public:
  Timestamp Now() const override { return Timestamp::FromMicros(us_.load()); }
  void Set(Timestamp t) { us_.store(t.micros()); }

 private:
  std::atomic<int64_t> us_{0};
};

std::string DemoConfig(const DemoOptions& o) {
  std::string text = fmt::format(R"toml(# A demo workspace made by `fleetlog demo`: {} simulated Redshift clusters,
# every fourth a Serverless workgroup with the SYS monitoring views only.
[lake]
path = "./lake"

[state]
path = "./fleetlog.db"

[secrets]
key_file = "./fleetlog.key"

[export]
interval = "5s"        # `fleetlog run` exports every 5 seconds
settle = "10s"
lookback = "15m"
initial_backfill = "{}d"

[table.stl_alert_event_log]
lookback = "6h"
)toml",
                                 o.clusters, o.days);
  text += R"toml(
# The detector's grade as an alert. sim-1 has a queue spike under way as the demo ends (its
# seed was picked for that): the rule fires at the first cycle of `fleetlog run`.
[[alert]]
name = "workload-anomaly"
source = "anomaly"
severity = "warning"
summary = "{labels.cluster}: workload anomaly (grade {value})"
)toml";
  for (int i = 1; i <= o.clusters; ++i) {
    const bool serverless = i % 4 == 0;
    const std::string name = fmt::format("sim-{}{}", serverless ? "serverless-" : "", i);
    const uint64_t seed = i == 1 ? SeedWithQueueSpikeUnderWay(name, 1001, o.end) : static_cast<uint64_t>(1000 + i);
    text +=
        fmt::format("\n[[cluster]]\nname = \"{}\"\nkind = \"sim\"\n{}seed = {}\nscale = {}\ntags = [\"{}\", \"{}\"]\n",
                    name, serverless ? "views = \"sys\"\n" : "", seed, i % 3 == 0 ? "2.0" : "1.0",
                    serverless ? "staging" : "prod", i % 2 == 0 ? "team:bi" : "team:etl");
  }
  if (o.serve) text += fmt::format("\n[server]\nlisten = \"{}\"\n", o.listen);
  return text;
}

void DrawBar(std::ostream& out, size_t done, size_t total, int64_t rows, bool tty) {
  const int width = 30;
  const int filled = total ? static_cast<int>(width * done / total) : width;
  const std::string bar =
      std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(width - filled), '.');
  out << (tty ? "\r" : "") << "backfill [" << bar << "] " << done << "/" << total << " table windows, " << rows
      << " rows" << (tty ? "" : "\n") << std::flush;
}

struct ReportQuery {
  const char* title;
  const char* sql;
  const char* needs = nullptr;  // a table without which the section is left out
};

// Over the cross-fleet views, so provisioned (STL) clusters and Serverless (SYS) workgroups
// show side by side.
const ReportQuery kReport[] = {
    {"Queries per cluster per day",
     "SELECT cluster, family, count(DISTINCT dt) AS days, count(*) AS queries, round(count(*) / count(DISTINCT dt)) AS "
     "per_day, "
     "count(*) FILTER (WHERE status <> 'success') AS not_success, "
     "round(avg(elapsed_us) / 1e6, 2) AS avg_seconds FROM fleet_queries GROUP BY ALL ORDER BY cluster"},
    {"Slowest queries",
     // The five slowest first, then the text of those five only: joining the reassembly
     // view would rebuild every statement of the fleet.
     "WITH slow AS (SELECT cluster, family, query_id, query_text, elapsed_us / 1e6 AS seconds FROM fleet_queries "
     "ORDER BY seconds DESC LIMIT 5) "
     "SELECT s.cluster, s.family, s.query_id, round(s.seconds / 60, 1) AS minutes, "
     "left(regexp_replace(replace(s.query_text, '\\n', ' '), '\\s+', ' ', 'g'), 70) AS statement "
     "FROM slow s ORDER BY s.seconds DESC"},
    {"Worst queue waits (p95 per service class)",
     "SELECT cluster, service_class_name AS service_class, count(*) AS queries, "
     "round(quantile_cont(queue_us, 0.95) / 1e6, 1) AS p95_wait_s, round(max(queue_us) / 1e6, 1) AS max_wait_s "
     "FROM fleet_queries WHERE service_class_name IS NOT NULL GROUP BY ALL ORDER BY p95_wait_s DESC LIMIT 6"},
    {"Top alert events",
     "SELECT split_part(event, ':', 1) AS event, count(*) AS alerts, count(DISTINCT cluster) AS clusters FROM "
     "fleet_alerts "
     "GROUP BY 1 ORDER BY alerts DESC LIMIT 5"},
    {"Serverless usage per workgroup per day",
     "SELECT cluster, dt, count(*) AS billed_minutes, round(avg(compute_capacity), 1) AS avg_rpu, "
     "sum(charged_seconds) AS charged_rpu_seconds FROM sys_serverless_usage GROUP BY ALL ORDER BY cluster, dt",
     "sys_serverless_usage"},
};

}  // namespace

uint64_t SeedWithQueueSpikeUnderWay(const std::string& cluster, uint64_t first, Timestamp now) {
  constexpr int64_t kMinuteUs = 60'000'000;
  for (uint64_t seed = first; seed < first + 1'000'000; ++seed) {
    for (const auto& a : sim::AnomaliesOverlapping(sim::ClusterSeed(seed, cluster), now.micros() - 1, now.micros())) {
      const int64_t since = now.micros() - a.start_us;
      if (a.kind == sim::AnomalyKind::kQueueSpike && since >= 45 * kMinuteUs && since <= 75 * kMinuteUs) return seed;
    }
  }
  return first;  // not reached: about one seed in 300 qualifies
}

Result<std::string> CreateDemoWorkspace(const DemoOptions& options) {
  if (options.clusters < 1 || options.clusters > 500) return InvalidArgument("--clusters must be from 1 to 500");
  if (options.days < 1 || options.days > 30) return InvalidArgument("--days must be from 1 to 30");
  std::error_code ec;
  const fs::path dir = fs::absolute(options.dir, ec);  // lexical, with the working folder
  if (ec) return IoError("cannot resolve {}: {}", options.dir, ec.message());
  Env& env = *Env::Default();
  ASSIGN_OR_RETURN(auto present, env.ListFiles(dir.string()));
  if (!present.empty()) {
    ASSIGN_OR_RETURN(const bool ours, env.FileExists((dir / kMarker).string()));
    if (!ours)
      return InvalidArgument("{} exists and is not a fleetlog demo workspace; choose another --dir", dir.string());
    RETURN_IF_ERROR(env.DeleteTree(dir.string()).WithContext("clearing the old demo"));
  }
  RETURN_IF_ERROR(env.CreateDir(dir.string()));
  RETURN_IF_ERROR(env.WriteFile((dir / kMarker).string(), "made by fleetlog demo; safe to delete\n"));
  const std::string config = (dir / "fleetlog.toml").string();
  RETURN_IF_ERROR(env.WriteFile(config, DemoConfig(options)));
  RETURN_IF_ERROR(MasterKey::Create((dir / "fleetlog.key").string()));
  return config;
}

Status BackfillDemo(const Config& config, int days, Timestamp end, std::ostream& progress) {
  ASSIGN_OR_RETURN(auto session, LakeSession::Open(config));
  auto clock = std::make_shared<SteppedClock>();
  SourceFactory factory = [&](const ClusterConfig& c) -> Result<std::unique_ptr<Source>> {
    return MakeSimSource({.cluster = c.name, .seed = c.seed, .scale = c.scale, .clock = clock});
  };
  // Each step exports one day; the first window reaches back one day from its upper bound.
  Config stepped = config;
  stepped.export_.initial_backfill = Duration::Days(1);
  stepped.export_.part = Duration::Days(1);
  ExportContext ctx = session->export_context();
  ctx.config = &stepped;
  ctx.batch_rows = 16384;

  size_t tables = 0;
  for (const auto& c : config.clusters) tables += TableSpecsFor(config, c).size();
  const size_t total = tables * static_cast<size_t>(days);
  size_t done = 0;
  int64_t rows = 0;
  int failed = 0;
  std::string first_error;
  const bool tty = isatty(STDERR_FILENO);
  for (int day = days - 1; day >= 0; --day) {
    clock->Set(end - Duration::Days(day));
    CycleReport report = RunCycle(ctx, factory, {.on_run = [&](const RunRecord& r) {
                                    ++done;
                                    rows += r.rows_written;
                                    if (r.status == RunStatus::kFailed && first_error.empty()) first_error = r.error;
                                    DrawBar(progress, done, total, rows, tty);
                                  }});
    failed += report.failed;
  }
  if (tty) progress << "\n";
  if (failed > 0) return Error(StatusCode::kInternal, "{} table windows failed; the first: {}", failed, first_error);
  return Status::Ok();
}

Status PrintFleetReport(const Config& config, std::ostream& out) {
  ASSIGN_OR_RETURN(auto state, OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly));
  ASSIGN_OR_RETURN(auto engine, QueryEngine::Open({.lake_root = config.lake_path,
                                                   .memory_limit_bytes = config.query.memory_limit_bytes,
                                                   .threads = config.query.threads},
                                                  state.get()));
  for (const auto& q : kReport) {
    const auto& tables = engine->tables();
    if (q.needs && std::none_of(tables.begin(), tables.end(), [&](const LakeTable& t) { return t.name == q.needs; }))
      continue;
    ASSIGN_OR_RETURN(auto result, engine->Run(q.sql));
    out << "\n== " << q.title << " ==\n";
    WriteResult(result, OutputFormat::kTable, out);
  }
  return Status::Ok();
}

}  // namespace fleetlog
