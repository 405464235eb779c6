// The alert evaluator: after each export cycle (and, for rules with an `interval`, on that
// interval) it reads each rule's source, advances the rule's instances (state_machine.h),
// records every transition in the lake table alert_events, saves the instances for the
// next evaluation and for readers in other processes, and hands notified transitions to the
// Dispatcher, which sends them in the background.
//
// A rule whose source fails (bad SQL, a value that is not a number) is broken: its
// instances keep their states (a broken query is not "no rows", so nothing resolves or
// fires because of it), the error is kept in the book and shown by `fleetlog alerts`,
// /metrics and /v1/alerts, and a `broken` event is recorded when it breaks and a
// `repaired` one when it works again.
// Thread-safety: Evaluate() may be called from several threads; calls run one at a time.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "alert/alert_store.h"
#include "alert/delivery.h"
#include "core/config.h"
#include "exporter/writer.h"

namespace fleetlog::alert {

struct EvaluationReport {
  std::vector<Transition> transitions;
  std::vector<std::string> broken;  // "rule: why"
  int rules = 0;
};

class AlertEngine {
 public:
  // `dispatcher` may be null (transitions are recorded, nothing is sent).
  AlertEngine(const Config& config, Dispatcher* dispatcher) : config_(config), dispatcher_(dispatcher) {}

  // Evaluates the rules `which` selects (all when empty) at `now`. Fails only when the book
  // or the lake cannot be written; broken rules are in the report, not the Status.
  Result<EvaluationReport> Evaluate(LakeSession& session, Timestamp now, const std::vector<std::string>& which = {});

  // The rules with an interval that are due at `now` (not evaluated for their interval).
  std::vector<std::string> DueRules(Timestamp now);

 private:
  const Config& config_;
  Dispatcher* const dispatcher_;
  std::mutex mu_;
  std::map<std::string, Timestamp> last_evaluated_;  // GUARDED_BY(mu_)
};

}  // namespace fleetlog::alert
