// Statement records: each statement's metadata as <results_dir>/<id>/statement.json, next to
// its results, so statements and results survive a restart of the server. See statements.h.
//
// A record is written when a statement is queued and again when it ends (never while it
// runs), through a temporary file and a rename, so a reader sees one whole version; it is
// not fsynced (see Persist). A statement whose last record is not terminal was queued or
// running when the server stopped: on restart it becomes ABORTED.
#include <algorithm>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/fs.h"
#include "server/statements.h"

namespace fleetlog {
namespace {

using nlohmann::json;

constexpr std::string_view kRecordFile = "statement.json";
constexpr int kRecordVersion = 1;
constexpr std::string_view kInterrupted = "the server stopped before the statement ended; submit it again";
constexpr size_t kMaxRecordSubs = 40;      // as a batch
constexpr size_t kMaxRecordText = 4096;    // names, principals, client keys, digests

}  // namespace

// A record is read back from disk, where anything with the server's user's rights could
// have changed it: it is checked against what this server would have written, not trusted.
Status StatementService::ValidateRecordLocked(const Statement& st, const std::string& folder) const {
  if (st.id != folder || !LooksLikeStatementId(st.id)) return InvalidArgument("the id does not match its folder");
  if (workgroups_.Find(st.workgroup) == nullptr) return InvalidArgument("unknown workgroup \"{}\"", st.workgroup);
  if (st.subs.empty() || st.subs.size() > kMaxRecordSubs || (!st.batch && st.subs.size() != 1))
    return InvalidArgument("{} statements", st.subs.size());
  for (const std::string* text : {&st.name, &st.principal, &st.client_key, &st.request_digest})
    if (text->size() > kMaxRecordText) return InvalidArgument("a field is too long");
  const Timestamp latest = Now() + Duration::Hours(24);
  for (Timestamp t : {st.created, st.updated, st.picked, st.started, st.ended})
    if (t.micros() < 0 || t > latest) return InvalidArgument("a time out of range");
  for (const SubStatement& sub : st.subs) {
    if (sub.rows < 0 || sub.bytes < 0) return InvalidArgument("negative counts");
    if (sub.has_result && sub.status != StatementStatus::kFinished) return InvalidArgument("a result of an unfinished statement");
    for (Timestamp t : {sub.started, sub.ended})
      if (t.micros() < 0 || t > latest) return InvalidArgument("a time out of range");
  }
  return Status::Ok();
}

namespace {

}  // namespace

std::string StatementService::RecordPath(const std::string& id) const {
  return fmt::format("{}/{}/{}", options_.results_dir, id, kRecordFile);
}

std::string StatementService::RecordTextLocked(const Statement& st) {
  json subs = json::array();
  for (const SubStatement& s : st.subs)
    subs.push_back({{"sql", s.sql}, {"status", StatementStatusName(s.status)}, {"started", s.started.micros()},
                    {"ended", s.ended.micros()}, {"rows", s.rows}, {"bytes", s.bytes}, {"has_result", s.has_result},
                    {"error", s.error}});
  json record = {{"version", kRecordVersion}, {"id", st.id}, {"name", st.name}, {"workgroup", st.workgroup},
                 {"principal", st.principal}, {"client_key", st.client_key}, {"request_digest", st.request_digest},
                 {"batch", st.batch}, {"status", StatementStatusName(st.status)}, {"created", st.created.micros()},
                 {"updated", st.updated.micros()}, {"picked", st.picked.micros()}, {"started", st.started.micros()},
                 {"ended", st.ended.micros()}, {"subs", std::move(subs)}};
  return record.dump();
}

Result<StatementService::StatementPtr> StatementService::ParseRecord(std::string_view text) {
  const json r = json::parse(text, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return InvalidArgument("not JSON");
  if (r.value("version", 0) != kRecordVersion) return InvalidArgument("record version {}", r.value("version", 0));
  try {
    auto st = std::make_shared<Statement>();
    auto status = [](const json& j) {
      auto s = ParseStatementStatus(j.at("status").get<std::string>());
      if (!s) throw std::invalid_argument("unknown status");
      return *s;
    };
    auto time = [](const json& j, const char* key) { return Timestamp::FromMicros(j.at(key).get<int64_t>()); };
    st->id = r.at("id").get<std::string>();
    st->name = r.at("name").get<std::string>();
    st->workgroup = r.at("workgroup").get<std::string>();
    st->principal = r.at("principal").get<std::string>();
    st->client_key = r.at("client_key").get<std::string>();
    st->request_digest = r.at("request_digest").get<std::string>();
    st->batch = r.at("batch").get<bool>();
    st->status = status(r);
    st->created = time(r, "created");
    st->updated = time(r, "updated");
    st->picked = time(r, "picked");
    st->started = time(r, "started");
    st->ended = time(r, "ended");
    for (const json& s : r.at("subs"))
      st->subs.push_back({.sql = s.at("sql").get<std::string>(), .status = status(s), .started = time(s, "started"),
                          .ended = time(s, "ended"), .rows = s.at("rows").get<int64_t>(),
                          .bytes = s.at("bytes").get<int64_t>(), .has_result = s.at("has_result").get<bool>(),
                          .error = s.at("error").get<std::string>()});
    if (st->subs.empty()) return InvalidArgument("no statements");
    return st;
  } catch (const std::exception& e) {
    return InvalidArgument("{}", e.what());
  }
}

void StatementService::Persist(const StatementPtr& st) {
  std::string text;
  uint64_t version;
  {
    std::lock_guard lock(mu_);
    if (by_id_.find(st->id) == by_id_.end()) return;  // forgotten meanwhile
    text = RecordTextLocked(*st);
    version = ++st->record_version;
  }
  // Records of one statement are written in the order they were taken: an older version
  // never overwrites a newer one.
  std::lock_guard write(st->record_mu);
  if (version < st->record_written) return;
  Status s = CreatePrivateDirs(options_.results_dir + "/" + st->id);
  // Not fsynced: the record is written before the client gets the id, and an fsync of it and
  // its folder cost that call milliseconds. It survives the server however its process ends
  // (the kernel has it); a crash of the machine may lose it, as it loses the unsynced
  // results beside it and every statement then running.
  if (s.ok()) s = Env::Default()->WriteFile(RecordPath(st->id), text, {.mode = 0600, .sync = false});
  if (!s.ok()) {
    // The statement goes on in memory; only a restart would lose it.
    spdlog::warn("cannot record statement {} ({}); it will not survive a restart", st->id, s.message());
    return;
  }
  st->record_written = version;
  std::lock_guard lock(mu_);
  if (by_id_.find(st->id) == by_id_.end()) RemoveStoredResult(options_.results_dir + "/" + st->id);  // forgotten meanwhile
}

std::vector<StatementService::StatementPtr> StatementService::RestoreLocked() {
  std::vector<StatementPtr> restored, interrupted;
  Env& env = *Env::Default();
  auto files = env.ListFiles(options_.results_dir);
  if (!files.ok()) spdlog::warn("cannot list the result folder: {}", files.status().message());
  std::set<std::string> folders;  // one per statement
  for (const auto& f : files.ok() ? *files : std::vector<FileInfo>{})
    if (const size_t slash = f.name.find('/'); slash != std::string::npos) folders.insert(f.name.substr(0, slash));
  for (const std::string& name : folders) {
    if (!LooksLikeStatementId(name)) continue;
    const std::string folder = options_.results_dir + "/" + name;
    auto text = env.ReadFile(folder + "/" + std::string(kRecordFile));
    auto st = text.ok() ? ParseRecord(*text) : Result<StatementPtr>(text.status());
    const Status valid = st.ok() ? ValidateRecordLocked(**st, name) : st.status();
    std::error_code link_ec;
    if (!valid.ok() || std::filesystem::is_symlink(folder, link_ec)) {
      // Written by a version that died before its first record, damaged, or not ours.
      spdlog::warn("removing result folder {}: no valid statement record ({})", folder,
                   valid.ok() ? "a symlink" : valid.message());
      RemoveStoredResult(folder);
      continue;
    }
    restored.push_back(std::move(st).value());
  }
  std::sort(restored.begin(), restored.end(), [](const auto& a, const auto& b) {
    return std::tie(a->created, a->id) < std::tie(b->created, b->id);
  });
  const Timestamp now = Now();
  for (auto& st : restored) {
    if (!IsTerminal(st->status)) {
      st->status = StatementStatus::kAborted;
      st->ended = st->updated = now;
      for (size_t i = 0; i < st->subs.size(); ++i) {
        SubStatement& sub = st->subs[i];
        if (IsTerminal(sub.status)) continue;
        sub.status = StatementStatus::kAborted;
        sub.error = std::string(kInterrupted);
        if (sub.started.micros() != 0) sub.ended = now;
        RemoveStoredResult(ResultDir(st->id, static_cast<int>(i)));  // a partial result
      }
      interrupted.push_back(st);
    }
    st->seq = next_seq_++;
    by_id_[st->id] = st;
    by_seq_[st->seq] = st;
    if (!st->client_key.empty()) by_client_[st->client_key] = st->id;
  }
  if (!restored.empty())
    spdlog::info("restored {} statements from {} ({} interrupted by the last stop, now ABORTED)", restored.size(),
                 options_.results_dir, interrupted.size());
  return interrupted;
}

bool LooksLikeStatementId(const std::string& name) {
  if (name.size() != 36) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = name[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace fleetlog
