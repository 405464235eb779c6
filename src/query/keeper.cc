#include "query/keeper.h"

#include <algorithm>
#include <utility>

#include "query/workload_hourly.h"

namespace fleetlog {

Keeper::Keeper(std::shared_ptr<duck::Database> db, std::vector<KeepJob> jobs)
    : db_(std::move(db)), jobs_(std::move(jobs)), started_(jobs_.size()), done_(jobs_.size()) {}

Keeper::~Keeper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    if (conn_) conn_->Interrupt();
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Keeper::pending() const {
  std::lock_guard lock(mu_);
  return AnyUnstarted();
}

bool Keeper::AnyUnstarted() const { return std::find(started_.begin(), started_.end(), false) != started_.end(); }

bool Keeper::Start(const std::set<std::string>& words, bool all) {
  std::lock_guard lock(mu_);
  bool queued = false;
  for (size_t i = 0; i < jobs_.size(); ++i) {
    if (started_[i]) continue;
    const auto& names = jobs_[i].names;
    if (!all && std::none_of(names.begin(), names.end(), [&](const std::string& n) { return words.count(n) > 0; }))
      continue;
    started_[i] = true;
    queue_.push_back(i);
    queued = true;
  }
  const bool pending = AnyUnstarted();
  if (!queued) return pending;
  if (!thread_.joinable()) {
    auto conn = duck::Connection::Open(db_);
    if (!conn.ok()) {
      failures_.push_back("no connection to keep rows in memory: " + conn.status().message());
      queue_.clear();
      return pending;
    }
    conn_ = std::move(conn).value();
    thread_ = std::thread([this] { Loop(); });
  }
  changed_.notify_all();
  return pending;
}

bool Keeper::Done(const std::string& name) const {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < jobs_.size(); ++i)
    if (jobs_[i].name == name) return done_[i];
  return false;
}

std::vector<std::string> Keeper::NamesLocked(const std::vector<bool>& which) const {
  std::vector<std::string> names;
  for (size_t i = 0; i < jobs_.size(); ++i)
    if (which[i]) names.push_back(jobs_[i].name);
  return names;
}

std::vector<std::string> Keeper::Finished() const {
  std::lock_guard lock(mu_);
  return NamesLocked(done_);
}

std::vector<std::string> Keeper::Started() const {
  std::lock_guard lock(mu_);
  return NamesLocked(started_);
}

std::vector<std::string> Keeper::TakeFailures() {
  std::lock_guard lock(mu_);
  return std::exchange(failures_, {});
}

void Keeper::Wait() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return stop_ || (queue_.empty() && !running_); });
}

bool Keeper::stopping() const {
  std::lock_guard lock(mu_);
  return stop_;
}

void Keeper::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    changed_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    const size_t index = queue_.front();
    const KeepJob& job = jobs_[index];
    queue_.pop_front();
    running_ = true;
    lock.unlock();
    Status kept = Status::Ok();
    for (const auto& sql : job.steps)
      if (kept.ok() && !stopping()) kept = conn_->ExecLong(sql);
    if (stopping()) return;  // the engine is going: a failure is its interruption
    if (!kept.ok())
      for (const auto& sql : job.undo) (void)conn_->Exec(sql);
    lock.lock();
    if (!kept.ok()) failures_.push_back(job.name + ": " + kept.message());
    running_ = false;
    done_[index] = kept.ok();
    changed_.notify_all();
  }
}

std::vector<std::string> TablesToKeep(const std::vector<LakeTable>& tables, int64_t budget_bytes) {
  std::vector<const LakeTable*> candidates;
  for (const auto& t : tables)
    if (t.files > 0 && t.name != kRollupTable) candidates.push_back(&t);
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const LakeTable* a, const LakeTable* b) { return a->bytes < b->bytes; });
  std::vector<std::string> kept;
  int64_t reckoned = 0;
  for (const LakeTable* t : candidates) {
    reckoned += t->bytes * (TextViewOf(t->name) ? kKeptTextBytesPerStoredByte : kKeptBytesPerStoredByte);
    if (reckoned > budget_bytes) break;
    kept.push_back(t->name);
  }
  return kept;
}

}  // namespace fleetlog
