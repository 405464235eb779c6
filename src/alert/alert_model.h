// The values alerting works with: samples a rule's source returns, alert instances and their
// states, transitions, silences and deliveries. An instance is one group of one rule (its
// labels, e.g. {cluster="a", table="stl_query"}), so one cluster firing does not mask another.
//
//   inactive --(condition holds)--> pending --(held for `for`)--> firing --(no longer)--> resolved
//   pending --(no longer holds)--> cleared (never notified)
//   firing --(every `repeat`)--> repeat (a reminder notification)
//
// Thread-safety: value types.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"

namespace fleetlog::alert {

using LabelSet = std::map<std::string, std::string>;

// "cluster=a,table=stl_query": the canonical text of a label set (the instance's key).
std::string LabelsText(const LabelSet& labels);

// One row of a rule's source: the grouping labels and the value.
struct Sample {
  LabelSet labels;
  double value = 0;
  std::map<std::string, std::string> annotations;  // e.g. the anomaly's attribution
};

enum class InstanceState { kInactive, kPending, kFiring };
const char* InstanceStateName(InstanceState state);

struct AlertInstance {
  std::string rule;
  LabelSet labels;
  InstanceState state = InstanceState::kInactive;
  double value = 0;
  std::map<std::string, std::string> annotations;
  Timestamp active_since;   // when the condition started to hold (pending)
  Timestamp fired_at;       // when it turned firing
  Timestamp last_notified;  // firing or the last repeat
  Timestamp last_seen;      // condition absent: when the group last had a row
};

// What happened to an instance at one evaluation: the rows of the lake table `alert_events`.
enum class TransitionKind { kPending, kFiring, kRepeat, kResolved, kCleared, kBroken, kRepaired };
const char* TransitionKindName(TransitionKind kind);
// Whether people hear of it (firing, repeat, resolved), unless silenced.
bool IsNotified(TransitionKind kind);

struct Transition {
  TransitionKind kind = TransitionKind::kPending;
  std::string rule;
  std::string severity;
  LabelSet labels;  // the instance's grouping labels plus the rule's own labels
  double value = 0;
  Timestamp at;
  Timestamp active_since;
  std::map<std::string, std::string> annotations;
  std::string summary;      // for people
  std::string query;        // the rule's SQL, or a description of its source
  std::string silenced_by;  // the silence's id when silenced: recorded, not notified
};

// A silence mutes notifications of the instances it matches until it expires. Empty `rule`
// matches every rule; every matcher must equal the instance's label.
struct Silence {
  std::string id;
  std::string rule;
  LabelSet matchers;
  Timestamp created_at, expires_at;
  std::string comment;
  bool Matches(const std::string& rule_name, const LabelSet& labels, Timestamp now) const;
};

// One attempt to deliver one transition to one receiver.
struct Delivery {
  std::string receiver;
  std::string rule;
  std::string labels;   // LabelsText
  std::string kind;     // the transition's TransitionKindName
  Timestamp at;
  int attempt = 0;
  bool sent = false;
  bool final = false;   // no retry follows (sent, or attempts used up)
  std::string error;    // why it failed
};

}  // namespace fleetlog::alert
