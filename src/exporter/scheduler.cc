#include "exporter/scheduler.h"

#include <spdlog/spdlog.h>

#include <thread>

namespace fleetlog {

int RunScheduler(LakeSession& session, const std::atomic<bool>& stop, const std::vector<AfterCycleTask>& tasks,
                 int max_cycles) {
  const Duration interval = session.config().export_.interval;
  int cycle = 0;
  while (!stop.load()) {
    ++cycle;
    const Timestamp started = session.clock().Now();
    CycleReport report = RunCycle(session.export_context(), session.source_factory(),
                                  {.honour_backoff = true, .stop = &stop});
    int64_t rows = 0;
    for (const auto& r : report.runs) rows += r.rows_written;
    spdlog::info("cycle {}: {} rows written, {} table runs, {} failed, {} in back-off, {:.1f}s", cycle, rows,
                 report.runs.size(), report.failed, report.skipped, (session.clock().Now() - started).seconds());
    for (const auto& task : tasks) {
      if (stop.load()) break;
      if (Status s = task.run(session, report); !s.ok()) spdlog::error("{}: {}", task.name, s.message());
    }
    if (max_cycles > 0 && cycle >= max_cycles) break;
    // Sleep until the next tick in short steps, so a stop request is seen quickly.
    const Timestamp next = started + interval;
    while (!stop.load() && session.clock().Now() < next)
      std::this_thread::sleep_for(std::min(std::chrono::microseconds(100'000), (next - session.clock().Now()).chrono()));
  }
  return cycle;
}

}  // namespace fleetlog
