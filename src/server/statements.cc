#include "server/statements.h"

#include <algorithm>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>

#include "core/fs.h"

namespace fleetlog {
namespace {

constexpr size_t kMaxBatch = 40;  // as the Redshift Data API
constexpr size_t kMaxName = 500;
constexpr size_t kMaxClientToken = 64;

int MostConcurrent(const std::vector<WorkgroupConfig>& workgroups) {
  int most = 1;
  for (const auto& wg : workgroups) most = std::max(most, wg.max_concurrent);
  return most;
}

const char* const kStatusNames[] = {"SUBMITTED", "PICKED", "STARTED", "FINISHED", "ABORTED", "FAILED"};

std::string NewStatementId() {
  const std::string h = RandomHex(16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

Duration Elapsed(Timestamp from, Timestamp to) { return to > from ? to - from : Duration(); }

}  // namespace

const char* StatementStatusName(StatementStatus status) { return kStatusNames[static_cast<int>(status)]; }

std::optional<StatementStatus> ParseStatementStatus(std::string_view name) {
  for (int i = 0; i < 6; ++i)
    if (name == kStatusNames[i]) return static_cast<StatementStatus>(i);
  return std::nullopt;
}

StatementService::StatementService(StatementServiceOptions options, StateStore* state)
    : options_(std::move(options)),
      state_(state),
      clock_(options_.clock ? options_.clock : &system_clock_),
      workgroups_(options_.workgroups),
      // As many idle workers per workgroup as statements may run in one at a time (the
      // dashboard asks for its panels together); their memory counts against the budget.
      pool_({.binary = options_.query_worker, .lake_root = options_.lake_root, .threads = options_.engine_threads,
             .max_idle_per_workgroup = MostConcurrent(options_.workgroups),
             .cursor_columns = options_.cursor_columns},
            state) {
  memory_budget_ = options_.memory_budget;
  if (memory_budget_ <= 0) memory_budget_ = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / 2;
}

StatementService::~StatementService() { Stop(); }

Status StatementService::Start() {
  RETURN_IF_ERROR(CreatePrivateDirs(options_.results_dir).WithContext("the result folder"));
  // One server per result folder: two would restore, expire and overwrite each other's
  // statements. The lock is the kernel's, so it goes with the process however it ends.
  if (lock_fd_ < 0) {
    const std::string lock_path = options_.results_dir + "/.lock";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);  // outside the Env: flock, dropped by the kernel with the process
    if (lock_fd_ < 0) return IoError("cannot open {}: {}", lock_path, std::strerror(errno));
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(lock_fd_);
      lock_fd_ = -1;
      return Status(StatusCode::kUnavailable,
                    fmt::format("another fleetlog server uses the result folder {}; give each server its own "
                                "[server] results_dir", options_.results_dir));
    }
  }
  std::vector<StatementPtr> interrupted;
  {
    std::lock_guard lock(mu_);
    if (started_) return Status::Ok();
    started_ = true;
    interrupted = RestoreLocked();
  }
  for (const auto& st : interrupted) Persist(st);
  std::lock_guard lock(mu_);
  int workers = options_.workers;
  if (workers <= 0) {
    for (const auto& wg : options_.workgroups) workers += wg.max_concurrent;
    workers = std::clamp(workers, 1, 32);
  }
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  threads_.emplace_back([this] { WatchdogLoop(); });
  threads_.emplace_back([this] { WarmLoop(); });
  return Status::Ok();
}

void StatementService::Stop() {
  std::vector<StatementPtr> aborted;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& [seq, st] : by_seq_) {
      if (st->status == StatementStatus::kSubmitted) {
        workgroups_.RemoveQueued(st->workgroup, st->id, Outcome::kAborted);
        st->status = StatementStatus::kAborted;
        st->ended = st->updated = Now();
        for (auto& sub : st->subs) sub.status = StatementStatus::kAborted, sub.error = "the server shut down";
        aborted.push_back(st);
      } else if (!IsTerminal(st->status)) {
        RequestStopLocked(*st, StopReason::kShutdown);
      }
    }
    if (warming_) warming_->Kill();
  }
  for (const auto& st : aborted) Persist(st);
  work_cv_.notify_all();
  stop_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, waiter] : waiters_) wakes.push_back(std::move(waiter.wake));
    waiters_.clear();
  }
  Wake(wakes);
  while (pool_.EvictIdle()) {
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);  // another server may take the folder now
  lock_fd_ = -1;
}

