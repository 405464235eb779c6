#include "server/workgroups.h"

#include <algorithm>

namespace fleetlog {

Workgroups::Workgroups(const std::vector<WorkgroupConfig>& configs) {
  for (const auto& c : configs) groups_.push_back({.config = c});
}

const WorkgroupConfig* Workgroups::Find(const std::string& name) const {
  for (const auto& g : groups_)
    if (g.config.name == name) return &g.config;
  return nullptr;
}

Status Workgroups::Enqueue(const std::string& name, const std::string& id) {
  for (auto& g : groups_) {
    if (g.config.name != name) continue;
    if (g.counters.running + g.counters.queued >= g.config.max_concurrent + g.config.max_queued) {
      g.counters.rejected++;
      return Error(StatusCode::kResourceExhausted,
                   "workgroup \"{}\" is full: {} statements running (max_concurrent) and {} queued (max_queued); "
                   "retry later", name, g.counters.running, g.counters.queued);
    }
    g.queue.push_back(id);
    g.counters.queued++;
    return Status::Ok();
  }
  return InvalidArgument("unknown workgroup \"{}\"", name);
}

std::optional<Workgroups::Picked> Workgroups::Pick(int64_t memory_free) {
  for (size_t k = 0; k < groups_.size(); ++k) {
    auto& g = groups_[(next_turn_ + k) % groups_.size()];
    if (g.queue.empty() || g.counters.running >= g.config.max_concurrent) continue;
    if (g.config.memory_limit_bytes > memory_free) continue;
    next_turn_ = (next_turn_ + k + 1) % groups_.size();
    Picked p{.workgroup = g.config.name, .id = std::move(g.queue.front())};
    g.queue.pop_front();
    g.counters.queued--;
    g.counters.running++;
    return p;
  }
  return std::nullopt;
}

bool Workgroups::Startable() const {
  for (const auto& g : groups_)
    if (!g.queue.empty() && g.counters.running < g.config.max_concurrent) return true;
  return false;
}

void Workgroups::AddQueueWait(const std::string& name, Duration waited) {
  if (Group* g = Named(name)) g->counters.queue_wait = g->counters.queue_wait + waited;
}

bool Workgroups::RemoveQueued(const std::string& name, const std::string& id, Outcome outcome) {
  for (auto& g : groups_) {
    if (g.config.name != name) continue;
    auto it = std::find(g.queue.begin(), g.queue.end(), id);
    if (it == g.queue.end()) return false;
    g.queue.erase(it);
    g.counters.queued--;
    Count(g.counters, outcome);
    return true;
  }
  return false;
}

void Workgroups::Finish(const std::string& name, Outcome outcome) {
  for (auto& g : groups_) {
    if (g.config.name != name) continue;
    g.counters.running--;
    Count(g.counters, outcome);
  }
}

void Workgroups::AddKeepFailures(const std::string& name, int64_t n) {
  if (Group* g = Named(name)) g->counters.keep_failures += n;
}

void Workgroups::AddWarmUp(const std::string& name) {
  if (Group* g = Named(name)) g->counters.warm_ups++;
}

Workgroups::Group* Workgroups::Named(const std::string& name) {
  for (auto& g : groups_)
    if (g.config.name == name) return &g;
  return nullptr;
}

void Workgroups::Count(WorkgroupCounters& c, Outcome outcome) {
  switch (outcome) {
    case Outcome::kFinished: c.finished++; break;
    case Outcome::kFailed: c.failed++; break;
    case Outcome::kAborted: c.aborted++; break;
  }
}

std::vector<std::pair<WorkgroupConfig, WorkgroupCounters>> Workgroups::Snapshot() const {
  std::vector<std::pair<WorkgroupConfig, WorkgroupCounters>> out;
  for (const auto& g : groups_) out.emplace_back(g.config, g.counters);
  return out;
}

}  // namespace fleetlog
