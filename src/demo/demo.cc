#include "demo/demo.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "core/fs.h"
#include "exporter/writer.h"
#include "query/engine.h"
#include "query/format.h"
#include "secrets/secret_store.h"
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
  std::string text = fmt::format(R"toml(# A demo workspace made by `fleetlog demo`: {} simulated Redshift clusters.
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
)toml", o.clusters, o.days);
  for (int i = 1; i <= o.clusters; ++i)
    text += fmt::format("\n[[cluster]]\nname = \"sim-{}\"\nkind = \"sim\"\nseed = {}\nscale = {}\n", i, 1000 + i,
                        i % 3 == 0 ? "2.0" : "1.0");
  if (o.serve) text += fmt::format("\n[server]\nlisten = \"{}\"\n", o.listen);
  return text;
}

void DrawBar(std::ostream& out, size_t done, size_t total, int64_t rows, bool tty) {
  const int width = 30;
  const int filled = total ? static_cast<int>(width * done / total) : width;
  const std::string bar = std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(width - filled), '.');
  out << (tty ? "\r" : "") << "backfill [" << bar << "] " << done << "/" << total << " table windows, " << rows
      << " rows" << (tty ? "" : "\n") << std::flush;
}

struct ReportQuery {
  const char* title;
  const char* sql;
};

const ReportQuery kReport[] = {
    {"Queries per cluster per day",
     "SELECT cluster, count(DISTINCT dt) AS days, count(*) AS queries, round(count(*) / count(DISTINCT dt)) AS per_day, "
     "sum(CASE WHEN aborted = 1 THEN 1 ELSE 0 END) AS aborted, "
     "round(avg(epoch(endtime) - epoch(starttime)), 2) AS avg_seconds FROM stl_query GROUP BY cluster ORDER BY cluster"},
    {"Slowest queries",
     // The five slowest first, then the text of those five only: joining the reassembly
     // view would rebuild every statement of the fleet.
     "WITH slow AS (SELECT cluster, query, querytxt, epoch(endtime) - epoch(starttime) AS seconds FROM stl_query "
     "ORDER BY seconds DESC LIMIT 5), "
     "text AS (SELECT t.cluster, t.query, string_agg(t.text, '' ORDER BY t.sequence) AS text FROM stl_querytext t "
     "SEMI JOIN slow s ON s.cluster = t.cluster AND s.query = t.query GROUP BY ALL) "
     "SELECT s.cluster, s.query, round(s.seconds / 60, 1) AS minutes, "
     "left(regexp_replace(replace(coalesce(x.text, s.querytxt), '\\n', ' '), '\\s+', ' ', 'g'), 70) AS statement "
     "FROM slow s LEFT JOIN text x ON x.cluster = s.cluster AND x.query = s.query ORDER BY s.seconds DESC"},
    {"Worst queue waits (p95 per service class)",
     "SELECT cluster, service_class_name AS service_class, count(*) AS queries, "
     "round(quantile_cont(total_queue_time, 0.95) / 1e6, 1) AS p95_wait_s, round(max(total_queue_time) / 1e6, 1) AS max_wait_s "
     "FROM stl_wlm_query GROUP BY ALL ORDER BY p95_wait_s DESC LIMIT 6"},
    {"Top alert events",
     "SELECT split_part(trim(event), ':', 1) AS event, count(*) AS alerts, count(DISTINCT cluster) AS clusters FROM stl_alert_event_log "
     "GROUP BY 1 ORDER BY alerts DESC LIMIT 5"},
};

}  // namespace

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
    if (!ours) return InvalidArgument("{} exists and is not a fleetlog demo workspace; choose another --dir", dir.string());
    RETURN_IF_ERROR(env.DeleteTree(dir.string()).WithContext("clearing the old demo"));
  }
  RETURN_IF_ERROR(env.CreateDir(dir.string()));
  RETURN_IF_ERROR(env.WriteFile((dir / kMarker).string(), "made by fleetlog demo; safe to delete\n"));
  const std::string config = (dir / "fleetlog.toml").string();
  RETURN_IF_ERROR(env.WriteFile(config, DemoConfig(options)));
  RETURN_IF_ERROR(MasterKey::Create((dir / "fleetlog.key").string()));
  return config;
}

Status BackfillDemo(const Config& config, int days, std::ostream& progress) {
  ASSIGN_OR_RETURN(auto session, LakeSession::Open(config));
  auto clock = std::make_shared<SteppedClock>();
  SourceFactory factory = [&](const ClusterConfig& c) -> Result<std::unique_ptr<Source>> {
    return MakeSimSource({.cluster = c.name, .seed = c.seed, .scale = c.scale, .clock = clock});
  };
  // Each step exports one day; the first window reaches back one day from its upper bound.
  Config stepped = config;
  stepped.export_.initial_backfill = Duration::Days(1);
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
  const Timestamp now = Env::Default()->Now();
  for (int day = days - 1; day >= 0; --day) {
    clock->Set(now - Duration::Days(day));
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
    ASSIGN_OR_RETURN(auto result, engine->Run(q.sql));
    out << "\n== " << q.title << " ==\n";
    WriteResult(result, OutputFormat::kTable, out);
  }
  return Status::Ok();
}

}  // namespace fleetlog
