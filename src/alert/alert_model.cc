#include "alert/alert_model.h"

namespace fleetlog::alert {

std::string LabelsText(const LabelSet& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

const char* InstanceStateName(InstanceState state) {
  switch (state) {
    case InstanceState::kInactive: return "inactive";
    case InstanceState::kPending: return "pending";
    case InstanceState::kFiring: return "firing";
  }
  return "?";
}

const char* TransitionKindName(TransitionKind kind) {
  switch (kind) {
    case TransitionKind::kPending: return "pending";
    case TransitionKind::kFiring: return "firing";
    case TransitionKind::kRepeat: return "repeat";
    case TransitionKind::kResolved: return "resolved";
    case TransitionKind::kCleared: return "cleared";
    case TransitionKind::kBroken: return "broken";
    case TransitionKind::kRepaired: return "repaired";
  }
  return "?";
}

bool IsNotified(TransitionKind kind) {
  return kind == TransitionKind::kFiring || kind == TransitionKind::kRepeat || kind == TransitionKind::kResolved;
}

bool Silence::Matches(const std::string& rule_name, const LabelSet& labels, Timestamp now) const {
  if (now >= expires_at) return false;
  if (!rule.empty() && rule != rule_name) return false;
  for (const auto& [k, v] : matchers) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace fleetlog::alert
