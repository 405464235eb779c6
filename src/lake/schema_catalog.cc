#include "lake/schema_catalog.h"

namespace fleetlog {
namespace {

std::string SchemaKey(const std::string& table) { return "schema/" + table; }

}  // namespace

Result<TableSchema> StoredSchema(StateStore& state, const std::string& table) {
  ASSIGN_OR_RETURN(auto text, state.GetValue(SchemaKey(table)));
  if (!text) return TableSchema{};
  return SchemaFromText(*text);
}

Status RecordSchema(StateStore& state, const std::string& table, const TableSchema& schema) {
  ASSIGN_OR_RETURN(TableSchema known, StoredSchema(state, table));
  bool changed = false;
  for (const auto& c : schema) {
    if (FindColumn(known, c.name) < 0) {
      known.push_back(c);
      changed = true;
    }
  }
  return changed ? state.PutValue(SchemaKey(table), SchemaToText(known)) : Status::Ok();
}

}  // namespace fleetlog
