// Where alerting keeps what it knows between evaluations and processes.
//
//   state store key "alert/book"        instances and broken rules, written by the evaluator
//   state store key "alert/silences"    silences, written by `fleetlog alerts silence`
//   state store key "alert/deliveries"  the newest delivery attempts, written by the notifiers
//   lake table `alert_events`           every transition, through the lake's commit path
//
// Each key has one writer, so processes never overwrite each other's changes. The state
// store is shared by `run`, `serve` and the CLI, which is how `fleetlog alerts`, /metrics
// and /v1/alerts see the states of the running evaluator.
//
// alert_events columns (partitioned by cluster: the instance's cluster label, or "fleetlog"):
//   event_time TIMESTAMP, rule, kind (pending|firing|repeat|resolved|cleared|broken|repaired),
//   severity, labels (k=v,...), value DOUBLE, active_since TIMESTAMP, summary, query,
//   annotations (JSON), silenced_by
//
// Thread-safety: functions over the thread-safe state store and lake writer.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "alert/alert_model.h"
#include "core/status.h"
#include "exporter/writer.h"
#include "state/state_store.h"

namespace fleetlog::alert {

inline constexpr const char* kAlertEventsTable = "alert_events";

struct AlertBook {
  std::vector<AlertInstance> instances;
  std::map<std::string, std::string> broken;  // rule -> why its last evaluation failed
  Timestamp evaluated_at;
};

Result<AlertBook> LoadBook(StateStore& state);
Status SaveBook(StateStore& state, const AlertBook& book);

// Every silence, expired ones included (the CLI lists and prunes them).
Result<std::vector<Silence>> LoadSilences(StateStore& state);
Status SaveSilences(StateStore& state, const std::vector<Silence>& silences);

// The newest delivery attempts, newest last (at most kDeliveriesKept).
inline constexpr size_t kDeliveriesKept = 200;
Result<std::vector<Delivery>> LoadDeliveries(StateStore& state);
// Read-modify-write: REQUIRES the caller serializes calls (the Dispatcher does).
Status AppendDelivery(StateStore& state, const Delivery& delivery);

// Appends `transitions` to the lake table alert_events, one commit per cluster partition.
Status RecordTransitions(LakeSession& session, const std::vector<Transition>& transitions);

}  // namespace fleetlog::alert