Result<std::string> StatementService::Execute(const Principal& who, const ExecuteRequest& request) {
  if (request.sqls.empty())
    return InvalidArgument("{}", request.batch ? "\"sqls\" needs at least one statement" : "\"sql\" is required");
  if (!request.batch && request.sqls.size() != 1) return InvalidArgument("one statement per request; use the batch call");
  if (request.sqls.size() > kMaxBatch) return InvalidArgument("a batch holds at most {} statements", kMaxBatch);
  if (request.name.size() > kMaxName) return InvalidArgument("\"name\" is longer than {} characters", kMaxName);
  if (request.client_token.size() > kMaxClientToken)
    return InvalidArgument("\"client_token\" is longer than {} characters", kMaxClientToken);
  const std::string workgroup = !request.workgroup.empty() ? request.workgroup
                                : !who.workgroup.empty()   ? who.workgroup
                                                           : "default";
  if (!who.may_use(workgroup))
    return Error(StatusCode::kPermissionDenied, "token \"{}\" may use workgroup \"{}\" only", who.name, who.workgroup);

  auto st = std::make_shared<Statement>();
  st->batch = request.batch;
  st->name = request.name;
  st->workgroup = workgroup;
  st->principal = who.name;
  std::string digest_input = workgroup + '\x1f' + request.name;
  for (size_t i = 0; i < request.sqls.size(); ++i) {
    if (request.sqls[i].find_first_not_of(" \t\r\n;") == std::string::npos)
      return InvalidArgument("statement {} is empty", i + 1);
    auto bound = BindParameters(request.sqls[i], request.parameters);
    if (!bound.ok()) return request.batch ? bound.status().WithContext(fmt::format("statement {}", i + 1)) : bound.status();
    digest_input += '\x1f' + *bound;
    st->subs.push_back({.sql = std::move(bound).value()});
  }
  st->request_digest = Sha256Hex(digest_input);

  {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(const bool queued, EnqueueLocked(who, request.client_token, st));
    if (!queued) return st->id;  // a repeat of an earlier request
  }
  Persist(st);
  return st->id;
}

// Returns false when `st` repeats the request of an earlier client token (st->id is then
// that statement's id), true when it was queued under a new id.
Result<bool> StatementService::EnqueueLocked(const Principal& who, const std::string& client_token,
                                             const StatementPtr& st) {
  const std::string& workgroup = st->workgroup;
  if (stopping_) return Status(StatusCode::kUnavailable, "the server is shutting down");
  if (workgroups_.Find(workgroup) == nullptr) return InvalidArgument("unknown workgroup \"{}\"", workgroup);
  if (!client_token.empty()) {
    st->client_key = who.name + '\x1f' + client_token;
    if (auto it = by_client_.find(st->client_key); it != by_client_.end()) {
      const auto& previous = by_id_.at(it->second);
      if (previous->request_digest != st->request_digest)
        return InvalidArgument("client_token \"{}\" was already used for a different request", client_token);
      st->id = previous->id;
      return false;
    }
  }
  st->id = NewStatementId();
  RETURN_IF_ERROR(workgroups_.Enqueue(workgroup, st->id));
  st->seq = next_seq_++;
  st->created = st->updated = Now();
  by_id_[st->id] = st;
  by_seq_[st->seq] = st;
  if (!st->client_key.empty()) by_client_[st->client_key] = st->id;
  EvictLocked();
  work_cv_.notify_one();
  return true;
}

StatementService::StatementPtr StatementService::FindLocked(const Principal& who, const std::string& id, int* sub) const {
  std::string base = id;
  *sub = -1;
  if (const size_t colon = id.rfind(':'); colon != std::string::npos) {
    base = id.substr(0, colon);
    const std::string n = id.substr(colon + 1);
    if (n.empty() || n.size() > 3 || !std::all_of(n.begin(), n.end(), ::isdigit)) return nullptr;
    *sub = std::stoi(n) - 1;
  }
  auto it = by_id_.find(base);
  if (it == by_id_.end() || !who.may_use(it->second->workgroup)) return nullptr;
  if (*sub != -1 && (!it->second->batch || *sub < 0 || *sub >= static_cast<int>(it->second->subs.size())))
    return nullptr;
  return it->second;
}

