#include "alert/alert_engine.h"

#include <spdlog/spdlog.h>

#include "alert/sources.h"
#include "alert/state_machine.h"
#include "query/engine.h"

namespace fleetlog::alert {

std::vector<std::string> AlertEngine::DueRules(Timestamp now) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& rule : config_.alerts) {
    if (!rule.interval) continue;
    auto it = last_evaluated_.find(rule.name);
    if (it == last_evaluated_.end() || now - it->second >= *rule.interval) out.push_back(rule.name);
  }
  return out;
}

Result<EvaluationReport> AlertEngine::Evaluate(LakeSession& session, Timestamp now, const std::vector<std::string>& which) {
  std::lock_guard lock(mu_);
  EvaluationReport report;
  std::vector<const AlertRuleConfig*> rules;
  for (const auto& rule : config_.alerts)
    if (which.empty() || std::find(which.begin(), which.end(), rule.name) != which.end()) rules.push_back(&rule);
  if (rules.empty()) return report;

  ASSIGN_OR_RETURN(AlertBook book, LoadBook(session.state()));
  auto silences = LoadSilences(session.state());
  if (!silences.ok()) spdlog::warn("alert silences are unreadable, so none apply: {}", silences.status().message());
  ASSIGN_OR_RETURN(std::vector<TableHealth> health,
                   ReadTableHealth(&session.state(), ExportedTables(config_), now));
  std::unique_ptr<QueryEngine> engine;
  Status engine_status = Status::Ok();
  if (std::any_of(rules.begin(), rules.end(), [](const auto* r) { return ReadsLake(*r); })) {
    auto opened = QueryEngine::Open({.lake_root = config_.lake_path, .memory_limit_bytes = config_.query.memory_limit_bytes,
                                     .threads = 1}, &session.state());
    if (opened.ok()) engine = std::move(opened).value();
    else engine_status = opened.status();
  }

  for (const AlertRuleConfig* rule : rules) {
    ++report.rules;
    last_evaluated_[rule->name] = now;
    const std::string query = DescribeSource(*rule);
    Result<std::vector<Sample>> samples =
        ReadsLake(*rule) && !engine ? Result<std::vector<Sample>>(engine_status) : EvaluateSource(*rule, engine.get(), health);
    const bool was_broken = book.broken.count(rule->name) > 0;
    if (!samples.ok()) {
      const std::string why = samples.status().message();
      report.broken.push_back(rule->name + ": " + why);
      if (!was_broken || book.broken[rule->name] != why)
        report.transitions.push_back({.kind = TransitionKind::kBroken, .rule = rule->name, .severity = rule->severity,
                                      .at = now, .active_since = now, .summary = "rule is broken: " + why, .query = query});
      book.broken[rule->name] = why;
      continue;
    }
    if (was_broken) {
      book.broken.erase(rule->name);
      report.transitions.push_back({.kind = TransitionKind::kRepaired, .rule = rule->name, .severity = rule->severity,
                                    .at = now, .active_since = now, .summary = "rule works again", .query = query});
    }
    auto moved = Advance(*rule, query, *samples, silences.ok() ? *silences : std::vector<Silence>(), now, &book.instances);
    for (auto& t : moved) report.transitions.push_back(std::move(t));
  }
  // Instances of rules no longer in the config are forgotten.
  std::erase_if(book.instances, [&](const AlertInstance& i) {
    return std::none_of(config_.alerts.begin(), config_.alerts.end(), [&](const auto& r) { return r.name == i.rule; });
  });
  book.evaluated_at = now;

  // The lake first: a transition is recorded before anyone is told of it.
  if (!report.transitions.empty()) RETURN_IF_ERROR(RecordTransitions(session, report.transitions));
  RETURN_IF_ERROR(SaveBook(session.state(), book));
  for (const Transition& t : report.transitions) {
    spdlog::info("alert {} {} {}{}", t.rule, TransitionKindName(t.kind), LabelsText(t.labels),
                 t.silenced_by.empty() ? "" : " (silenced by " + t.silenced_by + ")");
    if (!dispatcher_ || !IsNotified(t.kind) || !t.silenced_by.empty()) continue;
    for (const auto& rule : config_.alerts)
      if (rule.name == t.rule) dispatcher_->Enqueue(t, rule.receivers, rule.repeat);
  }
  return report;
}

}  // namespace fleetlog::alert
