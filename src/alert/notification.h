// What each kind of receiver is sent for one transition: pure functions from a transition
// to a request body, so every format is tested without a network.
//
//   webhook       a JSON object (fields below), POSTed as application/json
//   slack         {"text": ...} in Slack's mrkdwn, for Slack-compatible incoming webhooks
//   alertmanager  Alertmanager's API v2 (POST <url>/api/v2/alerts): a list of one alert with
//                 labels alertname, severity and the instance's labels; annotations summary,
//                 query, value and the rest; startsAt; endsAt = now when resolved, else
//                 now + 2 x repeat, so a firing alert outlives one missed reminder but not
//                 a dead fleetlog; generatorURL = the dashboard link
//   email         an RFC 5322 message (headers and a plain-text body)
//
// Every format carries the rule, state, severity, value, cluster, time, the rule's query and
// the link to the dashboard view of the alert. Webhook JSON fields: version, rule, state,
// severity, summary, value, labels, cluster, time, active_since, query, annotations, link.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "alert/alert_model.h"
#include "core/config.h"

namespace fleetlog::alert {

// The dashboard view of an alert: <dashboard_url>/?view=alerts&rule=R[&cluster=C]; empty
// when no dashboard_url is configured.
std::string DashboardLink(const std::string& dashboard_url, const Transition& t);

std::string WebhookBody(const Transition& t, const std::string& link);
std::string SlackBody(const Transition& t, const std::string& link);
std::string AlertmanagerBody(const Transition& t, const std::string& link, Duration repeat);
std::string EmailMessage(const Transition& t, const std::string& link, const std::string& from,
                         const std::vector<std::string>& to);

}  // namespace fleetlog::alert
