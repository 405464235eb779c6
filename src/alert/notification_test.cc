#include "alert/notification.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace fleetlog::alert {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

Transition Sample(TransitionKind kind) {
  return {.kind = kind, .rule = "queue wait", .severity = "warning", .labels = {{"cluster", "c 1"}}, .value = 0.25,
          .at = Timestamp::FromMicros(1'790'000'000'000'000), .active_since = Timestamp::FromMicros(1'789'999'400'000'000),
          .annotations = {{"attribution", "queue_wait_s high (83%)"}}, .summary = "waits\nlong", .query = "SELECT 1"};
}

TEST(AlertNotification, LinkEncodesRuleAndCluster) {
  EXPECT_EQ(DashboardLink("http://f:8080/", Sample(TransitionKind::kFiring)), "http://f:8080/?view=alerts&rule=queue%20wait&cluster=c%201");
  EXPECT_EQ(DashboardLink("", Sample(TransitionKind::kFiring)), "");
}

TEST(AlertNotification, WebhookCarriesEverything) {
  const json j = json::parse(WebhookBody(Sample(TransitionKind::kRepeat), "L"));
  EXPECT_EQ(j["state"], "firing");
  EXPECT_EQ(j["transition"], "repeat");
  EXPECT_EQ(j["value"], 0.25);
  EXPECT_EQ(j["cluster"], "c 1");
  EXPECT_EQ(j["query"], "SELECT 1");
  EXPECT_EQ(j["link"], "L");
  EXPECT_EQ(j["annotations"]["attribution"], "queue_wait_s high (83%)");
  EXPECT_EQ(j["time"], FormatTimestampIso(Timestamp::FromMicros(1'790'000'000'000'000)));
}

TEST(AlertNotification, SlackTextNamesStateValueAttributionAndLink) {
  const std::string text = json::parse(SlackBody(Sample(TransitionKind::kResolved), "http://x"))["text"];
  EXPECT_THAT(text, HasSubstr("[RESOLVED] queue wait"));
  EXPECT_THAT(text, HasSubstr("value: `0.25`"));
  EXPECT_THAT(text, HasSubstr("driven by: queue_wait_s high (83%)"));
  EXPECT_THAT(text, HasSubstr("<http://x|Open in fleetlog>"));
}

TEST(AlertNotification, AlertmanagerEndsResolvedAlertsNowAndFiringOnesAfterTwoRepeats) {
  const json firing = json::parse(AlertmanagerBody(Sample(TransitionKind::kFiring), "L", Duration::Hours(1)));
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0]["labels"]["alertname"], "queue wait");
  EXPECT_EQ(firing[0]["endsAt"], FormatTimestampIso(Timestamp::FromMicros(1'790'000'000'000'000) + Duration::Hours(2)));
  EXPECT_EQ(firing[0]["startsAt"], FormatTimestampIso(Timestamp::FromMicros(1'789'999'400'000'000)));
  const json resolved = json::parse(AlertmanagerBody(Sample(TransitionKind::kResolved), "L", Duration::Hours(1)));
  EXPECT_EQ(resolved[0]["endsAt"], FormatTimestampIso(Timestamp::FromMicros(1'790'000'000'000'000)));
}

TEST(AlertNotification, EmailHasOneLineSubjectAndCrlfBody) {
  const std::string m = EmailMessage(Sample(TransitionKind::kFiring), "L", "f@x", {"a@x", "b@x"});
  EXPECT_THAT(m, HasSubstr("Subject: [FIRING] queue wait: waits long\r\n"));
  EXPECT_THAT(m, HasSubstr("To: a@x, b@x\r\n"));
  EXPECT_THAT(m, HasSubstr("Date: Mon, 21 Sep 2026 14:13:20 +0000"));
  for (size_t i = m.find('\n'); i != std::string::npos; i = m.find('\n', i + 1)) ASSERT_EQ(m[i - 1], '\r') << i;
}

}  // namespace
}  // namespace fleetlog::alert
