// `fleetlog alerts [--json]`: alert instances (pending, firing), broken rules, silences and
// the newest deliveries, as the running evaluator left them in the state store.
// `fleetlog alerts silence [--rule R] [--match k=v]... --for D [--comment C]` mutes the
// notifications of matching instances until it expires; `fleetlog alerts unsilence ID`.
#include <iostream>
#include <random>

#include <nlohmann/json.hpp>

#include "alert/alert_store.h"
#include "cli/command.h"
#include "core/env.h"
#include "state/state_store.h"

namespace fleetlog::cli {
namespace {

using nlohmann::json;

std::string NewSilenceId() {
  std::random_device rd;
  return fmt::format("s-{:08x}", rd());
}

int ListAlerts(const Config& config, bool as_json) {
  auto state = OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly);
  if (!state.ok() && state.status().code() != StatusCode::kNotFound) return Fail(state.status());
  alert::AlertBook book;
  std::vector<alert::Silence> silences;
  std::vector<alert::Delivery> deliveries;
  if (state.ok()) {
    auto b = alert::LoadBook(**state);
    auto s = alert::LoadSilences(**state);
    auto d = alert::LoadDeliveries(**state);
    if (!b.ok()) return Fail(b.status());
    if (!s.ok()) return Fail(s.status());
    if (!d.ok()) return Fail(d.status());
    book = std::move(b).value();
    silences = std::move(s).value();
    deliveries = std::move(d).value();
  }
  const Timestamp now = Env::Default()->Now();
  std::erase_if(silences, [&](const auto& s) { return s.expires_at <= now; });
  std::erase_if(book.instances, [](const auto& i) { return i.state == alert::InstanceState::kInactive; });
  if (as_json) {
    json out = {{"evaluated_at", book.evaluated_at.micros() ? json(FormatTimestampIso(book.evaluated_at)) : json(nullptr)},
                {"rules", json::array()}, {"alerts", json::array()}, {"broken_rules", json::array()},
                {"silences", json::array()}, {"deliveries", json::array()}};
    for (const auto& r : config.alerts)
      out["rules"].push_back({{"name", r.name}, {"source", AlertSourceName(r.source)}, {"severity", r.severity},
                              {"broken", book.broken.count(r.name) > 0}});
    for (const auto& i : book.instances)
      out["alerts"].push_back({{"rule", i.rule}, {"state", alert::InstanceStateName(i.state)}, {"labels", i.labels},
                               {"value", i.value}, {"annotations", i.annotations},
                               {"active_since", FormatTimestampIso(i.active_since)}});
    for (const auto& [rule, why] : book.broken) out["broken_rules"].push_back({{"rule", rule}, {"error", why}});
    for (const auto& s : silences)
      out["silences"].push_back({{"id", s.id}, {"rule", s.rule}, {"matchers", s.matchers},
                                 {"expires_at", FormatTimestampIso(s.expires_at)}, {"comment", s.comment}});
    for (const auto& d : deliveries)
      out["deliveries"].push_back({{"receiver", d.receiver}, {"rule", d.rule}, {"labels", d.labels}, {"kind", d.kind},
                                   {"at", FormatTimestampIso(d.at)}, {"attempt", d.attempt}, {"sent", d.sent},
                                   {"final", d.final}, {"error", d.error}});
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("%-24s %-8s %-40s %12s  %s\n", "RULE", "STATE", "LABELS", "VALUE", "SINCE");
  for (const auto& i : book.instances)
    std::printf("%-24s %-8s %-40s %12.4g  %s\n", i.rule.c_str(), alert::InstanceStateName(i.state),
                alert::LabelsText(i.labels).c_str(), i.value, FormatTimestampIso(i.active_since).c_str());
  if (book.instances.empty()) std::printf("(no pending or firing alerts)\n");
  for (const auto& [rule, why] : book.broken) std::printf("BROKEN rule %s: %s\n", rule.c_str(), why.c_str());
  for (const auto& s : silences)
    std::printf("silence %s: rule %s %s until %s  %s\n", s.id.c_str(), s.rule.empty() ? "*" : s.rule.c_str(),
                alert::LabelsText(s.matchers).c_str(), FormatTimestampIso(s.expires_at).c_str(), s.comment.c_str());
  return kExitOk;
}

}  // namespace

CommandAction AddAlerts(CLI::App& app, const GlobalOptions& global) {
  struct Options {
    bool json = false;
    std::string rule, duration, comment, id;
    std::vector<std::string> matches;
  };
  auto opts = std::make_shared<Options>();
  app.add_flag("--json", opts->json, "Print JSON");
  CLI::App* silence = app.add_subcommand("silence", "Mute notifications of matching alerts until the silence expires");
  silence->add_option("--rule", opts->rule, "Only this rule (default: every rule)");
  silence->add_option("--match", opts->matches, "LABEL=VALUE the instance must carry (repeatable)");
  silence->add_option("--for", opts->duration, "How long, like 2h")->required();
  silence->add_option("--comment", opts->comment, "Why (shown with the silence)");
  CLI::App* unsilence = app.add_subcommand("unsilence", "End a silence now");
  unsilence->add_option("id", opts->id, "The silence's id")->required();
  return [&global, opts, silence, unsilence] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    if (!silence->parsed() && !unsilence->parsed()) return ListAlerts(*config, opts->json);

    auto state = OpenSqliteStateStore(config->state_path, OpenMode::kReadWrite);
    if (!state.ok()) return Fail(state.status());
    auto silences = alert::LoadSilences(**state);
    if (!silences.ok()) return Fail(silences.status());
    const Timestamp now = Env::Default()->Now();
    std::erase_if(*silences, [&](const auto& s) { return s.expires_at <= now; });
    if (unsilence->parsed()) {
      const size_t before = silences->size();
      std::erase_if(*silences, [&](const auto& s) { return s.id == opts->id; });
      if (silences->size() == before) return Fail(Error(StatusCode::kNotFound, "no active silence {}", opts->id));
      if (Status s = alert::SaveSilences(**state, *silences); !s.ok()) return Fail(s);
      std::cout << "ended silence " << opts->id << "\n";
      return static_cast<int>(kExitOk);
    }
    auto duration = ParseDuration(opts->duration);
    if (!duration.ok()) return Fail(InvalidArgument("--for: {}", duration.status().message()));
    if (!opts->rule.empty() && std::none_of(config->alerts.begin(), config->alerts.end(),
                                            [&](const auto& r) { return r.name == opts->rule; }))
      return Fail(InvalidArgument("--rule {}: no [[alert]] has that name", opts->rule));
    alert::Silence s{.id = NewSilenceId(), .rule = opts->rule, .created_at = now, .expires_at = now + *duration,
                     .comment = opts->comment};
    for (const auto& m : opts->matches) {
      const size_t eq = m.find('=');
      if (eq == std::string::npos || eq == 0) return Fail(InvalidArgument("--match {}: write LABEL=VALUE", m));
      s.matchers[m.substr(0, eq)] = m.substr(eq + 1);
    }
    silences->push_back(s);
    if (Status st = alert::SaveSilences(**state, *silences); !st.ok()) return Fail(st);
    std::cout << s.id << "\n";
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
