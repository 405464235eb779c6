// The alert state machine: one evaluation of one rule moves its instances (see
// alert_model.h for the states) and says what happened. Pure: no clock, no I/O, so every
// path is tested with made-up times.
// Thread-safety: a pure function.
#pragma once

#include <vector>

#include "alert/alert_model.h"
#include "core/config.h"

namespace fleetlog::alert {

// Whether `value` meets the rule's condition (above, below, equal; never for absent).
bool ConditionHolds(const AlertRuleConfig& rule, double value);

// Advances the instances of `rule` (those in `instances` whose .rule is rule.name; the
// others are left alone) by one evaluation at `now` whose source returned `samples`, and
// returns the transitions in order. `query` describes the source for the transitions.
// Silenced transitions carry the silence's id and are still returned (and recorded).
std::vector<Transition> Advance(const AlertRuleConfig& rule, const std::string& query, const std::vector<Sample>& samples,
                                const std::vector<Silence>& silences, Timestamp now, std::vector<AlertInstance>* instances);

// The rule's summary with {value}, {rule} and {labels.NAME} expanded; a default sentence
// when the rule has none.
std::string Summarize(const AlertRuleConfig& rule, const LabelSet& labels, double value);

}  // namespace fleetlog::alert
