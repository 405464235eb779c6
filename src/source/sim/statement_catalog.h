// The statements a simulated cluster runs: its tables, and a fixed set of statement templates
// (dashboard queries, ad-hoc analysis, ETL, internal sampling) with their text, EXPLAIN plan
// and the tables they scan. Real warehouses run the same few hundred statements over and
// over, so a catalog per cluster is both realistic and what keeps generation fast: a query
// refers to its template by index and rows copy prepared text.
// Text is stored as Redshift logs it: newlines as the two characters `\n`.
// Thread-safety: immutable once built; share freely.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "source/sim/sim_random.h"

namespace fleetlog::sim {

enum class WorkKind : uint8_t { kShort, kDashboard, kAdhoc, kEtl, kInternal };

struct CatalogTable {
  int tbl = 0;             // the table's oid, stl_scan.tbl
  std::string schema;
  std::string name;        // stl_scan.perm_table_name
  int64_t rows = 0;
  std::vector<std::string> columns;
};

struct PlanNode {
  int nodeid = 0;
  int parentid = 0;
  std::string plannode;
  std::string info;
};

struct StatementTemplate {
  WorkKind kind = WorkKind::kShort;
  std::string text;            // the whole statement, newlines encoded
  std::string querytxt;        // stl_query.querytxt: the first 4000 characters, blanks trimmed
  std::string label;           // stl_query.label: the query group, or "default"
  std::vector<PlanNode> plan;  // stl_explain; empty for COPY and utility-like statements
  std::vector<int> scans;      // indices into tables(): one scan step each
  bool loads_from_s3 = false;  // COPY: the scan reads files (stl_scan.type 21)
  bool nested_loop = false;
};

class StatementCatalog {
 public:
  // The catalog of one cluster, a pure function of its seed.
  explicit StatementCatalog(uint64_t cluster_seed);

  const std::vector<CatalogTable>& tables() const { return tables_; }
  const StatementTemplate& at(uint32_t id) const { return templates_[id]; }
  size_t size() const { return templates_.size(); }
  // A template of `kind`; nested-loop plans (analytic kinds only) with probability
  // `nested_share`, text over 64 KB with probability `giant_share`.
  uint32_t Pick(WorkKind kind, double nested_share, double giant_share, Rng& rng) const;

  // DDL and utility statements, made fresh each time (they are few and varied).
  std::string DdlText(Rng& rng) const;
  std::string UtilityText(Rng& rng, bool* slow) const;

 private:
  void AddTemplate(StatementTemplate t, bool giant);

  std::vector<CatalogTable> tables_;
  std::vector<StatementTemplate> templates_;
  // Template ids by kind: ordinary, nested-loop, giant.
  std::vector<uint32_t> by_kind_[5];
  std::vector<uint32_t> nested_[5];
  std::vector<uint32_t> giant_[5];
};

// `sql` with each newline replaced by the two characters `\n`, as Redshift logs text.
std::string EncodeNewlines(const std::string& sql);

}  // namespace fleetlog::sim
