// What a rule watches, as samples: SQL over the lake (a value column, the other columns
// group), the latest anomaly grade of each cluster (from the detector's `anomalies` table,
// with the metrics that drove it), or fleetlog's own export health.
//
// The anomaly grade a rule sees is the latest bucket's. The detector already weighs the
// latest buckets together (detect/evidence.h) and its bar is calibrated as an alert source by
// bench/alert_calibration on the simulated fleet's labelled incidents
// (docs/alerts-and-monitoring.md), so an anomaly rule needs no `for` of its own.
// Thread-safety: functions over their arguments; the engine is used from this thread only.
#pragma once

#include <string>
#include <vector>

#include "alert/alert_model.h"
#include "core/config.h"
#include "core/status.h"
#include "exporter/table_health.h"
#include "query/engine.h"

namespace fleetlog::alert {

// The samples of `rule` now. Fails (the rule is then broken, not firing) when its SQL fails
// or does not return the value column as a number. `engine` may be null when no rule reads
// the lake; `health` is the export health for the export_lag and failing_tables sources.
Result<std::vector<Sample>> EvaluateSource(const AlertRuleConfig& rule, QueryEngine* engine,
                                           const std::vector<TableHealth>& health);

// The SQL a rule runs, or a sentence naming its source: what notifications show as "query".
std::string DescribeSource(const AlertRuleConfig& rule);

// Whether evaluating `rule` needs the query engine.
bool ReadsLake(const AlertRuleConfig& rule);

}  // namespace fleetlog::alert
