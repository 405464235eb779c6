#include "exporter/cluster_check.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/table_names.h"
#include "source/table_spec.h"

namespace fleetlog {
namespace {

std::string Ago(Duration d) { return FormatDuration(Duration::Seconds(std::max<int64_t>(0, d.micros() / 1'000'000))); }

// Columns fleetlog cannot do without: the cursor, the key, the parent's key.
std::vector<std::string> RequiredColumns(const TableSpec& spec) {
  std::vector<std::string> out = spec.key;
  if (!spec.cursor.empty()) out.push_back(spec.cursor);
  if (!spec.parent_key.empty()) out.push_back(spec.parent_key);
  return out;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

CheckItem CheckVisibility(Source& source) {
  CheckItem item{.check = "visibility"};
  auto v = source.ProbeVisibility();
  if (!v.ok()) return {.check = "visibility", .problem = true, .detail = "cannot tell: " + v.status().message()};
  if (v->all_users) {
    item.detail = fmt::format("user {} sees every user's rows ({})", v->user, v->how);
    return item;
  }
  item.problem = true;
  item.detail = fmt::format(
      "user {0} sees only its own rows ({1}), so other users' queries would be missing. Grant it: GRANT ROLE "
      "\"sys:monitor\" TO {0}; (Serverless and provisioned) or ALTER USER {0} SYSLOG ACCESS UNRESTRICTED; "
      "(provisioned), or make it a superuser",
      v->user, v->how);
  return item;
}

CheckItem CheckClock(Timestamp source_now, Timestamp local_now) {
  const Duration skew = source_now > local_now ? source_now - local_now : local_now - source_now;
  CheckItem item{.check = "clock"};
  item.detail = fmt::format("the source's clock is {} {} this machine's", Ago(skew),
                            source_now >= local_now ? "ahead of" : "behind");
  if (skew > kMaxClockSkew) {
    item.problem = true;
    item.detail += ": windows follow the source's clock, so exports stay correct, but lag and freshness figures are "
                   "off by as much; check NTP on this machine and the source";
  }
  return item;
}

CheckItem CheckTable(const Config& config, const ClusterConfig& cluster, const TableSpec& spec, bool exported,
                     Source& source, StateStore* state, Timestamp source_now) {
  CheckItem item{.check = spec.name};
  auto probe = source.ProbeTable(spec);
  if (!probe.ok()) {
    item.problem = exported;
    item.detail = exported ? probe.status().message()
                           : fmt::format("not readable ({}); not exported", StatusCodeName(probe.status().code()));
    return item;
  }
  std::vector<std::string> missing, required_missing;
  for (const auto& c : spec.columns)
    if (FindColumn(probe->columns, c.name) < 0) missing.push_back(c.name);
  for (const auto& c : RequiredColumns(spec))
    if (FindColumn(probe->columns, c) < 0) required_missing.push_back(c);
  if (!exported) {
    item.detail = fmt::format("readable; not exported (views = \"{}\")", ViewFamilyName(cluster.views));
    return item;
  }
  if (!required_missing.empty()) {
    item.problem = true;
    item.detail = fmt::format("lacks {}, which fleetlog windows and keys by: the view changed at the source; leave {} "
                              "out of the cluster's tables until fleetlog knows the new layout",
                              Joined(required_missing), spec.name);
    return item;
  }
  item.detail = "readable";
  if (!missing.empty()) item.detail += fmt::format("; lacks {} (exported as NULL)", Joined(missing));
  std::optional<Timestamp> cursor;
  if (state != nullptr) {
    auto c = state->GetCursor(cluster.name, spec.name);
    if (c.ok()) cursor = *c;
  }
  const Duration lookback = EffectiveLookback(config, spec);
  if (probe->oldest)
    item.detail += fmt::format("; oldest row {} ({} ago)", FormatTimestamp(*probe->oldest), Ago(source_now - *probe->oldest));
  else if (!spec.cursor.empty())
    item.detail += "; holds no rows";
  if (cursor) {
    item.detail += fmt::format("; cursor {}, lookback {}", FormatTimestamp(*cursor), FormatDuration(lookback));
    if (probe->oldest && *cursor < *probe->oldest) {
      item.problem = true;
      item.detail += fmt::format(": the source no longer holds rows between the cursor and {}; they were dropped "
                                 "before fleetlog read them (it was stopped longer than the source keeps rows). Run "
                                 "the export more often than the source's retention",
                                 FormatTimestamp(*probe->oldest));
    }
  } else if (!spec.cursor.empty()) {
    item.detail += fmt::format("; not exported yet: the first export reads back {}", FormatDuration(config.export_.initial_backfill));
  }
  return item;
}

}  // namespace

bool ClusterCheck::ok() const {
  return std::none_of(items.begin(), items.end(), [](const CheckItem& i) { return i.problem; });
}

ClusterCheck CheckCluster(const Config& config, const ClusterConfig& cluster, Source& source, StateStore* state,
                          Timestamp local_now) {
  ClusterCheck out{.cluster = cluster.name};
  if (Status s = source.Connect(); !s.ok()) {
    out.items.push_back({.check = "connect", .problem = true, .detail = s.message()});
    return out;
  }
  out.items.push_back({.check = "connect", .detail = "connected"});
  const std::string tls = source.TlsProtocol();
  out.items.push_back({.check = "tls", .detail = tls.empty() ? "not encrypted (the dsn's sslmode allows it)" : tls});
  if (cluster.kind == SourceKind::kPostgres) return out;  // custom queries only: no system tables to probe
  out.items.push_back(CheckVisibility(source));
  auto now = source.Now();
  if (!now.ok()) {
    out.items.push_back({.check = "clock", .problem = true, .detail = now.status().message()});
    return out;
  }
  out.items.push_back(CheckClock(*now, local_now));
  const auto exported = config.TablesOf(cluster);
  for (const auto& spec : RedshiftTables()) {
    if (spec.name == kServerlessOnlyTable && !ClusterHasSystemTable(cluster, spec.name)) continue;
    const bool is_exported = std::find(exported.begin(), exported.end(), spec.name) != exported.end();
    out.items.push_back(CheckTable(config, cluster, spec, is_exported, source, state, *now));
  }
  return out;
}

}  // namespace fleetlog
