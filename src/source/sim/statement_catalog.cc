// Statement text is written the way people and BI tools write it (indentation, comments,
// CTEs, long CASE lists), because the lake's text reassembly and the 200-character pieces are
// only tested by text that crosses piece boundaries mid-word and mid-`\n`. Two templates per
// catalog exceed 64 KB, past Redshift's LISTAGG limit, which is what breaks naive tooling.
#include "source/sim/statement_catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "core/text.h"

namespace fleetlog::sim {
namespace {

constexpr const char* kTableNames[] = {
    "orders",   "order_items", "customers",  "products",  "sessions",    "page_views", "events",
    "payments", "shipments",   "inventory",  "campaigns", "ad_clicks",   "returns",    "dim_date",
    "stores",   "web_logs",    "subscriptions", "invoices", "support_tickets", "experiments"};
constexpr const char* kSchemas[] = {"analytics", "analytics", "public", "staging", "marts"};
constexpr const char* kColumns[] = {
    "created_at", "updated_at", "amount", "quantity", "unit_price", "discount", "currency", "status",
    "region", "country", "city", "channel", "device_type", "browser", "campaign_id", "event_type",
    "page_url", "referrer", "sku", "category", "brand", "warehouse_id", "carrier", "payment_method",
    "tax_amount", "shipping_cost", "is_returning", "loyalty_tier", "utm_source", "utm_medium",
    "utm_campaign", "latency_ms", "error_code", "store_id", "date_key"};
constexpr const char* kKeys[] = {"customer_id", "order_id", "product_id", "session_id"};
constexpr const char* kQueryGroups[] = {"default", "default", "default", "etl_nightly", "reporting"};

template <typename T, size_t N>
const T& PickOf(const T (&items)[N], Rng& rng) {
  return items[rng.Next() % N];
}

std::string Cost(Rng& rng, int64_t rows) {
  const double lo = rng.Chance(0.5) ? 0.0 : rng.Uniform() * 1e4;
  return fmt::format("(cost={:.2f}..{:.2f} rows={} width={})", lo, lo + static_cast<double>(rows) * 0.01, rows,
                     rng.Between(4, 240));
}

class PlanBuilder {
 public:
  explicit PlanBuilder(Rng& rng) : rng_(rng) {}
  int Add(int parent, const std::string& node, int64_t rows, std::string info = "") {
    const int id = static_cast<int>(nodes_.size()) + 1;
    nodes_.push_back({id, parent, fmt::format("XN {}  {}", node, Cost(rng_, rows)), std::move(info)});
    return id;
  }
  std::vector<PlanNode> Take() { return std::move(nodes_); }

