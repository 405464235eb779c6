// A read walks the start-minutes that can hold rows for its window: the ordinary stream from
// kMaxRegularUs before the window, and only those older minutes in which a long-running query
// that was still running at the window's start began. Generated minutes are kept in a small
// cache ordered by time, because an export cycle reads the same stretch of time once per table
// and the next cycle re-reads most of it (lookback).
#include "source/sim/sim_source.h"

#include <atomic>
#include <map>
#include <set>

#include "source/sim/sim_rows.h"
#include "source/sim/sim_workload.h"
#include "source/table_spec.h"

namespace fleetlog {
namespace {

using sim::kHourUs;
using sim::kMinuteUs;

// About two hours of minutes: a cycle's window, its lookback and the regular look-back span.
constexpr size_t kCachedMinutes = 128;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

class SimSource final : public Source {
 public:
  explicit SimSource(SimOptions options)
      : options_(std::move(options)),
        workload_(sim::ClusterSeed(options_.seed, options_.cluster), options_.scale > 0 ? options_.scale : 1.0) {
    if (!options_.clock) options_.clock = std::make_shared<SystemClock>();
  }

  Status Connect() override { return Status::Ok(); }
  Result<Timestamp> Now() override { return options_.clock->Now(); }
  void Cancel() override { cancelled_.store(true); }
  // A simulated cluster holds every table of both families, shows every user's rows and
  // keeps seven days, as Redshift does.
  Result<TableProbe> ProbeTable(const TableSpec& spec) override {
    const TableSpec* canonical = FindRedshiftTable(spec.name);
    if (canonical == nullptr)
      return Error(StatusCode::kNotFound, "cluster {}: table {} does not exist on a simulated cluster",
                   options_.cluster, spec.name);
    TableProbe probe{.columns = canonical->columns};
    if (!canonical->cursor.empty()) probe.oldest = options_.clock->Now() - Duration::Days(7);
    return probe;
  }
  Result<Visibility> ProbeVisibility() override {
    return Visibility{.user = "sim", .all_users = true, .how = "simulated cluster"};
  }

  Status Read(const SourceQuery& query, const BatchSink& sink) override {
    cancelled_.store(false);
    if (query.spec == nullptr) return InvalidArgument("cluster {}: read without a table spec", options_.cluster);
    if (!query.spec->sql.empty())
      return InvalidArgument(
          "cluster {}: custom query \"{}\" cannot run on a simulated cluster (kind = \"sim\"); the simulated fleet "
          "only has the Redshift system tables, so point [[custom]] at a redshift or postgres cluster",
          options_.cluster, query.spec->name);
    const auto table = sim::SimTableNamed(query.spec->name);
    const TableSpec* canonical = FindRedshiftTable(query.spec->name);
    if (!table || canonical == nullptr)
      return Error(StatusCode::kNotFound, "cluster {}: table {} does not exist on a simulated cluster",
                   options_.cluster, query.spec->name);

    TableSchema schema = canonical->columns;
    if (!canonical->parent.empty()) schema.push_back({kPartitionColumn, ColumnType::kTimestamp});
    sim::BatchWriter out(std::move(schema), query.batch_rows, sink);
    const sim::RowWindow window{query.lower.micros(), query.upper.micros(), options_.clock->Now().micros()};
    if (window.lower >= window.upper) return Status::Ok();
    const bool running = query.spec->filter == kSysQueryLive;  // RunningQueriesSpec()

    for (int64_t minute : MinutesToScan(window)) {
      if (cancelled_.load()) {
        return Error(StatusCode::kCancelled, "cluster {}: read of {} cancelled", options_.cluster, query.spec->name);
      }
      if (running)
        RETURN_IF_ERROR(sim::AppendSysMinuteRows(*table, workload_, *MinuteAt(minute), window, true, out));
      else
        RETURN_IF_ERROR(sim::AppendMinuteRows(*table, workload_, *MinuteAt(minute), window, out));
    }
    return out.Flush();
  }

 private:
  // Start-minutes, ascending, that can hold rows of work touching the window.
  std::vector<int64_t> MinutesToScan(const sim::RowWindow& w) const {
    const int64_t first = FloorDiv(w.lower - sim::kMaxRegularUs, kMinuteUs);
    const int64_t last = FloorDiv(std::min(w.upper - 1, w.now), kMinuteUs);
    std::set<int64_t> older;  // minutes before `first` where a long query that reaches the window began
    for (int64_t hour = FloorDiv(w.lower - sim::kMaxLongUs, kHourUs); hour <= FloorDiv(first * kMinuteUs, kHourUs);
         ++hour) {
      for (const sim::SimQuery& q : workload_.LongQueries(hour)) {
        const int64_t minute = FloorDiv(q.start_us, kMinuteUs);
        if (minute < first && q.end_us() >= w.lower && minute <= last) older.insert(minute);
      }
    }
    std::vector<int64_t> minutes(older.begin(), older.end());
    for (int64_t m = first; m <= last; ++m) minutes.push_back(m);
    return minutes;
  }

  std::shared_ptr<const sim::SimMinute> MinuteAt(int64_t minute) {
    auto it = cache_.find(minute);
    if (it != cache_.end()) return it->second;
    auto generated = std::make_shared<const sim::SimMinute>(workload_.Minute(minute));
    cache_.emplace(minute, generated);
    // Reads move forward in time: the oldest minute is the one least likely to be asked again.
    if (cache_.size() > kCachedMinutes) cache_.erase(cache_.begin());
    return generated;
  }

  SimOptions options_;
  const sim::Workload workload_;
  std::map<int64_t, std::shared_ptr<const sim::SimMinute>> cache_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

std::unique_ptr<Source> MakeSimSource(SimOptions options) { return std::make_unique<SimSource>(std::move(options)); }

}  // namespace fleetlog
