// The handlers for watching fleetlog, as functions over plain data (server/http.h):
//   GET /metrics   Prometheus text (metrics.h)
//   GET /healthz   200 while the process answers
//   GET /readyz    200 when every exported table's lag is within [server] ready_max_lag;
//                  503 naming each table that lags more, or has no exported window yet
//   GET /v1/alerts firing and pending alerts, broken rules, recent alert events and deliveries,
//                  and the recent anomalies with the metrics that drove them
// /metrics, /healthz and /readyz need no token, so probes and scrapers work unconfigured.
// Thread-safety: functions over thread-safe inputs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/config.h"
#include "exporter/table_health.h"
#include "server/metrics.h"
#include "server/http.h"
#include "state/state_store.h"

namespace fleetlog {

// Reads what /metrics shows from the state store (`state` may be null: an empty lake).
// Parts that fail are named in scrape_errors; the rest is still filled in.
// `rules` maps each configured alert rule to its severity.
MetricsSnapshot CollectMetrics(StateStore* state, const std::vector<TableRef>& tables,
                               const std::map<std::string, std::string>& rules, Timestamp now);

HttpResponse MetricsAnswer(const MetricsSnapshot& snapshot);
HttpResponse HealthzAnswer();
HttpResponse ReadyzAnswer(StateStore* state, const std::vector<TableRef>& tables, Duration max_lag, Timestamp now);

// GET /v1/alerts?history=N (default 100 events): reads the alert book and silences from
// the state store and the newest alert_events and anomalies (grade > 0) from the lake.
HttpResponse AlertsAnswer(StateStore* state, const std::string& lake_root, const HttpRequest& request);

}  // namespace fleetlog