StatementInfo StatementService::InfoLocked(const Statement& st, int sub) const {
  const Timestamp now = Now();
  StatementInfo info{.id = st.id, .name = st.name, .workgroup = st.workgroup, .is_batch = st.batch && sub < 0,
                     .status = st.status, .created_at = st.created, .updated_at = st.updated};
  const bool picked = st.status != StatementStatus::kSubmitted && st.picked.micros() != 0;
  info.queue = Elapsed(st.created, picked ? st.picked : (IsTerminal(st.status) ? st.ended : now));
  if (sub >= 0 || !st.batch) {
    const SubStatement& s = st.subs[static_cast<size_t>(std::max(sub, 0))];
    if (sub >= 0) {
      info.id += ":" + std::to_string(sub + 1);
      info.status = s.status;
      if (s.ended.micros() != 0) info.updated_at = s.ended;
      else if (s.started.micros() != 0) info.updated_at = s.started;
    }
    info.sql = s.sql;
    info.duration = s.started.micros() == 0 ? Duration() : Elapsed(s.started, s.ended.micros() ? s.ended : now);
    info.result_rows = s.rows;
    info.result_bytes = s.bytes;
    info.has_result_set = s.has_result;
    info.error = s.error;
    return info;
  }
  info.duration = st.started.micros() == 0 ? Duration() : Elapsed(st.started, st.ended.micros() ? st.ended : now);
  for (size_t i = 0; i < st.subs.size(); ++i) {
    StatementInfo child = InfoLocked(st, static_cast<int>(i));
    info.sql += (i ? ";\n" : "") + child.sql;
    info.result_rows += child.result_rows;
    info.result_bytes += child.result_bytes;
    info.has_result_set = info.has_result_set || child.has_result_set;
    if (!child.error.empty()) info.error = child.id + ": " + child.error;
    info.sub_statements.push_back(std::move(child));
  }
  return info;
}

Result<StatementInfo> StatementService::Describe(const Principal& who, const std::string& id) {
  std::lock_guard lock(mu_);
  int sub = -1;
  StatementPtr st = FindLocked(who, id, &sub);
  if (!st) return Error(StatusCode::kNotFound, "no statement \"{}\" (unknown, or its result expired)", id);
  return InfoLocked(*st, sub);
}

Status StatementService::Cancel(const Principal& who, const std::string& id) {
  std::unique_lock lock(mu_);
  int sub = -1;
  StatementPtr st = FindLocked(who, id, &sub);
  if (!st || sub >= 0) return Error(StatusCode::kNotFound, "no statement \"{}\" (cancel a batch by its own id)", id);
  if (IsTerminal(st->status))
    return InvalidArgument("statement {} is already {}; only SUBMITTED, PICKED or STARTED statements can be cancelled",
                           id, StatementStatusName(st->status));
  if (st->status == StatementStatus::kSubmitted && workgroups_.RemoveQueued(st->workgroup, st->id, Outcome::kAborted)) {
    st->status = StatementStatus::kAborted;
    st->ended = st->updated = Now();
    for (auto& s : st->subs) s.status = StatementStatus::kAborted, s.error = "cancelled before it started";
    const auto wakes = TakeWaitersLocked(st->id, /*subs=*/true);
    lock.unlock();
    Wake(wakes);
    Persist(st);
    return Status::Ok();
  }
  RequestStopLocked(*st, StopReason::kCancel);
  return Status::Ok();
}

void StatementService::WhenEnded(const Principal& who, const std::string& id, Duration wait,
                                 std::function<void()> wake) {
  {
    std::lock_guard lock(mu_);
    int sub = -1;
    const StatementPtr st = FindLocked(who, id, &sub);
    const bool ended = !st || IsTerminal(sub < 0 ? st->status : st->subs[static_cast<size_t>(sub)].status);
    if (!ended && !stopping_) {
      waiters_.emplace(id, Waiter{std::chrono::steady_clock::now() + std::chrono::microseconds(wait.micros()),
                                  std::move(wake)});
      return;
    }
  }
  wake();
}