 private:
  Rng& rng_;
  std::vector<PlanNode> nodes_;
};

std::string Qualified(const CatalogTable& t) { return t.schema + "." + t.name; }

std::string LookerComment(Rng& rng) {
  return fmt::format("/* Looker Query Context '{{\"user_id\":{},\"history_slug\":\"{:016x}\",\"instance_slug\":\"{:08x}\"}}' */\n",
                     rng.Between(1, 400), rng.Next(), rng.Next() & 0xffffffff);
}

// A CASE expression with `branches` arms: what BI tools generate for bucketing, and what makes
// analytic statements run to many kilobytes.
std::string CaseColumn(const CatalogTable& t, int branches, Rng& rng, int n) {
  const std::string& col = t.columns[rng.Next() % t.columns.size()];
  std::string s = "    CASE\n";
  for (int b = 0; b < branches; ++b)
    s += fmt::format("        WHEN f.{} = '{}_{:04d}' THEN 'bucket {:03d}'\n", col, col, rng.Between(0, 9999), b);
  return s + fmt::format("        ELSE 'other'\n    END AS {}_bucket_{}", col, n);
}

}  // namespace

std::string EncodeNewlines(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + sql.size() / 16);
  for (char c : sql) {
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

StatementCatalog::StatementCatalog(uint64_t cluster_seed) {
  Rng rng(Hash(cluster_seed, 0xca7));
  int oid = 100000 + static_cast<int>(rng.Between(0, 50000));
  for (const char* name : kTableNames) {
    CatalogTable t{.tbl = oid, .schema = PickOf(kSchemas, rng), .name = name};
    oid += static_cast<int>(rng.Between(1, 900));
    t.rows = static_cast<int64_t>(rng.LogNormal(2e7, 2.0)) + 1000;
    t.columns = {kKeys[0], kKeys[1]};
    for (int i = 0, n = static_cast<int>(rng.Between(6, 24)); i < n; ++i) t.columns.push_back(PickOf(kColumns, rng));
    std::sort(t.columns.begin() + 2, t.columns.end());
    t.columns.erase(std::unique(t.columns.begin(), t.columns.end()), t.columns.end());
    tables_.push_back(std::move(t));
  }
  const auto table = [&]() -> int { return static_cast<int>(rng.Next() % tables_.size()); };

  // Short lookups: the short query queue's diet.
  for (int i = 0; i < 24; ++i) {
    const int a = table();
    const auto& t = tables_[a];
    StatementTemplate s{.kind = WorkKind::kShort, .scans = {a}};
    s.text = i % 2 ? fmt::format("SELECT {}, {} FROM {} WHERE {} = {} LIMIT 100;", t.columns[1], t.columns.back(),
                                 Qualified(t), t.columns[0], rng.Between(1, 9999999))
                   : fmt::format("select count(*) from {} where created_at >= dateadd(hour, -1, getdate());",
                                 Qualified(t));
    PlanBuilder plan(rng);
    plan.Add(plan.Add(0, "Limit", 100), "Seq Scan on " + t.name, t.rows / 1000, "Filter: (" + t.columns[0] + " = $1)");
    s.plan = plan.Take();
    AddTemplate(std::move(s), false);
  }

  // Dashboards and ad-hoc analysis: aggregates over a fact joined to dimensions. Some join on
  // a range instead of a key, which Redshift runs as a nested loop.
  for (int i = 0; i < 72; ++i) {
    const bool adhoc = i >= 40;
    const bool nested = i % 12 == 5;
    const int f = table();
    const int d = table();
    const auto& ft = tables_[f];
    const auto& dt = tables_[d];
    const std::string key = PickOf(kKeys, rng);
    std::string sql = adhoc ? "" : LookerComment(rng);
    const int ctes = adhoc ? static_cast<int>(rng.Between(0, 6)) : 0;
    for (int c = 0; c < ctes; ++c)
      sql += fmt::format("{} step_{} AS (\n  SELECT f.{}, SUM(f.amount) AS amount\n  FROM {} f\n  WHERE f.created_at >= '2025-0{}-01'\n  GROUP BY 1\n)\n",
                         c ? "," : "WITH", c, key, Qualified(ft), c % 9 + 1);
    sql += "SELECT\n    d.region,\n    d.channel";
    // Mostly a few hundred characters to a few kilobytes; now and then a report of 10-20 KB.
    const bool report = rng.Chance(adhoc ? 0.1 : 0.03);
    const int cases = static_cast<int>(rng.Between(0, report ? 10 : adhoc ? 4 : 2));
    for (int c = 0; c < cases; ++c)
      sql += ",\n" + CaseColumn(ft, static_cast<int>(report ? rng.Between(10, 40) : rng.Between(2, 8)), rng, c);
    sql += fmt::format(",\n    SUM(f.amount) AS total_amount,\n    COUNT(DISTINCT f.{}) AS distinct_{}\nFROM {} AS f\n", key, key,
                       Qualified(ft));
    sql += nested ? fmt::format("JOIN {} AS d ON f.created_at BETWEEN d.created_at AND d.updated_at\n", Qualified(dt))
                  : fmt::format("LEFT JOIN {} AS d ON d.{} = f.{}\n", Qualified(dt), key, key);
    sql += fmt::format("WHERE f.created_at >= TIMESTAMP '2025-{:02d}-01 00:00:00'\nGROUP BY 1, 2\nORDER BY 3 DESC\nLIMIT {};",
                       rng.Between(1, 13), rng.Between(1, 10) * 100);
    PlanBuilder plan(rng);
    const int64_t rows = ft.rows / 10 + 1;
    int n = plan.Add(0, "Merge", 500, "Merge Key: sum(f.amount)");
    n = plan.Add(n, "Network", 500, "Send to leader");
    n = plan.Add(n, "Sort", 500, "Sort Key: sum(f.amount)");
    n = plan.Add(n, "HashAggregate", rows / 100 + 1);
    n = nested ? plan.Add(n, "Nested Loop DS_BCAST_INNER", rows * 40,
                          "Join Filter: ((\"outer\".created_at >= \"inner\".created_at) AND (\"outer\".created_at <= \"inner\".updated_at))")
               : plan.Add(n, "Hash Left Join DS_DIST_INNER", rows,
                          fmt::format("Hash Cond: (\"outer\".{} = \"inner\".{})", key, key));
    plan.Add(n, "Seq Scan on " + ft.name + " f", ft.rows, "Filter: (created_at >= '2025-01-01 00:00:00'::timestamp)");
    plan.Add(nested ? n : plan.Add(n, "Hash", dt.rows), "Seq Scan on " + dt.name + " d", dt.rows);
    StatementTemplate s{.kind = adhoc ? WorkKind::kAdhoc : WorkKind::kDashboard, .text = std::move(sql),
                        .plan = plan.Take(), .scans = {f, d}, .nested_loop = nested};
    if (!adhoc) s.label = "reporting";
    AddTemplate(std::move(s), false);
  }

  // ETL: loads, merges, unloads and rebuilds, in the ETL queue under the nightly query group.
  for (int i = 0; i < 24; ++i) {
    const int a = table();
    const auto& t = tables_[a];
    StatementTemplate s{.kind = WorkKind::kEtl, .label = "etl_nightly", .scans = {a}};
    PlanBuilder plan(rng);
    switch (i % 4) {
      case 0:
        s.text = fmt::format("COPY staging.{} FROM 's3://acme-datalake-raw/{}/dt=2025-06-{:02d}/'\nIAM_ROLE 'arn:aws:iam::123456789012:role/redshift-etl'\nFORMAT AS PARQUET;",
                             t.name, t.name, i % 28 + 1);
        s.loads_from_s3 = true;
        break;
      case 1:
        s.text = fmt::format("INSERT INTO {}\nSELECT s.*\nFROM staging.{} s\nLEFT JOIN {} t ON t.{} = s.{}\nWHERE t.{} IS NULL;",
                             Qualified(t), t.name, Qualified(t), t.columns[0], t.columns[0], t.columns[0]);
        plan.Add(plan.Add(plan.Add(0, "Hash Left Join DS_DIST_BOTH", t.rows / 50, "Hash Cond: (\"outer\"." + t.columns[0] + " = \"inner\"." + t.columns[0] + ")"),
                          "Seq Scan on " + t.name + " s", t.rows / 50), "Seq Scan on " + t.name + " t", t.rows);
        break;
      case 2:
        s.text = fmt::format("DELETE FROM {}\nUSING staging.{} s\nWHERE {}.{} = s.{};", Qualified(t), t.name, t.name,
                             t.columns[1], t.columns[1]);
        plan.Add(plan.Add(0, "Hash Join DS_DIST_NONE", t.rows / 100), "Seq Scan on " + t.name, t.rows);
        break;
      default:
        s.text = fmt::format("UNLOAD ('SELECT * FROM {} WHERE created_at >= \\'2025-06-01\\'')\nTO 's3://acme-exports/{}/'\nIAM_ROLE 'arn:aws:iam::123456789012:role/redshift-etl'\nFORMAT PARQUET ALLOWOVERWRITE;",
                             Qualified(t), t.name);
        plan.Add(plan.Add(0, "Network", t.rows / 10, "Send to leader"), "Seq Scan on " + t.name, t.rows / 10);
    }
    s.plan = plan.Take();
    AddTemplate(std::move(s), false);
  }

  // Redshift's own sampling queries, run as rdsdb.
  for (int i = 0; i < 8; ++i) {
    const int a = table();
    StatementTemplate s{.kind = WorkKind::kInternal, .scans = {a}};
    s.text = fmt::format("padb_fetch_sample: select {} from {}", i % 2 ? "*" : "count(*)", tables_[a].name);
    PlanBuilder plan(rng);
    plan.Add(plan.Add(0, "Aggregate", 1), "Seq Scan on " + tables_[a].name, tables_[a].rows);
    s.plan = plan.Take();
    AddTemplate(std::move(s), false);
  }

  // Past 64 KB: an ad-hoc IN list pasted from a spreadsheet, and a hand-written multi-row INSERT.
  {
    const int a = table();
    std::string sql = "SELECT *\nFROM " + Qualified(tables_[a]) + "\nWHERE customer_id IN (";
    for (int i = 0; sql.size() < 70000; ++i) sql += fmt::format("{}{}", i ? (i % 20 ? ", " : ",\n  ") : "", rng.Between(1, 99999999));
    PlanBuilder plan(rng);
    plan.Add(0, "Seq Scan on " + tables_[a].name, tables_[a].rows / 1000, "Filter: (customer_id = ANY ('{...}'::integer[]))");
    AddTemplate({.kind = WorkKind::kAdhoc, .text = sql + ");", .plan = plan.Take(), .scans = {a}}, true);
  }
  {
    const int a = table();
    std::string sql = "INSERT INTO staging." + tables_[a].name + " (customer_id, order_id, status, amount) VALUES\n";
    for (int i = 0; sql.size() < 100000; ++i)
      sql += fmt::format("{}({}, {}, 'shipped', {}.{:02d})", i ? ",\n" : "", rng.Between(1, 9999999), rng.Between(1, 99999999),
                         rng.Between(1, 5000), rng.Between(0, 100));
    AddTemplate({.kind = WorkKind::kEtl, .text = sql + ";", .label = "etl_nightly", .scans = {a}}, true);
  }
}

void StatementCatalog::AddTemplate(StatementTemplate t, bool giant) {
  if (t.label.empty()) t.label = "default";
  t.text = EncodeNewlines(t.text);
  t.querytxt = std::string(TrimTrailingBlanks(std::string_view(t.text).substr(0, 4000)));
  const auto id = static_cast<uint32_t>(templates_.size());
  const auto k = static_cast<size_t>(t.kind);
  (giant ? giant_[k] : t.nested_loop ? nested_[k] : by_kind_[k]).push_back(id);
  templates_.push_back(std::move(t));
}

uint32_t StatementCatalog::Pick(WorkKind kind, double nested_share, double giant_share, Rng& rng) const {
  const auto k = static_cast<size_t>(kind);
  const double u = rng.Uniform();
  if (!giant_[k].empty() && u < giant_share) return giant_[k][rng.Next() % giant_[k].size()];
  if (!nested_[k].empty() && u < giant_share + nested_share) return nested_[k][rng.Next() % nested_[k].size()];
  return by_kind_[k][rng.Next() % by_kind_[k].size()];
}

std::string StatementCatalog::DdlText(Rng& rng) const {
  const auto& t = tables_[rng.Next() % tables_.size()];
  switch (rng.Between(0, 5)) {
    case 0: return fmt::format("CREATE TEMP TABLE stage_{} (LIKE {});", t.name, Qualified(t));
    case 1: return fmt::format("DROP TABLE IF EXISTS staging.{}_{:04d};", t.name, rng.Between(0, 9999));
    case 2: return fmt::format("ALTER TABLE {} APPEND FROM staging.{};", Qualified(t), t.name);
    case 3: return fmt::format("TRUNCATE staging.{};", t.name);
    default: {
      std::string sql = fmt::format("CREATE TABLE IF NOT EXISTS staging.{}_{:04d} (\n", t.name, rng.Between(0, 9999));
      for (size_t i = 0; i < t.columns.size(); ++i)
        sql += fmt::format("    {} {} ENCODE {}{}\n", t.columns[i], i < 2 ? "BIGINT" : "VARCHAR(256)", i < 2 ? "az64" : "lzo",
                           i + 1 < t.columns.size() ? "," : "");
      return EncodeNewlines(sql + fmt::format(")\nDISTKEY({})\nSORTKEY(created_at);", t.columns[0]));
    }
  }
}

std::string StatementCatalog::UtilityText(Rng& rng, bool* slow) const {
  const auto& t = tables_[rng.Next() % tables_.size()];
  *slow = false;
  switch (rng.Between(0, 6)) {
    case 0: *slow = true; return fmt::format("ANALYZE {};", Qualified(t));
    case 1: *slow = true; return fmt::format("VACUUM DELETE ONLY {} TO 95 PERCENT;", Qualified(t));
    case 2: return fmt::format("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO GROUP analysts;", t.schema);
    case 3: return "SET query_group TO 'etl_nightly';";
    case 4: return "RESET query_group;";
    default: return fmt::format("SET search_path TO {}, public;", t.schema);
  }
}

}  // namespace fleetlog::sim
