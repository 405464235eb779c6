#include "alert/state_machine.h"

#include <gtest/gtest.h>

namespace fleetlog::alert {
namespace {

Timestamp T(int minutes) { return Timestamp::FromMicros(1'800'000'000'000'000) + Duration::Minutes(minutes); }

AlertRuleConfig Rule() {
  AlertRuleConfig r;
  r.name = "slow";
  r.condition = AlertCondition::kAbove;
  r.threshold = 10;
  r.for_ = Duration::Minutes(10);
  r.repeat = Duration::Minutes(60);
  r.severity = "critical";
  r.labels = {{"team", "dba"}};
  return r;
}

Sample At(const std::string& cluster, double value) { return {.labels = {{"cluster", cluster}}, .value = value}; }

std::vector<std::string> Kinds(const std::vector<Transition>& ts) {
  std::vector<std::string> out;
  for (const auto& t : ts) out.push_back(std::string(TransitionKindName(t.kind)) + ":" + LabelsText(t.labels));
  return out;
}

TEST(AlertStateMachine, PendingThenFiringAfterForThenRepeatThenResolved) {
  const AlertRuleConfig rule = Rule();
  std::vector<AlertInstance> inst;
  using V = std::vector<std::string>;
  EXPECT_EQ(Kinds(Advance(rule, "q", {At("a", 20)}, {}, T(0), &inst)), V{"pending:cluster=a,team=dba"});
  EXPECT_EQ(Kinds(Advance(rule, "q", {At("a", 20)}, {}, T(5), &inst)), V{});
  auto firing = Advance(rule, "q", {At("a", 25)}, {}, T(10), &inst);
  ASSERT_EQ(Kinds(firing), V{"firing:cluster=a,team=dba"});
  EXPECT_EQ(firing[0].value, 25);
  EXPECT_EQ(firing[0].severity, "critical");
  EXPECT_EQ(firing[0].active_since, T(0));
  EXPECT_EQ(firing[0].query, "q");
  EXPECT_EQ(Kinds(Advance(rule, "q", {At("a", 25)}, {}, T(40), &inst)), V{});
  EXPECT_EQ(Kinds(Advance(rule, "q", {At("a", 25)}, {}, T(70), &inst)), V{"repeat:cluster=a,team=dba"});
  EXPECT_EQ(Kinds(Advance(rule, "q", {At("a", 25)}, {}, T(100), &inst)), V{});
  EXPECT_EQ(Kinds(Advance(rule, "q", {At("a", 5)}, {}, T(105), &inst)), V{"resolved:cluster=a,team=dba"});
  EXPECT_TRUE(inst.empty());
}

TEST(AlertStateMachine, PendingThatStopsHoldingIsClearedWithoutFiring) {
  const AlertRuleConfig rule = Rule();
  std::vector<AlertInstance> inst;
  Advance(rule, "q", {At("a", 20)}, {}, T(0), &inst);
  EXPECT_EQ(Kinds(Advance(rule, "q", {}, {}, T(5), &inst)), std::vector<std::string>{"cleared:cluster=a,team=dba"});
  // Starting again restarts the `for` clock.
  Advance(rule, "q", {At("a", 20)}, {}, T(6), &inst);
  EXPECT_TRUE(Advance(rule, "q", {At("a", 20)}, {}, T(15), &inst).empty());
  EXPECT_EQ(Advance(rule, "q", {At("a", 20)}, {}, T(16), &inst).size(), 1u);
}

TEST(AlertStateMachine, EachGroupIsItsOwnInstance) {
  AlertRuleConfig rule = Rule();
  rule.for_ = Duration();
  std::vector<AlertInstance> inst;
  auto first = Advance(rule, "q", {At("a", 20), At("b", 1)}, {}, T(0), &inst);
  EXPECT_EQ(Kinds(first), (std::vector<std::string>{"pending:cluster=a,team=dba", "firing:cluster=a,team=dba"}));
  // b starts firing while a keeps firing; a's state is not masked or repeated.
  auto second = Advance(rule, "q", {At("a", 20), At("b", 30)}, {}, T(1), &inst);
  EXPECT_EQ(Kinds(second), (std::vector<std::string>{"pending:cluster=b,team=dba", "firing:cluster=b,team=dba"}));
  auto third = Advance(rule, "q", {At("a", 0), At("b", 30)}, {}, T(2), &inst);
  EXPECT_EQ(Kinds(third), std::vector<std::string>{"resolved:cluster=a,team=dba"});
  ASSERT_EQ(inst.size(), 1u);
  EXPECT_EQ(inst[0].labels.at("cluster"), "b");
}

TEST(AlertStateMachine, ConditionsBelowAndEqual) {
  AlertRuleConfig rule = Rule();
  rule.condition = AlertCondition::kBelow;
  EXPECT_TRUE(ConditionHolds(rule, 9.5));
  EXPECT_FALSE(ConditionHolds(rule, 10));
  rule.condition = AlertCondition::kEqual;
  EXPECT_TRUE(ConditionHolds(rule, 10));
  EXPECT_FALSE(ConditionHolds(rule, 11));
}

TEST(AlertStateMachine, AbsentFiresForAGroupThatStopsReporting) {
  AlertRuleConfig rule = Rule();
  rule.condition = AlertCondition::kAbsent;
  rule.for_ = Duration::Minutes(30);
  std::vector<AlertInstance> inst;
  EXPECT_TRUE(Advance(rule, "q", {At("a", 1), At("b", 1)}, {}, T(0), &inst).empty());
  EXPECT_EQ(Kinds(Advance(rule, "q", {At("a", 1)}, {}, T(5), &inst)), std::vector<std::string>{"pending:cluster=b,team=dba"});
  EXPECT_TRUE(Advance(rule, "q", {At("a", 1)}, {}, T(20), &inst).empty());
  EXPECT_EQ(Kinds(Advance(rule, "q", {At("a", 1)}, {}, T(35), &inst)), std::vector<std::string>{"firing:cluster=b,team=dba"});
  EXPECT_EQ(Kinds(Advance(rule, "q", {At("a", 1), At("b", 1)}, {}, T(40), &inst)),
            std::vector<std::string>{"resolved:cluster=b,team=dba"});
}

TEST(AlertStateMachine, AbsentWithNoRowsEverFiresForTheRuleAsAWhole) {
  AlertRuleConfig rule = Rule();
  rule.condition = AlertCondition::kAbsent;
  rule.for_ = Duration();
  std::vector<AlertInstance> inst;
  EXPECT_EQ(Kinds(Advance(rule, "q", {}, {}, T(0), &inst)), (std::vector<std::string>{"pending:team=dba", "firing:team=dba"}));
  EXPECT_EQ(Kinds(Advance(rule, "q", {At("a", 1)}, {}, T(1), &inst)), std::vector<std::string>{"resolved:team=dba"});
}

TEST(AlertStateMachine, SilenceMarksTransitionsUntilItExpires) {
  AlertRuleConfig rule = Rule();
  rule.for_ = Duration();
  rule.repeat = Duration::Minutes(1);
  std::vector<Silence> silences = {{.id = "s1", .rule = "slow", .matchers = {{"cluster", "a"}},
                                    .created_at = T(0), .expires_at = T(10)}};
  std::vector<AlertInstance> inst;
  auto first = Advance(rule, "q", {At("a", 20), At("b", 20)}, silences, T(0), &inst);
  ASSERT_EQ(first.size(), 4u);
  for (const auto& t : first) EXPECT_EQ(t.silenced_by, t.labels.at("cluster") == "a" ? "s1" : "") << LabelsText(t.labels);
  auto later = Advance(rule, "q", {At("a", 20), At("b", 20)}, silences, T(11), &inst);
  ASSERT_EQ(later.size(), 2u);  // two repeats, neither silenced any more
  for (const auto& t : later) EXPECT_EQ(t.silenced_by, "");
  // A silence for another rule does not match.
  silences[0].rule = "other";
  silences[0].expires_at = T(100);
  EXPECT_EQ(Advance(rule, "q", {}, silences, T(12), &inst)[0].silenced_by, "");
}

TEST(AlertStateMachine, SummaryExpandsValueAndLabels) {
  AlertRuleConfig rule = Rule();
  rule.summary = "{rule}: {value} slow queries on {labels.cluster} {labels.nope}";
  EXPECT_EQ(Summarize(rule, {{"cluster", "a"}}, 12), "slow: 12 slow queries on a {labels.nope}");
  rule.summary.clear();
  EXPECT_EQ(Summarize(rule, {{"cluster", "a"}}, 12.5), "slow: value 12.5 is above 10 for cluster=a");
}

}  // namespace
}  // namespace fleetlog::alert
