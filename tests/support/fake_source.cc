#include "fake_source.h"

#include <atomic>
#include <optional>

namespace fleetlog::test {

class FakeSource final : public Source {
 public:
  FakeSource(FakeFleet* fleet, std::string cluster) : fleet_(fleet), cluster_(std::move(cluster)) {}

  Status Connect() override { return Status::Ok(); }

  Result<Timestamp> Now() override {
    std::lock_guard lock(fleet_->mu_);
    auto it = fleet_->now_.find(cluster_);
    if (it == fleet_->now_.end()) return Internal("fake cluster {} has no clock set", cluster_);
    return it->second;
  }

  Status Read(const SourceQuery& query, const BatchSink& sink) override {
    const TableSpec& spec = *query.spec;
    std::vector<FakeFleet::Event> events;
    std::optional<FakeFleet::BreakAfter> breaks;
    cancelled_ = false;
    {
      std::lock_guard lock(fleet_->mu_);
      if (auto it = fleet_->breaking_.find({cluster_, spec.name}); it != fleet_->breaking_.end()) breaks = it->second;
      fleet_->reads_.push_back({cluster_, spec.name, query.lower, query.upper});
      if (fleet_->failing_.count({cluster_, spec.name}))
        return Error(StatusCode::kUnavailable, "fake cluster {}: table {} is failing", cluster_, spec.name);
      for (const auto& e : fleet_->events_[{cluster_, spec.name}])
        if (query.lower <= e.at && e.at < query.upper) events.push_back(e);
    }
    // Key columns carry the id, the cursor column the time: typed as the spec says.
    TableSchema schema;
    for (const auto& k : spec.key) {
      const int at = FindColumn(spec.columns, k);
      if (at >= 0 && k != spec.cursor) schema.push_back(spec.columns[static_cast<size_t>(at)]);
    }
    schema.push_back({spec.cursor, ColumnType::kTimestamp});
    RowBatch batch(schema);
    int delivered = 0;
    // Hands `batch` to the sink, then breaks the read as planned.
    const auto deliver = [&]() -> Status {
      RETURN_IF_ERROR(sink(batch));
      batch.Clear();
      if (breaks && ++delivered == breaks->batches) {
        if (!breaks->cancel) return Error(StatusCode::kUnavailable, "fake cluster {}: the connection broke", cluster_);
        Cancel();
      }
      if (cancelled_) return Error(StatusCode::kCancelled, "fake cluster {}: reading {} was cancelled", cluster_, spec.name);
      return Status::Ok();
    };
    for (const auto& e : events) {
      for (size_t c = 0; c + 1 < schema.size(); ++c) {
        if (schema[c].type == ColumnType::kVarchar) batch.column(c).AppendString(std::to_string(e.id));
        else if (schema[c].type == ColumnType::kTimestamp) batch.column(c).AppendInt(e.at.micros());
        else if (schema[c].type == ColumnType::kDouble) batch.column(c).AppendDouble(static_cast<double>(e.id));
        else batch.column(c).AppendInt(e.id);
      }
      batch.column(schema.size() - 1).AppendInt(e.at.micros());
      if (batch.rows() >= query.batch_rows) RETURN_IF_ERROR(deliver());
    }
    if (batch.rows() > 0) RETURN_IF_ERROR(deliver());
    return Status::Ok();
  }

  void Cancel() override { cancelled_ = true; }

 private:
  FakeFleet* fleet_;
  std::string cluster_;
  std::atomic<bool> cancelled_{false};
};

void FakeFleet::Add(const std::string& cluster, const std::string& table, int64_t id, Timestamp at) {
  std::lock_guard lock(mu_);
  events_[{cluster, table}].push_back({id, at});
}

void FakeFleet::SetNow(const std::string& cluster, Timestamp now) {
  std::lock_guard lock(mu_);
  now_[cluster] = now;
}

void FakeFleet::FailTable(const std::string& cluster, const std::string& table, bool fail) {
  std::lock_guard lock(mu_);
  if (fail) failing_.insert({cluster, table});
  else failing_.erase({cluster, table});
}

void FakeFleet::FailAfterBatches(const std::string& cluster, const std::string& table, int batches, bool cancel) {
  std::lock_guard lock(mu_);
  breaking_[{cluster, table}] = {batches, cancel};
}

void FakeFleet::FailConnect(const std::string& cluster, bool fail) {
  std::lock_guard lock(mu_);
  if (fail) refusing_.insert(cluster);
  else refusing_.erase(cluster);
}

std::vector<FakeRead> FakeFleet::reads() const {
  std::lock_guard lock(mu_);
  return reads_;
}

void FakeFleet::ClearReads() {
  std::lock_guard lock(mu_);
  reads_.clear();
}

SourceFactory FakeFleet::Factory() {
  return [this](const ClusterConfig& cluster) -> Result<std::unique_ptr<Source>> {
    {
      std::lock_guard lock(mu_);
      if (refusing_.count(cluster.name))
        return Error(StatusCode::kUnavailable, "fake cluster {} refuses connections", cluster.name);
    }
    return std::unique_ptr<Source>(std::make_unique<FakeSource>(this, cluster.name));
  };
}

}  // namespace fleetlog::test