std::vector<std::function<void()>> StatementService::TakeWaitersLocked(const std::string& id, bool subs) {
  std::vector<std::function<void()>> wakes;
  // "<id>" sorts right before "<id>:1", "<id>:2", ...
  for (auto it = waiters_.lower_bound(id); it != waiters_.end();) {
    const bool mine = it->first == id || (subs && it->first.size() > id.size() && it->first.starts_with(id) &&
                                          it->first[id.size()] == ':');
    if (!mine) break;
    wakes.push_back(std::move(it->second.wake));
    it = waiters_.erase(it);
  }
  return wakes;
}

void StatementService::Wake(const std::vector<std::function<void()>>& wakes) {
  for (const auto& wake : wakes) wake();
}

StatementService::ListPage StatementService::List(const Principal& who, const ListFilter& filter) {
  std::lock_guard lock(mu_);
  ListPage page;
  auto it = filter.before ? by_seq_.lower_bound(*filter.before) : by_seq_.end();
  while (it != by_seq_.begin()) {
    --it;
    const Statement& st = *it->second;
    if (!who.may_use(st.workgroup)) continue;
    if (filter.status && st.status != *filter.status) continue;
    if (st.name.compare(0, filter.name_prefix.size(), filter.name_prefix) != 0) continue;
    if (static_cast<int>(page.statements.size()) == (filter.limit > 0 ? filter.limit : options_.list_page_size)) {
      page.next = it->first + 1;
      break;
    }
    page.statements.push_back(InfoLocked(st, -1));
  }
  return page;
}

Result<StoredResult> StatementService::GetResult(const Principal& who, const std::string& id) {
  std::string dir;
  {
    std::lock_guard lock(mu_);
    int sub = -1;
    StatementPtr st = FindLocked(who, id, &sub);
    if (!st) return Error(StatusCode::kNotFound, "no statement \"{}\" (unknown, or its result expired)", id);
    if (st->batch && sub < 0)
      return InvalidArgument("{} is a batch; ask for the result of a sub-statement, {}:1 to {}:{}", id, id, id, st->subs.size());
    const SubStatement& s = st->subs[static_cast<size_t>(std::max(sub, 0))];
    if (s.status != StatementStatus::kFinished)
      return InvalidArgument("statement {} is {}{}{}; a result exists once it is FINISHED", id, StatementStatusName(s.status),
                             s.error.empty() ? "" : ": ", s.error);
    if (!s.has_result) return InvalidArgument("statement {} has no result set", id);
    dir = ResultDir(st->id, std::max(sub, 0));
  }
  return StoredResult::Open(dir);
}

std::vector<std::pair<WorkgroupConfig, WorkgroupCounters>> StatementService::WorkgroupStats() {
  std::lock_guard lock(mu_);
  return workgroups_.Snapshot();
}

Result<std::vector<LakeTable>> StatementService::Tables() {
  ASSIGN_OR_RETURN(auto snapshot, pool_.Snapshot());
  return LakeTables(*snapshot);
}

void StatementService::ForgetLocked(const StatementPtr& st) {
  RemoveStoredResult(options_.results_dir + "/" + st->id);
  if (!st->client_key.empty()) by_client_.erase(st->client_key);
  by_seq_.erase(st->seq);
  by_id_.erase(st->id);
}

int StatementService::ExpireResults() {
  std::lock_guard lock(mu_);
  const Timestamp cutoff = Now() - options_.result_ttl;
  std::vector<StatementPtr> expired;
  for (const auto& [seq, st] : by_seq_)
    if (IsTerminal(st->status) && st->ended <= cutoff) expired.push_back(st);
  for (const auto& st : expired) ForgetLocked(st);
  return static_cast<int>(expired.size());
}

void StatementService::EvictLocked() {
  for (auto it = by_seq_.begin(); by_seq_.size() > options_.max_retained && it != by_seq_.end();) {
    StatementPtr st = (it++)->second;
    if (IsTerminal(st->status)) ForgetLocked(st);
  }
}

std::string StatementService::ResultDir(const std::string& id, int sub) const {
  return options_.results_dir + "/" + id + "/" + std::to_string(sub + 1);
}

}  // namespace fleetlog
