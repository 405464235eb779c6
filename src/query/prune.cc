#include "query/prune.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "core/text.h"
#include "core/time.h"
#include "lake/lake_writer.h"
#include "query/engine.h"
#include "query/fleet_views.h"

namespace fleetlog {
namespace {

using nlohmann::json;

// A name of DuckDB's parse tree (a JSON string), in lower case as the lake's views are named.
std::string LowerName(const json& name) { return LowerAscii(name.get_ref<const std::string&>()); }

std::string StringField(const json& node, const char* key) {
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : "";
}

// How a column's values are compared with the catalog's ranges.
enum class ValueKind {
  kTime,     // a cursor column: microseconds since the epoch
  kInteger,  // an id column
  kCluster,  // the cluster: text, compared for equality only
};

// A FROM item naming a table, view or CTE, and the SELECT whose FROM clause holds it.
struct Reference {
  std::string name;   // lower case
  std::string alias;  // lower case; the name when there is none
  const json* select = nullptr;  // the SELECT_NODE; null when not directly in a FROM clause
  bool alone = false;            // the whole FROM clause of `select`
  bool plain = false;            // no schema, catalog, sample or column aliases
  const json* node = nullptr;    // its BASE_TABLE item
};

// Collects every FROM item of the tree. `select` is the SELECT_NODE whose from_table
// subtree is being walked (joins included), else null.
void CollectReferences(const json& node, const json* select, const json* from_root, StatementRanges* out,
                       std::vector<Reference>* refs) {
  if (node.is_array()) {
    for (const auto& child : node) CollectReferences(child, select, from_root, out, refs);
    return;
  }
  if (!node.is_object()) return;
  const std::string type = StringField(node, "type");
  if (const auto ctes = node.find("cte_map"); ctes != node.end() && ctes->is_object() && ctes->contains("map"))
    for (const auto& cte : (*ctes)["map"])
      if (cte.is_object() && cte.contains("key") && cte["key"].is_string()) out->ctes.insert(LowerName(cte["key"]));
  if (type == "SELECT_NODE") {
    for (const auto& [key, child] : node.items()) {
      if (key == "from_table") CollectReferences(child, &node, &child, out, refs);
      else CollectReferences(child, nullptr, nullptr, out, refs);
    }
    return;
  }
  if (type == "JOIN") {
    // An ASOF, POSITIONAL or LATERAL join picks partners by what else is there: without some
    // of a table's rows, others would match. Only joins that filter row pairs keep bounds.
    const std::string ref_type = StringField(node, "ref_type");
    if (ref_type != "REGULAR" && ref_type != "CROSS" && ref_type != "NATURAL") select = nullptr;
  } else if (type != "BASE_TABLE") {
    // Anything else in a FROM clause (PIVOT, UNPIVOT, ...) changes the rows the WHERE sees.
    select = nullptr;
  }
  if (type == "BASE_TABLE") {
    Reference r;
    r.name = LowerAscii(StringField(node, "table_name"));
    r.alias = LowerAscii(StringField(node, "alias"));
    if (r.alias.empty()) r.alias = r.name;
    // A name qualified by a schema or catalog is not one of the lake's views, a sample
    // depends on every row there is, and column aliases rename columns by position: unbounded.
    const auto aliases = node.find("column_name_alias");
    r.plain = StringField(node, "schema_name").empty() && StringField(node, "catalog_name").empty() &&
              node.value("sample", json()).is_null() && (aliases == node.end() || aliases->empty());
    r.select = r.plain ? select : nullptr;
    r.alone = from_root == &node;
    r.node = &node;
    out->names.insert(r.name);
    refs->push_back(std::move(r));
  } else if (type == "TABLE_FUNCTION") {
    out->table_function = true;
  }
  // JOIN children stay in the same FROM clause; a SUBQUERY's node is a SELECT of its own.
  for (const auto& [key, child] : node.items()) CollectReferences(child, select, from_root, out, refs);
}

// Whether `node` is a constant that needs nothing but literals, casts, + and -: no column,
// no subquery, no function of the clock or of chance.
bool IsConstant(const json& node) {
  if (!node.is_object()) return false;
  const std::string cls = StringField(node, "class");
  if (cls == "CONSTANT") return true;
  if (cls == "CAST") return node.contains("child") && IsConstant(node["child"]);
  if (cls == "FUNCTION") {
    const std::string fn = StringField(node, "function_name");
    if (!node.value("is_operator", false) || (fn != "+" && fn != "-")) return false;
    const auto it = node.find("children");
    if (it == node.end() || !it->is_array() || it->empty()) return false;
    return std::all_of(it->begin(), it->end(), [](const json& c) { return IsConstant(c); });
  }
  return false;
}

// A constant's value for comparison with a column of some kind.
struct Constant {
  enum State { kUnknown, kNull, kValue } state = kUnknown;
  // The value, or for a fraction compared with an integer column, the integers around it.
  int64_t floor = 0, ceil = 0;
};

// A literal as DuckDB serialises it (class CONSTANT); nullopt when `expr` is none.
struct Literal {
  bool is_null = false;
  std::string type;             // the type's id: INTEGER, VARCHAR, ...
  const json* value = nullptr;  // the value itself; null when absent
};
std::optional<Literal> LiteralOf(const json& expr) {
  if (StringField(expr, "class") != "CONSTANT" || !expr.contains("value") || !expr["value"].is_object())
    return std::nullopt;
  const json& value = expr["value"];
  Literal out;
  out.is_null = value.value("is_null", false);
  out.type = value.contains("type") && value["type"].is_object() ? StringField(value["type"], "id") : "";
  if (const auto it = value.find("value"); it != value.end()) out.value = &*it;
  return out;
}

// An integer literal as it is serialised, read without asking DuckDB: the common case of an
// id (`query = 42`, `query IN (1, 2)`), so a point lookup costs no extra statement.
std::optional<Constant> IntegerLiteral(const json& expr) {
  const auto literal = LiteralOf(expr);
  if (!literal) return std::nullopt;
  if (literal->is_null) return Constant{Constant::kNull};
  const std::string& type = literal->type;
  if ((type != "INTEGER" && type != "BIGINT" && type != "SMALLINT" && type != "TINYINT") || literal->value == nullptr ||
      !literal->value->is_number_integer())
    return std::nullopt;
  const int64_t v = literal->value->get<int64_t>();
  return Constant{Constant::kValue, v, v};
}

// A text literal as it is serialised: nullopt when `expr` is none; an inner nullopt for NULL.
std::optional<std::optional<std::string>> TextLiteral(const json& expr) {
  const auto literal = LiteralOf(expr);
  if (!literal) return std::nullopt;
  if (literal->is_null) return std::optional<std::string>();
  if (literal->type != "VARCHAR" || literal->value == nullptr || !literal->value->is_string()) return std::nullopt;
  return std::optional<std::string>(literal->value->get<std::string>());
}

// A time as text, read as DuckDB reads it only in the plain forms "YYYY-MM-DD" and (unless
// `date_only`) "YYYY-MM-DD HH:MM:SS[.ffffff]"; nullopt for anything else, DuckDB's to read.
std::optional<int64_t> TimeText(std::string_view text, bool date_only) {
  const size_t n = text.size();
  const bool with_time = n == 19 || (n >= 21 && n <= 26 && text[19] == '.');
  if (!(n == 10 || (!date_only && with_time)) || (n > 10 && text[10] != ' ')) return std::nullopt;
  const auto parsed = ParseTimestamp(text);
  if (!parsed.ok()) return std::nullopt;
  // A day or second that does not exist (2026-02-30, 23:59:60) is DuckDB's to judge.
  const size_t fields = std::min<size_t>(n, 19);
  if (FormatTimestamp(*parsed).compare(0, fields, text.substr(0, fields)) != 0) return std::nullopt;
  return parsed->micros();
}

// An interval as text, "N unit" with a whole N of seconds, minutes, hours, days or weeks
// (singular or plural), in microseconds: a day of a TIMESTAMP is always 24 hours. Months,
// fractions and other forms are DuckDB's to read.
std::optional<int64_t> IntervalText(std::string_view text) {
  static const std::map<std::string, int64_t, std::less<>> kUnits = {{"second", 1'000'000},
                                                                     {"minute", 60'000'000},
                                                                     {"hour", 3'600'000'000},
                                                                     {"day", 86'400'000'000},
                                                                     {"week", 7 * 86'400'000'000LL}};
  size_t digits = 0;
  int64_t n = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    n = n * 10 + (text[digits++] - '0');
  if (digits == 0 || digits > 6 || digits + 1 >= text.size() || text[digits] != ' ') return std::nullopt;
  std::string unit = LowerAscii(std::string(text.substr(digits + 1)));
  if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
  const auto it = kUnits.find(unit);
  if (it == kUnits.end()) return std::nullopt;
  return n * it->second;
}

// The text of `expr` when it is `CAST('text' AS <type>)` (`TIMESTAMP '...'`, `INTERVAL '...'`).
std::optional<std::string> CastText(const json& expr, std::string_view type) {
  if (StringField(expr, "class") != "CAST" || !expr.contains("cast_type") || !expr["cast_type"].is_object() ||
      StringField(expr["cast_type"], "id") != type || !expr.contains("child"))
    return std::nullopt;
  auto text = TextLiteral(expr["child"]);
  if (!text) return std::nullopt;
  return std::move(*text);  // nullopt for NULL
}

// `TIMESTAMP '...'` or `DATE '...'`, plus or minus intervals (`- INTERVAL '2 hours'`), in
// microseconds since the epoch; nullopt for anything else.
std::optional<int64_t> TimeExpr(const json& expr) {
  if (const auto text = CastText(expr, "TIMESTAMP")) return TimeText(*text, false);
  if (const auto text = CastText(expr, "DATE")) return TimeText(*text, true);
  if (StringField(expr, "class") != "FUNCTION" || !expr.value("is_operator", false)) return std::nullopt;
  const std::string op = StringField(expr, "function_name");
  const auto children = expr.find("children");
  if ((op != "+" && op != "-") || children == expr.end() || !children->is_array() || children->size() != 2)
    return std::nullopt;
  const auto interval_of = [](const json& e) -> std::optional<int64_t> {
    const auto text = CastText(e, "INTERVAL");
    return text ? IntervalText(*text) : std::nullopt;
  };
  const json& a = (*children)[0];
  const json& b = (*children)[1];
  if (const auto time = TimeExpr(a)) {
    const auto interval = interval_of(b);
    if (!interval) return std::nullopt;
    return op == "+" ? *time + *interval : *time - *interval;
  }
  if (op != "+") return std::nullopt;
  const auto time = TimeExpr(b);  // INTERVAL '...' + TIMESTAMP '...'
  const auto interval = interval_of(a);
  if (!time || !interval) return std::nullopt;
  return *time + *interval;
}

// A time bound in one of the forms people write (`TIMESTAMP '2026-01-10 06:00:00' - INTERVAL
// '1 day'`, `DATE '2026-01-10'`, `'2026-01-10 06:00:00'`, NULL), read without asking DuckDB;
// nullopt for any other form, which DuckDB computes. (Years have four digits and intervals at
// most six, so no sum overflows.)
std::optional<Constant> TimeLiteral(const json& expr) {
  std::optional<int64_t> micros;
  if (const auto text = TextLiteral(expr)) {
    if (!*text) return Constant{Constant::kNull};
    micros = TimeText(**text, false);
  } else {
    micros = TimeExpr(expr);
  }
  if (!micros) return std::nullopt;
  return Constant{Constant::kValue, *micros, *micros};
}

// The values of constant expressions `exprs` as `kind`, computed by DuckDB from their own
// serialised form: one statement makes the SELECT, one reads their types, one their values.
// Nullopt when one of those statements failed (one expression that cannot be computed, say
// an overflow, fails them all).
std::optional<std::vector<Constant>> EvaluateInDuckDb(duck::Connection& conn, const std::vector<const json*>& exprs,
                                                      ValueKind kind, const json& serialised_template) {
  std::vector<Constant> out(exprs.size());
  json doc = serialised_template;
  json list = json::array();
  std::string names;
  for (size_t i = 0; i < exprs.size(); ++i) {
    list.push_back(*exprs[i]);
    names += fmt::format("{}v{}", i ? ", " : "", i);
  }
  doc["statements"][0]["node"]["select_list"] = std::move(list);
  auto text = conn.Query("SELECT json_deserialize_sql(" + duck::QuoteString(doc.dump()) + ")");
  if (!text.ok() || text->row_count() != 1) return std::nullopt;
  const std::string from = "FROM (" + text->text(0, 0) + ") AS t(" + names + ")";
  std::string typeofs;
  for (size_t i = 0; i < exprs.size(); ++i) typeofs += fmt::format("{}typeof(v{})", i ? ", " : "", i);
  auto types = conn.Query("SELECT " + typeofs + " " + from);
  if (!types.ok() || types->row_count() != 1 || types->column_count() != exprs.size()) return std::nullopt;
  std::string values;
  std::vector<bool> comparable(exprs.size());
  for (size_t i = 0; i < exprs.size(); ++i) {
    const std::string type = types->text(i, 0);
    std::string lo, hi;
    if (type == "\"NULL\"" || type == "NULL") {
      lo = hi = "NULL::BIGINT";
    } else if (kind == ValueKind::kTime) {
      if (type == "TIMESTAMP" || type == "DATE" || type == "VARCHAR") lo = hi = fmt::format("epoch_us(TRY_CAST(v{} AS TIMESTAMP))", i);
    } else if (type == "TINYINT" || type == "SMALLINT" || type == "INTEGER" || type == "BIGINT" || type == "HUGEINT" ||
               type == "UTINYINT" || type == "USMALLINT" || type == "UINTEGER" || type == "UBIGINT" || type == "UHUGEINT") {
      lo = hi = fmt::format("TRY_CAST(v{} AS BIGINT)", i);
    } else if (type.starts_with("DECIMAL") || type == "DOUBLE" || type == "FLOAT") {
      // A fraction lies between two integers: each bound takes the wider of them.
      lo = fmt::format("TRY_CAST(floor(v{}) AS BIGINT)", i);
      hi = fmt::format("TRY_CAST(ceil(v{}) AS BIGINT)", i);
    }
    // Anything else (text compared with an id, time zones, ...) stays unknown.
    comparable[i] = !lo.empty();
    if (lo.empty()) lo = hi = "NULL::BIGINT";
    values += fmt::format("{}v{} IS NULL, {}, {}", i ? ", " : "", i, lo, hi);
  }
  auto row = conn.Query("SELECT " + values + " " + from);
  if (!row.ok() || row->row_count() != 1) return std::nullopt;
  for (size_t i = 0; i < exprs.size(); ++i) {
    if (!comparable[i]) continue;
    if (row->text(3 * i, 0) == "true") {
      out[i].state = Constant::kNull;
    } else if (!row->is_null(3 * i + 1, 0) && !row->is_null(3 * i + 2, 0)) {
      out[i] = {Constant::kValue, row->int64(3 * i + 1, 0), row->int64(3 * i + 2, 0)};
    }
  }
  return out;
}

// The values of constant expressions `all_exprs` as `kind`.
std::vector<Constant> Evaluate(duck::Connection& conn, const std::vector<const json*>& all_exprs, ValueKind kind,
                               const json& serialised_template) {
  std::vector<Constant> all(all_exprs.size());
  // Integer literals and plain time bounds are read here; DuckDB computes the rest, in one batch.
  std::vector<const json*> exprs;
  std::vector<size_t> positions;
  for (size_t i = 0; i < all_exprs.size(); ++i) {
    const auto literal = kind == ValueKind::kInteger ? IntegerLiteral(*all_exprs[i]) : TimeLiteral(*all_exprs[i]);
    if (literal) {
      all[i] = *literal;
      continue;
    }
    exprs.push_back(all_exprs[i]);
    positions.push_back(i);
  }
  if (exprs.empty()) return all;
  if (auto computed = EvaluateInDuckDb(conn, exprs, kind, serialised_template)) {
    for (size_t i = 0; i < computed->size(); ++i) all[positions[i]] = (*computed)[i];
    return all;
  }
  // One of them cannot be computed: each alone, so that only that one stays unknown.
  for (size_t i = 0; exprs.size() > 1 && i < exprs.size(); ++i)
    if (auto one = EvaluateInDuckDb(conn, {exprs[i]}, kind, serialised_template)) all[positions[i]] = (*one)[0];
  return all;
}

ValueSet Intersect(const ValueSet& a, const ValueSet& b) {
  ValueSet out;
  for (const auto& x : a)
    for (const auto& y : b)
      if (std::max(x.lo, y.lo) <= std::min(x.hi, y.hi)) out.push_back({std::max(x.lo, y.lo), std::min(x.hi, y.hi)});
  std::sort(out.begin(), out.end(), [](const ValueInterval& x, const ValueInterval& y) { return x.lo < y.lo; });
  return out;
}

// Sorted, with overlapping intervals merged.
ValueSet Normalized(ValueSet set) {
  std::sort(set.begin(), set.end(), [](const ValueInterval& x, const ValueInterval& y) { return x.lo < y.lo; });
  ValueSet out;
  for (const auto& i : set) {
    if (!out.empty() && i.lo <= out.back().hi) out.back().hi = std::max(out.back().hi, i.hi);
    else out.push_back(i);
  }
  return out;
}

// The columns a reference can be bounded by: its column (lower case) -> the table column it
// stands for, and how that compares.
struct BoundColumn {
  std::string table_column;
  ValueKind kind;
};
using BoundColumns = std::map<std::string, BoundColumn>;

// One WHERE conjunct that bounds a column by constants: =, <, <=, >, >= (either way round),
// BETWEEN, IN (a list). Its constants are evaluated later, with every other conjunct's.
struct BoundConjunct {
  BoundColumn column;
  enum class Op { kCompare, kBetween, kIn } op = Op::kCompare;
  bool lower = false, upper = false;  // kCompare: which sides the constant bounds
  std::vector<const json*> constants;
  std::vector<Constant> values;       // filled by EvaluateAll
  std::vector<std::optional<std::string>> texts;  // kCluster: the literals (nullopt: NULL)
};

// A cluster conjunct (`cluster = 'a'`, `cluster IN ('a', 'b')`) with its literals read, or
// nullopt: clusters are bounded by equality with plain text literals only.
std::optional<BoundConjunct> WithClusterTexts(BoundConjunct c) {
  if (c.op == BoundConjunct::Op::kBetween || (c.op == BoundConjunct::Op::kCompare && !(c.lower && c.upper)))
    return std::nullopt;
  for (const json* e : c.constants) {
    auto text = TextLiteral(*e);
    if (!text) return std::nullopt;
    c.texts.push_back(std::move(*text));
  }
  return c;
}

// The conjunct `cond` of `ref`'s WHERE as a bound on one of `columns`; nullopt when it is not one.
std::optional<BoundConjunct> MatchConjunct(const json& cond, const Reference& ref, const BoundColumns& columns) {
  // The bound column `e` names, or null.
  const auto column_of = [&](const json& e) -> std::optional<BoundColumn> {
    if (StringField(e, "class") != "COLUMN_REF" || !e.contains("column_names")) return std::nullopt;
    const json& names = e["column_names"];
    if (!names.is_array() || names.empty() || !names.back().is_string()) return std::nullopt;
    const auto it = columns.find(LowerName(names.back()));
    if (it == columns.end()) return std::nullopt;
    const bool mine = names.size() == 1 ? ref.alone  // unqualified: only when the table is the whole FROM
                                        : names.size() == 2 && names[0].is_string() && LowerName(names[0]) == ref.alias;
    return mine ? std::optional(it->second) : std::nullopt;
  };
  const std::string cls = StringField(cond, "class"), type = StringField(cond, "type");
  BoundConjunct out;
  if (cls == "COMPARISON") {
    const json* left = cond.contains("left") ? &cond["left"] : nullptr;
    const json* right = cond.contains("right") ? &cond["right"] : nullptr;
    if (left == nullptr || right == nullptr) return std::nullopt;
    bool flipped = false;
    auto column = column_of(*left);
    if (!column) {
      if (!(column = column_of(*right))) return std::nullopt;
      std::swap(left, right);
      flipped = true;
    }
    if (!IsConstant(*right)) return std::nullopt;
    const bool at_least = type == "COMPARE_GREATERTHANOREQUALTO" || type == "COMPARE_GREATERTHAN";
    const bool at_most = type == "COMPARE_LESSTHANOREQUALTO" || type == "COMPARE_LESSTHAN";
    if (type == "COMPARE_EQUAL") out.lower = out.upper = true;
    else if (at_least) (flipped ? out.upper : out.lower) = true;
    else if (at_most) (flipped ? out.lower : out.upper) = true;
    else return std::nullopt;
    out.column = *column;
    out.op = BoundConjunct::Op::kCompare;
    out.constants = {right};
  } else if (cls == "BETWEEN" && type == "COMPARE_BETWEEN") {
    if (!cond.contains("input") || !cond.contains("lower") || !cond.contains("upper")) return std::nullopt;
    const auto column = column_of(cond["input"]);
    if (!column || !IsConstant(cond["lower"]) || !IsConstant(cond["upper"])) return std::nullopt;
    out.column = *column;
    out.op = BoundConjunct::Op::kBetween;
    out.constants = {&cond["lower"], &cond["upper"]};
  } else if (cls == "OPERATOR" && type == "COMPARE_IN") {
    const auto it = cond.find("children");
    if (it == cond.end() || !it->is_array() || it->size() < 2) return std::nullopt;
    const auto column = column_of((*it)[0]);
    if (!column) return std::nullopt;
    out.column = *column;
    for (size_t i = 1; i < it->size(); ++i) {
      if (!IsConstant((*it)[i])) return std::nullopt;
      out.constants.push_back(&(*it)[i]);
    }
    out.op = BoundConjunct::Op::kIn;
  } else {
    return std::nullopt;
  }
  if (out.column.kind == ValueKind::kCluster) return WithClusterTexts(std::move(out));
  return out;
}

// Narrows `bounds` to `clusters`.
void NarrowClusters(std::set<std::string> clusters, ReferenceBounds* bounds) {
  if (bounds->clusters) {
    std::set<std::string> both;
    std::set_intersection(bounds->clusters->begin(), bounds->clusters->end(), clusters.begin(), clusters.end(),
                          std::inserter(both, both.end()));
    clusters = std::move(both);
  }
  bounds->clusters = std::move(clusters);
}

// Narrows `bounds` to the values `set` (normalised) in `column`.
void NarrowColumn(const std::string& column, ValueSet set, ReferenceBounds* bounds) {
  set = Normalized(std::move(set));
  auto [it, fresh] = bounds->ranges.try_emplace(column, set);
  if (!fresh) it->second = Intersect(it->second, set);
}

// Narrows `bounds` by one evaluated conjunct; a constant DuckDB could not compute leaves them.
void Fold(const BoundConjunct& c, ReferenceBounds* bounds) {
  if (c.column.kind == ValueKind::kCluster) {
    std::set<std::string> clusters;
    for (const auto& t : c.texts)
      if (t) clusters.insert(*t);  // a NULL item matches nothing
    NarrowClusters(std::move(clusters), bounds);
    return;
  }
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
  const std::vector<Constant>& v = c.values;
  if (std::any_of(v.begin(), v.end(), [](const Constant& x) { return x.state == Constant::kUnknown; })) return;
  ValueSet set;
  switch (c.op) {
    case BoundConjunct::Op::kCompare:
      // Inclusive either way: a strict comparison keeps the file that holds the bound itself.
      if (v[0].state == Constant::kValue) set.push_back({c.lower ? v[0].floor : kMin, c.upper ? v[0].ceil : kMax});
      break;
    case BoundConjunct::Op::kBetween:
      if (v[0].state == Constant::kValue && v[1].state == Constant::kValue) set.push_back({v[0].floor, v[1].ceil});
      break;
    case BoundConjunct::Op::kIn:
      for (const Constant& x : v)
        if (x.state == Constant::kValue) set.push_back({x.floor, x.ceil});  // a NULL item matches nothing
      break;
  }
  NarrowColumn(c.column.table_column, std::move(set), bounds);
}

// The conjuncts of `ref`'s WHERE that bound `columns`; nullopt when the reference cannot be
// bounded (no SELECT of its own, no WHERE, or none of the columns).
std::optional<std::vector<BoundConjunct>> MatchBounds(const Reference& ref, const BoundColumns& columns) {
  if (ref.select == nullptr || columns.empty()) return std::nullopt;
  const auto where = ref.select->find("where_clause");
  if (where == ref.select->end() || !where->is_object()) return std::nullopt;
  std::vector<const json*> conjuncts;
  if (StringField(*where, "type") == "CONJUNCTION_AND" && where->contains("children")) {
    for (const auto& c : (*where)["children"]) conjuncts.push_back(&c);
  } else {
    conjuncts.push_back(&*where);
  }
  std::vector<BoundConjunct> matched;
  for (const json* c : conjuncts)
    if (auto m = MatchConjunct(*c, ref, columns)) matched.push_back(std::move(*m));
  return matched;
}

// Evaluates the constants of every conjunct, with one batch per kind of column (a statement
// with time bounds asks DuckDB three queries in all, however many bounds it has).
void EvaluateAll(duck::Connection& conn, const std::vector<BoundConjunct*>& conjuncts,
                 const json& serialised_template) {
  for (const ValueKind kind : {ValueKind::kTime, ValueKind::kInteger}) {  // clusters need no evaluation
    std::vector<const json*> exprs;
    for (const BoundConjunct* c : conjuncts)
      if (c->column.kind == kind) exprs.insert(exprs.end(), c->constants.begin(), c->constants.end());
    if (exprs.empty()) continue;
    const std::vector<Constant> values = Evaluate(conn, exprs, kind, serialised_template);
    size_t next = 0;
    for (BoundConjunct* c : conjuncts) {
      if (c->column.kind != kind) continue;
      c->values.assign(values.begin() + static_cast<std::ptrdiff_t>(next),
                       values.begin() + static_cast<std::ptrdiff_t>(next + c->constants.size()));
      next += c->constants.size();
    }
  }
}

// The columns of `table` whose per-file ranges the catalog may hold, as bound columns.
BoundColumns TableColumns(const std::string& table, const std::map<std::string, std::string>& cursor_columns) {
  BoundColumns columns;
  columns["cluster"] = {"cluster", ValueKind::kCluster};
  for (const auto& id : IdRangeColumns()) columns[id] = {id, ValueKind::kInteger};
  if (auto it = cursor_columns.find(table); it != cursor_columns.end())
    columns[LowerAscii(it->second)] = {LowerAscii(it->second), ValueKind::kTime};
  return columns;
}

// The tables each helper or fleet view reads, lower case.
std::map<std::string, std::vector<std::string>> TablesOfViews() {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& v : TextViews()) out[v.view].push_back(v.table);
  for (const auto& v : FleetViews())
    for (const auto& t : v.tables) out[v.name].push_back(t);
  return out;
}

}  // namespace

const std::vector<ViewPassThrough>& ViewPassThroughs() {
  // Only what the SQL of the views (engine.cc's text views, fleet_views.cc) passes through
  // as it is: projections and GROUP BY keys. Times that are aggregates (min(start_time)) are
  // not, nor columns of a LEFT JOIN's other side.
  static const std::vector<ViewPassThrough> views = {
      {"stl_querytext_full", "stl_querytext", {{"cluster", "cluster"}, {"query", "query"}}},
      {"stl_ddltext_full", "stl_ddltext", {{"cluster", "cluster"}, {"xid", "xid"}, {"starttime", "starttime"}}},
      {"stl_utilitytext_full", "stl_utilitytext", {{"cluster", "cluster"}, {"xid", "xid"}, {"starttime", "starttime"}}},
      {"fleet_queries",
       "stl_query",
       {{"cluster", "cluster"}, {"query_id", "query"}, {"transaction_id", "xid"}, {"end_time", "endtime"}}},
      {"fleet_queries", "stl_wlm_query", {{"cluster", "cluster"}, {"query_id", "query"}}},
      {"fleet_queries",
       "sys_query_history",
       {{"cluster", "cluster"},
        {"query_id", "query_id"},
        {"transaction_id", "transaction_id"},
        {"end_time", "end_time"}}},
      {"fleet_query_text", "stl_querytext", {{"cluster", "cluster"}, {"query_id", "query"}}},
      {"fleet_query_text", "sys_query_text", {{"cluster", "cluster"}, {"query_id", "query_id"}}},
      {"fleet_alerts",
       "stl_alert_event_log",
       {{"cluster", "cluster"}, {"query_id", "query"}, {"event_time", "event_time"}}},
      {"fleet_alerts", "sys_query_detail", {{"cluster", "cluster"}, {"query_id", "query_id"}}},
      {"fleet_scans", "stl_scan", {{"cluster", "cluster"}, {"query_id", "query"}}},
      {"fleet_scans", "sys_query_detail", {{"cluster", "cluster"}, {"query_id", "query_id"}}},
      {"fleet_loads", "sys_load_history", {{"cluster", "cluster"}, {"query_id", "query_id"}, {"end_time", "end_time"}}},
  };
  return views;
}

namespace {

// DuckDB's serialised form of `SELECT 1`, the statement EvaluateInDuckDb puts a bound's
// expression in to evaluate it. It depends on DuckDB's version only, so it is made once
// per process (a long-lived engine asked for it with every statement). Null when DuckDB
// cannot make it; a later call tries again.
const json* SerialisedTemplate(duck::Connection& conn) {
  static std::mutex mu;
  static std::optional<json> made;
  std::lock_guard lock(mu);
  if (!made) {
    auto serialised = conn.Query("SELECT json_serialize_sql('SELECT 1')");
    if (!serialised.ok() || serialised->row_count() != 1) return nullptr;
    json tmpl = json::parse(serialised->text(0, 0), nullptr, false);
    if (tmpl.is_discarded()) return nullptr;
    made = std::move(tmpl);
  }
  return &*made;
}

// The BASE_TABLE items of a FROM subtree, through joins that pair rows by their values
// (not into subqueries, nor through ASOF, POSITIONAL or LATERAL joins, whose partners depend
// on what else is there).
void TablesUnder(const json& item, std::vector<const json*>* out) {
  const std::string type = StringField(item, "type");
  if (type == "BASE_TABLE") {
    out->push_back(&item);
  } else if (type == "JOIN" &&
             (StringField(item, "ref_type") == "REGULAR" || StringField(item, "ref_type") == "CROSS")) {
    if (item.contains("left")) TablesUnder(item["left"], out);
    if (item.contains("right")) TablesUnder(item["right"], out);
  }
}

// Finds joins' equalities of columns and gives each reference they bound its JoinKeys.
class JoinCollector {
 public:
  JoinCollector(const std::vector<Reference>& refs, const std::map<std::string, std::string>& cursor_columns)
      : refs_(refs), cursor_columns_(cursor_columns), keys_(refs.size()) {
    for (size_t i = 0; i < refs.size(); ++i) index_[refs[i].node] = i;
  }

  void Walk(const json& node) {
    if (node.is_array()) {
      for (const auto& child : node) Walk(child);
      return;
    }
    if (!node.is_object()) return;
    const std::string type = StringField(node, "type");
    if (type == "JOIN") OnJoin(node);
    if (type == "SELECT_NODE") OnWhere(node);
    for (const auto& [key, child] : node.items()) Walk(child);
  }

  std::vector<std::vector<JoinKey>> Take() { return std::move(keys_); }

 private:
  // The reference among `items` (BASE_TABLE items) that `alias` names, once; else null.
  const Reference* Named(const std::vector<const json*>& items, const std::string& alias) const {
    const Reference* found = nullptr;
    for (const json* item : items) {
      const auto it = index_.find(item);
      if (it == index_.end() || refs_[it->second].alias != alias) continue;
      if (found != nullptr) return nullptr;
      found = &refs_[it->second];
    }
    return found;
  }

  // `expr` as a qualified column of a reference among `items`: (reference, column).
  std::optional<std::pair<const Reference*, std::string>> ColumnOf(const json& expr,
                                                                   const std::vector<const json*>& items) const {
    if (StringField(expr, "class") != "COLUMN_REF" || !expr.contains("column_names")) return std::nullopt;
    const json& names = expr["column_names"];
    if (!names.is_array() || names.size() != 2 || !names[0].is_string() || !names[1].is_string()) return std::nullopt;
    const Reference* ref = Named(items, LowerName(names[0]));
    if (ref == nullptr || !ref->plain) return std::nullopt;
    return std::pair(ref, LowerName(names[1]));
  }

  // How a table's column compares with the catalog's ranges; nullopt: it has none.
  std::optional<ValueKind> KindOf(const std::string& table, const std::string& column) const {
    const BoundColumns columns = TableColumns(table, cursor_columns_);
    const auto it = columns.find(column);
    return it == columns.end() ? std::nullopt : std::optional(it->second.kind);
  }

  // `a`'s rows need a partner in `b` with the same value.
  void Bound(const Reference& a, const std::string& a_column, const Reference& b, const std::string& b_column) {
    const auto kind = KindOf(a.name, a_column);
    if (&a == &b || !kind || kind != KindOf(b.name, b_column)) return;
    keys_[static_cast<size_t>(&a - refs_.data())].push_back({a_column, b.name, b_column});
  }

  // The equalities `cond` (a condition, or an AND of them) sets between a reference of
  // `left` and one of `right`, bounding the side(s) whose unmatched rows are dropped.
  void Equalities(const json& cond, const std::vector<const json*>& left, const std::vector<const json*>& right,
                  bool bound_left, bool bound_right) {
    if (StringField(cond, "type") == "CONJUNCTION_AND" && cond.contains("children")) {
      for (const auto& c : cond["children"]) Equalities(c, left, right, bound_left, bound_right);
      return;
    }
    if (StringField(cond, "class") != "COMPARISON" || StringField(cond, "type") != "COMPARE_EQUAL" ||
        !cond.contains("left") || !cond.contains("right"))
      return;
    auto x = ColumnOf(cond["left"], left), y = ColumnOf(cond["right"], right);
    if (!x || !y) {
      x = ColumnOf(cond["right"], left);
      y = ColumnOf(cond["left"], right);
    }
    if (!x || !y) return;
    if (bound_left) Bound(*x->first, x->second, *y->first, y->second);
    if (bound_right) Bound(*y->first, y->second, *x->first, x->second);
  }

  void OnJoin(const json& join) {
    if (StringField(join, "ref_type") != "REGULAR" || !join.contains("left") || !join.contains("right")) return;
    // Whose unmatched rows the join drops: both sides of an inner join, the side an outer
    // join does not keep, the left of a semi join.
    const std::string type = StringField(join, "join_type");
    const bool bound_left = type == "INNER" || type == "RIGHT" || type == "SEMI";
    const bool bound_right = type == "INNER" || type == "LEFT";
    if (!bound_left && !bound_right) return;
    std::vector<const json*> left, right;
    TablesUnder(join["left"], &left);
    TablesUnder(join["right"], &right);
    if (join.contains("condition") && join["condition"].is_object())
      Equalities(join["condition"], left, right, bound_left, bound_right);
    // USING between two tables (with more, the left column may come from any of them).
    const auto using_columns = join.find("using_columns");
    if (using_columns == join.end() || !using_columns->is_array() || left.size() != 1 || right.size() != 1) return;
    const auto l = index_.find(left[0]), r = index_.find(right[0]);
    if (l == index_.end() || r == index_.end() || !refs_[l->second].plain || !refs_[r->second].plain) return;
    for (const auto& c : *using_columns) {
      if (!c.is_string()) continue;
      const std::string column = LowerName(c);
      if (bound_left) Bound(refs_[l->second], column, refs_[r->second], column);
      if (bound_right) Bound(refs_[r->second], column, refs_[l->second], column);
    }
  }

  // An equality in a SELECT's WHERE drops the rows of both sides that do not meet.
  void OnWhere(const json& select) {
    const auto where = select.find("where_clause");
    if (where == select.end() || !where->is_object()) return;
    std::vector<const json*> items;
    for (const auto& ref : refs_)
      if (ref.select == &select) items.push_back(ref.node);
    Equalities(*where, items, items, true, true);
  }

  const std::vector<Reference>& refs_;
  const std::map<std::string, std::string>& cursor_columns_;
  std::map<const json*, size_t> index_;
  std::vector<std::vector<JoinKey>> keys_;  // per reference
};

}  // namespace

StatementRanges RangesOf(duck::Connection& conn, const std::string& sql,
                         const std::map<std::string, std::string>& cursor_columns) {
  StatementRanges out;
  auto serialised = conn.Query("SELECT json_serialize_sql(" + duck::QuoteString(sql) + ")");
  const json* const tmpl = SerialisedTemplate(conn);
  if (!serialised.ok() || tmpl == nullptr || serialised->row_count() != 1) return out;
  const json doc = json::parse(serialised->text(0, 0), nullptr, false);
  if (doc.is_discarded() || doc.value("error", true) || !doc.contains("statements") || doc["statements"].size() != 1)
    return out;
  out.parsed = true;
  std::vector<Reference> refs;
  CollectReferences(doc["statements"], nullptr, nullptr, &out, &refs);
  if (out.table_function) return out;

  JoinCollector joins(refs, cursor_columns);
  joins.Walk(doc["statements"]);
  std::vector<std::vector<JoinKey>> join_keys = joins.Take();

  // Each table's references: its own, and those of the views that read it.
  struct Matched {
    std::optional<std::vector<BoundConjunct>> conjuncts;
    std::vector<JoinKey> joins;
  };
  const auto views = TablesOfViews();
  std::map<std::string, std::vector<Matched>> by_table;
  for (size_t i = 0; i < refs.size(); ++i) {
    const Reference& ref = refs[i];
    const auto view = views.find(ref.name);
    if (view == views.end()) {
      by_table[ref.name].push_back({MatchBounds(ref, TableColumns(ref.name, cursor_columns)), std::move(join_keys[i])});
      continue;
    }
    for (const auto& table : view->second) {
      // The view's columns that stand for a column of `table` the catalog has ranges of.
      const BoundColumns of_table = TableColumns(table, cursor_columns);
      BoundColumns columns;
      for (const auto& p : ViewPassThroughs()) {
        if (p.view != ref.name || p.table != table) continue;
        for (const auto& [view_column, table_column] : p.columns)
          if (auto c = of_table.find(table_column); c != of_table.end()) columns[view_column] = c->second;
      }
      by_table[table].push_back({MatchBounds(ref, columns), {}});
    }
  }
  std::vector<BoundConjunct*> all;
  for (auto& [table, references] : by_table)
    for (auto& matched : references)
      if (matched.conjuncts)
        for (auto& c : *matched.conjuncts) all.push_back(&c);
  EvaluateAll(conn, all, *tmpl);

  for (auto& [table, references] : by_table) {
    std::vector<ReferenceBounds> kept;
    for (auto& matched : references) {
      ReferenceBounds bounds;
      if (matched.conjuncts)
        for (const auto& c : *matched.conjuncts) Fold(c, &bounds);
      bounds.joins = std::move(matched.joins);
      if (!bounds.bounds_anything()) break;  // an unbounded reference: the table keeps every file
      kept.push_back(std::move(bounds));
    }
    if (kept.size() == references.size()) out.bounded[table] = std::move(kept);
  }
  return out;
}

namespace {

// The range of `column` in file `f` of a table whose cursor column is `cursor` (lower case);
// nullopt when the catalog has none.
std::optional<IdRange> RangeIn(const CommittedFile& f, const std::string& cursor, const std::string& column) {
  if (!cursor.empty() && column == cursor) {
    if (f.min_cursor && f.max_cursor) return IdRange{f.min_cursor->micros(), f.max_cursor->micros()};
    return std::nullopt;
  }
  if (auto it = f.id_ranges.find(column); it != f.id_ranges.end()) return it->second;
  return std::nullopt;
}

std::string CursorOf(const std::map<std::string, std::string>& cursor_columns, const std::string& table) {
  const auto it = cursor_columns.find(table);
  return it == cursor_columns.end() ? "" : LowerAscii(it->second);
}

// Adds to `read` (files of `all` that a statement needs) one file of each set of columns
// among `all` that `read` lacks, so that a narrowed view has the columns, their order and
// their types of the whole view (the engine's views group files by their columns), and is
// never empty.
void KeepEveryColumnSet(const std::vector<const CommittedFile*>& all, std::vector<const CommittedFile*>* read) {
  std::set<std::string> present;
  for (const auto* f : *read) present.insert(f->columns);
  for (const auto* f : all)
    if (present.insert(f->columns).second) read->push_back(f);
}

// Turns `bounds`' joins into ranges and clusters: the values the other table's files
// `others` hold in the joined column. A join whose values are not all known bounds nothing.
void ResolveJoin(const JoinKey& key, const std::vector<const CommittedFile*>& others, const std::string& other_cursor,
                 ReferenceBounds* bounds) {
  if (key.column == "cluster") {
    std::set<std::string> clusters;
    for (const auto* f : others) {
      if (f->cluster.empty()) return;
      clusters.insert(f->cluster);
    }
    NarrowClusters(std::move(clusters), bounds);
    return;
  }
  ValueSet set;
  for (const auto* f : others) {
    const auto range = RangeIn(*f, other_cursor, key.other_column);
    if (!range) return;
    set.push_back({range->min, range->max});
  }
  NarrowColumn(key.column, std::move(set), bounds);
}

}  // namespace

std::vector<const CommittedFile*> PruneFiles(const std::vector<const CommittedFile*>& files,
                                             const std::string& cursor_column,
                                             const std::vector<ReferenceBounds>& references) {
  const std::string cursor = LowerAscii(cursor_column);
  // Whether `f` may hold a value of `set` in `column` (yes when its range is unknown).
  const auto meets = [&](const CommittedFile& f, const std::string& column, const ValueSet& set) {
    const std::optional<IdRange> range = RangeIn(f, cursor, column);
    if (!range) return true;
    return std::any_of(set.begin(), set.end(), [&](const ValueInterval& i) { return i.lo <= range->max && range->min <= i.hi; });
  };
  const auto in_clusters = [](const CommittedFile& f, const ReferenceBounds& ref) {
    return !ref.clusters || f.cluster.empty() || ref.clusters->count(f.cluster) > 0;
  };
  std::vector<const CommittedFile*> kept;
  for (const auto* f : files) {
    const bool needed = std::any_of(references.begin(), references.end(), [&](const ReferenceBounds& ref) {
      return in_clusters(*f, ref) && std::all_of(ref.ranges.begin(), ref.ranges.end(),
                                                 [&](const auto& c) { return meets(*f, c.first, c.second); });
    });
    if (needed) kept.push_back(f);
  }
  return kept;
}

std::map<std::string, std::vector<const CommittedFile*>> PruneTables(
    const std::map<std::string, std::vector<const CommittedFile*>>& tables,
    const std::map<std::string, std::string>& cursor_columns, const StatementRanges& ranges) {
  std::map<std::string, std::vector<const CommittedFile*>> read;
  if (ranges.table_function) return read;
  // A table's files as the statement reads them so far.
  const auto current = [&](const std::string& table) -> const std::vector<const CommittedFile*>* {
    if (auto it = read.find(table); it != read.end()) return &it->second;
    if (auto it = tables.find(table); it != tables.end()) return &it->second;
    return nullptr;
  };
  const auto joined = [](const std::vector<ReferenceBounds>& refs) {
    return std::any_of(refs.begin(), refs.end(), [](const ReferenceBounds& r) { return !r.joins.empty(); });
  };
  // Tables bounded by their own filters first, so that joins to them take their narrowed files.
  for (const bool with_joins : {false, true}) {
    for (const auto& [table, references] : ranges.bounded) {
      const auto files = tables.find(table);
      if (joined(references) != with_joins || files == tables.end() || files->second.empty()) continue;
      std::vector<ReferenceBounds> resolved = references;
      for (auto& ref : resolved) {
        for (const JoinKey& key : ref.joins) {
          const auto* others = current(key.other_table);
          if (others != nullptr && !others->empty() && !ranges.ctes.count(key.other_table))
            ResolveJoin(key, *others, CursorOf(cursor_columns, key.other_table), &ref);
        }
        ref.joins.clear();
      }
      std::vector<const CommittedFile*> kept = PruneFiles(files->second, CursorOf(cursor_columns, table), resolved);
      KeepEveryColumnSet(files->second, &kept);
      if (kept.size() < files->second.size()) read[table] = std::move(kept);
    }
  }
  return read;
}

}  // namespace fleetlog
