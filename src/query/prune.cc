#include "query/prune.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace fleetlog {
namespace {

using nlohmann::json;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string StringField(const json& node, const char* key) {
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : "";
}

// A FROM item naming a table, view or CTE, and the SELECT whose FROM clause holds it.
struct Reference {
  std::string name;   // lower case
  std::string alias;  // lower case; the name when there is none
  const json* select = nullptr;  // the SELECT_NODE; null when not directly in a FROM clause
  bool alone = false;            // the whole FROM clause of `select`
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
  }
  if (type == "BASE_TABLE") {
    Reference r;
    r.name = Lower(StringField(node, "table_name"));
    r.alias = Lower(StringField(node, "alias"));
    if (r.alias.empty()) r.alias = r.name;
    // A name qualified by a schema or catalog is not one of the lake's views, and a sample
    // depends on every row there is: unbounded.
    const bool plain = StringField(node, "schema_name").empty() && StringField(node, "catalog_name").empty() &&
                       node.value("sample", json()).is_null();
    r.select = plain ? select : nullptr;
    r.alone = from_root == &node;
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

// The value of constant `expr` as microseconds, when it is a timestamp, a date or a string
// DuckDB casts to a timestamp; DuckDB computes it from its own serialised form.
std::optional<int64_t> EvaluateMicros(duck::Connection& conn, const json& expr, const json& serialised_template) {
  json doc = serialised_template;
  doc["statements"][0]["node"]["select_list"] = json::array({expr});
  auto text = conn.Query("SELECT json_deserialize_sql(" + duck::QuoteString(doc.dump()) + ")");
  if (!text.ok() || text->row_count() != 1) return std::nullopt;
  const std::string select = text->text(0, 0);
  auto value = conn.Query("SELECT typeof(v) IN ('TIMESTAMP', 'DATE', 'VARCHAR'), epoch_us(TRY_CAST(v AS TIMESTAMP)) "
                          "FROM (" + select + ") AS t(v)");
  if (!value.ok() || value->row_count() != 1 || value->text(0, 0) != "true" || value->is_null(1, 0))
    return std::nullopt;
  return std::stoll(value->text(1, 0));
}

// Narrows `range` by one WHERE conjunct when it compares `ref`'s cursor column to a constant.
void ApplyComparison(duck::Connection& conn, const json& cmp, const Reference& ref, const std::string& column,
                     const json& serialised_template, CursorRange* range) {
  const std::string type = StringField(cmp, "type");
  const json* left = cmp.contains("left") ? &cmp["left"] : nullptr;
  const json* right = cmp.contains("right") ? &cmp["right"] : nullptr;
  if (left == nullptr || right == nullptr) return;
  const auto names_column = [&](const json& e) {
    if (StringField(e, "class") != "COLUMN_REF" || !e.contains("column_names")) return false;
    const json& names = e["column_names"];
    if (!names.is_array() || names.empty() || !names.back().is_string() || Lower(names.back()) != column) return false;
    if (names.size() == 1) return ref.alone;  // unqualified: only when the table is the whole FROM
    return names.size() == 2 && names[0].is_string() && Lower(names[0]) == ref.alias;
  };
  bool flipped = false;
  if (!names_column(*left)) {
    if (!names_column(*right)) return;
    std::swap(left, right);
    flipped = true;
  }
  if (!IsConstant(*right)) return;
  bool lower = false, upper = false;
  if (type == "COMPARE_EQUAL") lower = upper = true;
  else if (type == "COMPARE_GREATERTHANOREQUALTO" || type == "COMPARE_GREATERTHAN") (flipped ? upper : lower) = true;
  else if (type == "COMPARE_LESSTHANOREQUALTO" || type == "COMPARE_LESSTHAN") (flipped ? lower : upper) = true;
  else return;
  const std::optional<int64_t> value = EvaluateMicros(conn, *right, serialised_template);
  if (!value) return;
  // Inclusive either way: a strict comparison keeps the file that holds the bound itself.
  if (lower) range->lower = std::max(range->lower.value_or(*value), *value);
  if (upper) range->upper = std::min(range->upper.value_or(*value), *value);
}

// The range `ref`'s SELECT bounds its cursor column to; nullopt when it sets no bound.
std::optional<CursorRange> RangeOf(duck::Connection& conn, const Reference& ref, const std::string& column,
                                   const json& serialised_template) {
  if (ref.select == nullptr) return std::nullopt;
  const auto where = ref.select->find("where_clause");
  if (where == ref.select->end() || !where->is_object()) return std::nullopt;
  std::vector<const json*> conjuncts;
  if (StringField(*where, "type") == "CONJUNCTION_AND" && where->contains("children")) {
    for (const auto& c : (*where)["children"]) conjuncts.push_back(&c);
  } else {
    conjuncts.push_back(&*where);
  }
  CursorRange range;
  for (const json* c : conjuncts)
    if (StringField(*c, "class") == "COMPARISON") ApplyComparison(conn, *c, ref, column, serialised_template, &range);
  if (!range.lower && !range.upper) return std::nullopt;
  return range;
}

}  // namespace

StatementRanges RangesOf(duck::Connection& conn, const std::string& sql,
                         const std::map<std::string, std::string>& cursor_columns) {
  StatementRanges out;
  auto serialised = conn.Query("SELECT json_serialize_sql(" + duck::QuoteString(sql) + ")");
  auto serialised_template = conn.Query("SELECT json_serialize_sql('SELECT 1')");
  if (!serialised.ok() || !serialised_template.ok() || serialised->row_count() != 1) return out;
  const json doc = json::parse(serialised->text(0, 0), nullptr, false);
  const json tmpl = json::parse(serialised_template->text(0, 0), nullptr, false);
  if (doc.is_discarded() || tmpl.is_discarded() || doc.value("error", true) || !doc.contains("statements") ||
      doc["statements"].size() != 1)
    return out;
  std::vector<Reference> refs;
  CollectReferences(doc["statements"], nullptr, nullptr, &out, &refs);
  if (out.table_function) return out;
  for (const auto& [table, column] : cursor_columns) {
    std::vector<CursorRange> ranges;
    bool all_bounded = true;
    for (const auto& ref : refs) {
      if (ref.name != table) continue;
      auto range = RangeOf(conn, ref, Lower(column), tmpl);
      if (!range) {
        all_bounded = false;
        break;
      }
      ranges.push_back(*range);
    }
    if (all_bounded && !ranges.empty()) out.bounded[table] = std::move(ranges);
  }
  return out;
}

std::vector<const CommittedFile*> PruneFiles(const std::vector<const CommittedFile*>& files,
                                             const std::vector<CursorRange>& ranges) {
  std::vector<const CommittedFile*> kept;
  for (const auto* f : files) {
    const bool needed = !f->min_cursor || !f->max_cursor ||
                        std::any_of(ranges.begin(), ranges.end(), [&](const CursorRange& r) {
                          return (!r.lower || f->max_cursor->micros() >= *r.lower) &&
                                 (!r.upper || f->min_cursor->micros() <= *r.upper);
                        });
    if (needed) kept.push_back(f);
  }
  return kept;
}

}  // namespace fleetlog
