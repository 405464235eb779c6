#include "alert/state_machine.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

namespace fleetlog::alert {
namespace {

std::string FormatValue(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{:.4g}", v);
}

}  // namespace

bool ConditionHolds(const AlertRuleConfig& rule, double value) {
  switch (rule.condition) {
    case AlertCondition::kAbove: return value > rule.threshold;
    case AlertCondition::kBelow: return value < rule.threshold;
    case AlertCondition::kEqual: return value == rule.threshold;
    case AlertCondition::kAbsent: return false;
  }
  return false;
}

std::string Summarize(const AlertRuleConfig& rule, const LabelSet& labels, double value) {
  if (rule.summary.empty()) {
    const std::string where = labels.empty() ? "" : " for " + LabelsText(labels);
    if (rule.condition == AlertCondition::kAbsent) return fmt::format("{}: no rows{}", rule.name, where);
    return fmt::format("{}: value {} is {} {}{}", rule.name, FormatValue(value), AlertConditionName(rule.condition),
                       FormatValue(rule.threshold), where);
  }
  std::string out;
  const std::string& s = rule.summary;
  for (size_t i = 0; i < s.size(); ++i) {
    const size_t end = s[i] == '{' ? s.find('}', i) : std::string::npos;
    if (end == std::string::npos) {
      out += s[i];
      continue;
    }
    const std::string name = s.substr(i + 1, end - i - 1);
    if (name == "value") out += FormatValue(value);
    else if (name == "rule") out += rule.name;
    else if (name.starts_with("labels.") && labels.count(name.substr(7))) out += labels.at(name.substr(7));
    else out += s.substr(i, end - i + 1);
    i = end;
  }
  return out;
}

std::vector<Transition> Advance(const AlertRuleConfig& rule, const std::string& query, const std::vector<Sample>& samples,
                                const std::vector<Silence>& silences, Timestamp now, std::vector<AlertInstance>* instances) {
  std::vector<Transition> out;
  auto find = [&](const LabelSet& labels) -> AlertInstance* {
    for (auto& i : *instances)
      if (i.rule == rule.name && i.labels == labels) return &i;
    return nullptr;
  };
  auto emit = [&](TransitionKind kind, const AlertInstance& inst) {
    Transition t{.kind = kind, .rule = rule.name, .severity = rule.severity, .labels = inst.labels,
                 .value = inst.value, .at = now, .active_since = inst.active_since, .annotations = inst.annotations,
                 .summary = Summarize(rule, inst.labels, inst.value), .query = query};
    for (const auto& [k, v] : rule.labels) t.labels.emplace(k, v);  // the group's own labels win
    for (const auto& s : silences)
      if (s.Matches(rule.name, t.labels, now)) t.silenced_by = s.id;
    out.push_back(std::move(t));
  };

  // Which groups are active now, with their sample.
  std::vector<std::pair<LabelSet, const Sample*>> active;
  std::set<LabelSet> present;
  for (const Sample& s : samples) present.insert(s.labels);
  if (rule.condition == AlertCondition::kAbsent) {
    // Every group seen before that has no row now; with no group ever seen, the rule as a
    // whole (empty labels) when the source returned nothing at all.
    bool any_known = false;
    for (auto& i : *instances) {
      if (i.rule != rule.name || i.labels.empty()) continue;
      any_known = true;
      if (!present.count(i.labels)) active.emplace_back(i.labels, nullptr);
    }
    if (!any_known && samples.empty()) active.emplace_back(LabelSet{}, nullptr);
    for (const Sample& s : samples) {  // remember the groups, so their absence can fire later
      if (s.labels.empty()) continue;
      if (AlertInstance* i = find(s.labels)) i->last_seen = now;
      else instances->push_back({.rule = rule.name, .labels = s.labels, .last_seen = now});
    }
  } else {
    for (const Sample& s : samples)
      if (ConditionHolds(rule, s.value)) active.emplace_back(s.labels, &s);
  }

  std::set<LabelSet> active_keys;
  for (const auto& [labels, sample] : active) {
    active_keys.insert(labels);
    AlertInstance* inst = find(labels);
    if (!inst) {
      instances->push_back({.rule = rule.name, .labels = labels});
      inst = &instances->back();
    }
    if (sample) {
      inst->value = sample->value;
      inst->annotations = sample->annotations;
    }
    if (inst->state == InstanceState::kInactive) {
      inst->state = InstanceState::kPending;
      inst->active_since = now;
      emit(TransitionKind::kPending, *inst);
    }
    if (inst->state == InstanceState::kPending && now - inst->active_since >= rule.for_) {
      inst->state = InstanceState::kFiring;
      inst->fired_at = inst->last_notified = now;
      emit(TransitionKind::kFiring, *inst);
    } else if (inst->state == InstanceState::kFiring && now - inst->last_notified >= rule.repeat) {
      inst->last_notified = now;
      emit(TransitionKind::kRepeat, *inst);
    }
  }

  // Instances whose condition no longer holds.
  for (auto& i : *instances) {
    if (i.rule != rule.name || active_keys.count(i.labels)) continue;
    if (i.state == InstanceState::kFiring) emit(TransitionKind::kResolved, i);
    else if (i.state == InstanceState::kPending) emit(TransitionKind::kCleared, i);
    i.state = InstanceState::kInactive;
  }
  // Inactive instances are forgotten, except the groups an absent rule remembers.
  std::erase_if(*instances, [&](const AlertInstance& i) {
    return i.rule == rule.name && i.state == InstanceState::kInactive &&
           (rule.condition != AlertCondition::kAbsent || i.labels.empty());
  });
  return out;
}

}  // namespace fleetlog::alert
