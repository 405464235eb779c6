#include "upkeep/policy.h"

#include <algorithm>

#include "source/table_spec.h"

namespace fleetlog::upkeep {
namespace {

std::optional<TableSpec> SpecOf(const Config& config, const std::string& table) {
  if (const TableSpec* spec = FindRedshiftTable(table)) return *spec;
  for (const auto& c : config.custom)
    if (c.name == table) return CustomTableSpec(c);
  return std::nullopt;
}

}  // namespace

std::vector<std::string> SortColumnsOf(const Config& config, const std::string& table, const TableSchema& stored) {
  std::vector<std::string> wanted;
  if (table == kRollupTable) {
    wanted = {"hour"};
  } else if (auto spec = SpecOf(config, table)) {
    if (!spec->cursor.empty()) wanted.push_back(spec->cursor);
    for (const auto& k : spec->key)
      if (std::find(wanted.begin(), wanted.end(), k) == wanted.end()) wanted.push_back(k);
  }
  std::erase_if(wanted, [&](const std::string& c) { return FindColumn(stored, c) < 0; });
  return wanted;
}

Result<Timestamp> DayStart(const std::string& dt) {
  ASSIGN_OR_RETURN(Timestamp t, ParseTimestamp(dt));
  if (DateOf(t) != dt) return InvalidArgument("\"{}\" is not a YYYY-MM-DD date", dt);
  return t;
}

bool DayEndsBy(const std::string& dt, Timestamp horizon) {
  auto start = DayStart(dt);
  return start.ok() && *start + Duration::Days(1) <= horizon;
}

Result<Timestamp> ReceiveHorizon(StateStore& state, const Config& config, const std::string& cluster,
                                 const std::string& table, Timestamp now) {
  const Timestamp today = *DayStart(DateOf(now));
  auto spec = SpecOf(config, table);
  if (!spec) return today;
  ASSIGN_OR_RETURN(auto cursor, state.GetCursor(cluster, table));
  if (!cursor) return today;
  return *cursor - EffectiveLookback(config, *spec);
}

}  // namespace fleetlog::upkeep
