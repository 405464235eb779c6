#include "exporter/cycle.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <thread>

namespace fleetlog {
namespace {

bool Selected(const std::vector<std::string>& wanted, const std::string& name) {
  return wanted.empty() || std::find(wanted.begin(), wanted.end(), name) != wanted.end();
}

// True when the last export run of (cluster, table) failed less than its back-off ago.
bool InBackoff(const ExportContext& ctx, const std::string& cluster, const std::string& table,
               const std::vector<RunRecord>& latest) {
  auto streak = ctx.state->FailureStreak(cluster, table);
  if (!streak.ok() || *streak == 0) return false;
  for (const auto& r : latest)
    if (r.cluster == cluster && r.table == table && r.kind == "export")
      return ctx.clock->Now() < r.finished_at + BackoffAfter(*streak, ctx.config->export_.interval);
  return false;
}

RunRecord FailedRun(const ExportContext& ctx, const std::string& cluster, const std::string& table, const Status& s) {
  RunRecord run;
  run.cluster = cluster;
  run.table = table;
  run.started_at = run.finished_at = ctx.clock->Now();
  run.status = RunStatus::kFailed;
  run.error = s.message();
  if (auto recorded = ctx.state->RecordRun(run); !recorded.ok())
    spdlog::error("cannot record the failed run: {}", recorded.status().message());
  return run;
}

void ExportCluster(const ExportContext& ctx, const SourceFactory& factory, const ClusterConfig& cluster,
                   const CycleOptions& options, const std::vector<RunRecord>& latest, CycleReport* report,
                   std::mutex* mu) {
  std::vector<TableSpec> specs;
  for (auto& spec : TableSpecsFor(*ctx.config, cluster))
    if (Selected(options.tables, spec.name)) specs.push_back(std::move(spec));
  if (options.honour_backoff)
    std::erase_if(specs, [&](const TableSpec& s) {
      const bool wait = InBackoff(ctx, cluster.name, s.name, latest);
      if (wait) {
        std::lock_guard lock(*mu);
        report->skipped++;
      }
      return wait;
    });
  if (specs.empty()) return;

  const auto fail_all = [&](const Status& s) {
    spdlog::error("{}", s.message());
    std::lock_guard lock(*mu);
    for (const auto& spec : specs) {
      report->runs.push_back(FailedRun(ctx, cluster.name, spec.name, s));
      report->failed++;
      if (options.on_run) options.on_run(report->runs.back());
    }
  };
  auto source = factory(cluster);
  if (!source.ok()) return fail_all(source.status().WithContext("cluster " + cluster.name));
  if (Status s = (*source)->Connect(); !s.ok()) return fail_all(s.WithContext("cluster " + cluster.name));
  auto now = (*source)->Now();
  if (!now.ok()) return fail_all(now.status().WithContext("cluster " + cluster.name + ": reading the source clock"));
  const Timestamp upper = *now - ctx.config->export_.settle;

  for (const auto& spec : specs) {
    if (options.stop && options.stop->load()) {
      std::lock_guard lock(*mu);
      report->skipped++;
      continue;
    }
    if (Status s = (*source)->Connect(); !s.ok()) {  // reconnects after a lost connection
      std::lock_guard lock(*mu);
      report->runs.push_back(FailedRun(ctx, cluster.name, spec.name, s.WithContext("cluster " + cluster.name)));
      report->failed++;
      if (options.on_run) options.on_run(report->runs.back());
      continue;
    }
    TableRun result = ExportTable(ctx, cluster.name, spec, **source, *now, upper);
    if (result.status.ok())
      spdlog::info("cluster {}, table {}: {} rows read, {} written, {} repeats dropped", cluster.name, spec.name,
                   result.run.rows_read, result.run.rows_written, result.run.rows_duplicate);
    else
      spdlog::error("{}", result.status.message());
    std::lock_guard lock(*mu);
    report->runs.push_back(result.run);
    if (!result.status.ok()) report->failed++;
    if (options.on_run) options.on_run(result.run);
  }
}

// Records a failed run for each selected table of `cluster` that has no run in `report`.
void FailUnrun(const ExportContext& ctx, const ClusterConfig& cluster, const CycleOptions& options, const Status& s,
               CycleReport* report, std::mutex* mu) noexcept {
  try {
    spdlog::error("{}", s.message());
    std::lock_guard lock(*mu);
    for (const auto& spec : TableSpecsFor(*ctx.config, cluster)) {
      if (!Selected(options.tables, spec.name)) continue;
      const bool ran = std::any_of(report->runs.begin(), report->runs.end(), [&](const RunRecord& r) {
        return r.cluster == cluster.name && r.table == spec.name;
      });
      if (ran) continue;
      report->runs.push_back(FailedRun(ctx, cluster.name, spec.name, s));
      report->failed++;
      if (options.on_run) options.on_run(report->runs.back());
    }
  } catch (...) {
    spdlog::critical("cluster {}: cannot even record its failure", cluster.name);
  }
}

}  // namespace

Duration BackoffAfter(int streak, Duration interval) {
  Duration wait = interval;
  for (int i = 1; i < streak && wait < Duration::Hours(1); ++i) wait = wait * 2;
  return std::min(wait, Duration::Hours(1));
}

CycleReport RunCycle(const ExportContext& ctx, const SourceFactory& factory, const CycleOptions& options) {
  CycleReport report;
  std::vector<const ClusterConfig*> clusters;
  for (const auto& c : ctx.config->clusters)
    if (Selected(options.clusters, c.name)) clusters.push_back(&c);
  std::vector<RunRecord> latest;
  if (options.honour_backoff) {
    auto runs = ctx.state->LatestRuns();
    if (runs.ok()) latest = std::move(runs).value();
  }
  std::mutex mu;
  std::atomic<size_t> next{0};
  const size_t workers = std::min<size_t>(clusters.size(), static_cast<size_t>(ctx.config->export_.parallelism));
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < clusters.size(); i = next++) {
        // No exception may leave a worker thread (it would end the process): a library that
        // throws fails this cluster's tables that have no run yet, and the others go on.
        try {
          ExportCluster(ctx, factory, *clusters[i], options, latest, &report, &mu);
        } catch (const std::exception& e) {
          FailUnrun(ctx, *clusters[i], options, Internal("cluster {}: unexpected error: {}", clusters[i]->name, e.what()),
                    &report, &mu);
        } catch (...) {
          FailUnrun(ctx, *clusters[i], options, Internal("cluster {}: unexpected error", clusters[i]->name), &report, &mu);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(report.runs.begin(), report.runs.end(),
            [](const RunRecord& a, const RunRecord& b) { return std::tie(a.cluster, a.table) < std::tie(b.cluster, b.table); });
  return report;
}

}  // namespace fleetlog
