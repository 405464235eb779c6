#include "alert/sources.h"

#include <cstdlib>

#include <fmt/format.h>

namespace fleetlog::alert {
namespace {

// The latest bucket of each cluster and its grade: what bench/alert_calibration judged.
constexpr const char* kAnomalySql =
    "SELECT cluster, arg_max(grade, bucket_start) AS grade, arg_max(score, bucket_start) AS score, "
    "arg_max(attribution, bucket_start) AS attribution, CAST(max(bucket_start) AS VARCHAR) AS bucket_start "
    "FROM anomalies GROUP BY cluster";

Result<double> NumberAt(duck::QueryResult& r, size_t col, size_t row, const std::string& column) {
  const std::string text = r.text(col, row);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size())
    return InvalidArgument("column \"{}\" must be a number, but a row holds \"{}\"", column, text.substr(0, 80));
  return v;
}

Result<std::vector<Sample>> SqlSamples(const AlertRuleConfig& rule, QueryEngine& engine) {
  ASSIGN_OR_RETURN(duck::QueryResult r, engine.Run(rule.sql));
  size_t value_col = r.column_count();
  for (size_t c = 0; c < r.column_count(); ++c)
    if (r.column_name(c) == rule.value_column) value_col = c;
  if (value_col == r.column_count())
    return InvalidArgument("the query returns no column \"{}\" (name the value column AS {}, or set value_column)",
                           rule.value_column, rule.value_column);
  std::vector<Sample> out;
  for (size_t row = 0; row < r.row_count(); ++row) {
    if (r.is_null(value_col, row)) continue;
    Sample s;
    ASSIGN_OR_RETURN(s.value, NumberAt(r, value_col, row, rule.value_column));
    for (size_t c = 0; c < r.column_count(); ++c)
      if (c != value_col) s.labels[r.column_name(c)] = r.is_null(c, row) ? "" : r.text(c, row);
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<Sample>> AnomalySamples(const AlertRuleConfig& rule, QueryEngine& engine) {
  bool have = false;
  for (const auto& t : engine.tables()) have |= t.name == "anomalies";
  if (!have) return std::vector<Sample>();  // the detector has scored nothing yet
  ASSIGN_OR_RETURN(duck::QueryResult r, engine.Run(kAnomalySql));
  std::vector<Sample> out;
  for (size_t row = 0; row < r.row_count(); ++row) {
    Sample s;
    s.labels["cluster"] = r.text(0, row);
    if (!rule.cluster.empty() && s.labels["cluster"] != rule.cluster) continue;
    ASSIGN_OR_RETURN(s.value, NumberAt(r, 1, row, "grade"));
    s.annotations["score"] = r.text(2, row);
    s.annotations["attribution"] = r.text(3, row);
    s.annotations["bucket_start"] = r.text(4, row);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

bool ReadsLake(const AlertRuleConfig& rule) {
  return rule.source == AlertSource::kSql || rule.source == AlertSource::kAnomaly;
}

std::string DescribeSource(const AlertRuleConfig& rule) {
  switch (rule.source) {
    case AlertSource::kSql: return rule.sql;
    case AlertSource::kAnomaly: return kAnomalySql;
    case AlertSource::kExportLag: return "export lag of each (cluster, table), seconds (fleetlog status)";
    case AlertSource::kFailingTables: return "consecutive failed export runs of each (cluster, table) (fleetlog status)";
  }
  return "";
}

Result<std::vector<Sample>> EvaluateSource(const AlertRuleConfig& rule, QueryEngine* engine,
                                           const std::vector<TableHealth>& health) {
  if (ReadsLake(rule) && !engine) return Internal("rule {}: no query engine", rule.name);
  switch (rule.source) {
    case AlertSource::kSql: return SqlSamples(rule, *engine);
    case AlertSource::kAnomaly: return AnomalySamples(rule, *engine);
    case AlertSource::kExportLag:
    case AlertSource::kFailingTables: {
      std::vector<Sample> out;
      for (const TableHealth& h : health) {
        Sample s{.labels = {{"cluster", h.cluster}, {"table", h.table}}};
        if (rule.source == AlertSource::kExportLag) {
          if (!h.lag) continue;
          s.value = h.lag->seconds();
        } else {
          s.value = h.failure_streak;
          if (h.last_run && !h.last_run->error.empty()) s.annotations["error"] = h.last_run->error.substr(0, 500);
        }
        out.push_back(std::move(s));
      }
      return out;
    }
  }
  return std::vector<Sample>();
}

}  // namespace fleetlog::alert
