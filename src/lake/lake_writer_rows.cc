#include "lake/lake_writer_rows.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <numeric>
#include <unordered_map>

#include "core/text.h"

namespace fleetlog {
namespace {

template <typename T>
void FillValues(duckdb_vector vector, const std::vector<int64_t>& from, size_t first, const uint32_t* index,
                size_t count) {
  T* data = static_cast<T*>(duckdb_vector_get_data(vector));
  for (size_t i = 0; i < count; ++i) data[i] = static_cast<T>(from[index ? index[i] : first + i]);
}

// The scans registered now, by handle.
std::mutex scans_mu;
std::unordered_map<int64_t, const RowsScan*> scans;  // guarded by scans_mu
std::atomic<int64_t> next_handle{1};

struct ScanBind {
  const RowsScan* scan;
  size_t begin, end;
};

struct ScanInit {
  size_t next;
};

void BindRows(duckdb_bind_info info) {
  int64_t args[3];
  for (idx_t i = 0; i < 3; ++i) {
    duckdb_value v = duckdb_bind_get_parameter(info, i);
    args[i] = duckdb_get_int64(v);
    duckdb_destroy_value(&v);
  }
  const RowsScan* scan = nullptr;
  {
    std::lock_guard lock(scans_mu);
    auto it = scans.find(args[0]);
    if (it != scans.end()) scan = it->second;
  }
  if (scan == nullptr) return duckdb_bind_set_error(info, "fleetlog_window_rows: no such window");
  if (args[1] < 0 || args[1] > args[2] || static_cast<size_t>(args[2]) > scan->order().size())
    return duckdb_bind_set_error(info, "fleetlog_window_rows: rows out of range");
  for (const auto& c : scan->rows().schema()) {
    duckdb_logical_type type = duckdb_create_logical_type(DuckType(c.type));
    duckdb_bind_add_result_column(info, c.name.c_str(), type);
    duckdb_destroy_logical_type(&type);
  }
  duckdb_bind_set_bind_data(info, new ScanBind{scan, static_cast<size_t>(args[1]), static_cast<size_t>(args[2])},
                            [](void* p) { delete static_cast<ScanBind*>(p); });
}

void InitRows(duckdb_init_info info) {
  const auto* bind = static_cast<const ScanBind*>(duckdb_init_get_bind_data(info));
  duckdb_init_set_init_data(info, new ScanInit{bind->begin}, [](void* p) { delete static_cast<ScanInit*>(p); });
  duckdb_init_set_max_threads(info, 1);  // the rows come out in file order
}

void ScanRows(duckdb_function_info info, duckdb_data_chunk output) {
  const auto* bind = static_cast<const ScanBind*>(duckdb_function_get_bind_data(info));
  auto* state = static_cast<ScanInit*>(duckdb_function_get_init_data(info));
  const size_t count = std::min<size_t>(duckdb_vector_size(), bind->end - state->next);
  const RowBatch& rows = bind->scan->rows();
  const uint32_t* index = bind->scan->order().data() + state->next;
  for (size_t c = 0; c < rows.schema().size(); ++c)
    FillVector(duckdb_data_chunk_get_vector(output, c), rows.column(c), 0, index, count);
  duckdb_data_chunk_set_size(output, count);
  state->next += count;
}

void AppendKeyBytes(std::string* key, const void* data, size_t size) {
  key->append(static_cast<const char*>(data), size);
}

void AppendIntKey(std::string* key, int64_t v) {
  key->push_back('\1');
  AppendKeyBytes(key, &v, sizeof v);
}

void AppendTextKey(std::string* key, const std::string& s) {
  key->push_back('\1');
  const uint64_t size = s.size();
  AppendKeyBytes(key, &size, sizeof size);
  key->append(s);
}

}  // namespace

duckdb_type DuckType(ColumnType type) {
  switch (type) {
    case ColumnType::kInt32: return DUCKDB_TYPE_INTEGER;
    case ColumnType::kInt64: return DUCKDB_TYPE_BIGINT;
    case ColumnType::kDouble: return DUCKDB_TYPE_DOUBLE;
    case ColumnType::kBool: return DUCKDB_TYPE_BOOLEAN;
    case ColumnType::kTimestamp: return DUCKDB_TYPE_TIMESTAMP;
    case ColumnType::kVarchar: return DUCKDB_TYPE_VARCHAR;
  }
  return DUCKDB_TYPE_VARCHAR;
}

void FillVector(duckdb_vector vector, const Column& col, size_t from, const uint32_t* index, size_t count) {
  const auto at = [&](size_t i) -> size_t { return index ? index[i] : from + i; };
  uint64_t* validity = nullptr;
  for (size_t i = 0; i < count; ++i) {
    if (col.valid[at(i)]) continue;
    if (validity == nullptr) {
      duckdb_vector_ensure_validity_writable(vector);
      validity = duckdb_vector_get_validity(vector);
    }
    duckdb_validity_set_row_invalid(validity, i);
  }
  switch (col.type) {
    case ColumnType::kInt32: return FillValues<int32_t>(vector, col.ints, from, index, count);
    case ColumnType::kInt64:
    case ColumnType::kTimestamp: return FillValues<int64_t>(vector, col.ints, from, index, count);
    case ColumnType::kBool: {
      bool* data = static_cast<bool*>(duckdb_vector_get_data(vector));
      for (size_t i = 0; i < count; ++i) data[i] = col.ints[at(i)] != 0;
      return;
    }
    case ColumnType::kDouble: {
      double* data = static_cast<double*>(duckdb_vector_get_data(vector));
      for (size_t i = 0; i < count; ++i) data[i] = col.doubles[at(i)];
      return;
    }
    case ColumnType::kVarchar:
      for (size_t i = 0; i < count; ++i) {
        if (!col.valid[at(i)]) continue;
        const std::string& s = col.strings[at(i)];
        if (IsValidUtf8(s)) {
          duckdb_vector_assign_string_element_len(vector, i, s.data(), s.size());
        } else {
          const std::string clean = SanitizeUtf8(s);
          duckdb_vector_assign_string_element_len(vector, i, clean.data(), clean.size());
        }
      }
      return;
  }
}

RowBatch ConcatRows(std::vector<RowBatch> batches) {
  if (batches.empty()) return RowBatch();
  RowBatch out = std::move(batches[0]);
  for (size_t b = 1; b < batches.size(); ++b) {
    RowBatch& in = batches[b];
    for (size_t c = 0; c < out.schema().size(); ++c) {
      Column& to = out.column(c);
      Column& from = in.column(c);
      to.ints.insert(to.ints.end(), from.ints.begin(), from.ints.end());
      to.doubles.insert(to.doubles.end(), from.doubles.begin(), from.doubles.end());
      to.strings.insert(to.strings.end(), std::make_move_iterator(from.strings.begin()),
                        std::make_move_iterator(from.strings.end()));
      to.valid.insert(to.valid.end(), from.valid.begin(), from.valid.end());
    }
    out.partition_ts().insert(out.partition_ts().end(), in.partition_ts().begin(), in.partition_ts().end());
  }
  for (size_t c = 0; c < out.schema().size(); ++c) {
    Column& col = out.column(c);
    if (col.type != ColumnType::kVarchar) continue;
    for (size_t r = 0; r < col.strings.size(); ++r)
      if (col.valid[r] && !IsValidUtf8(col.strings[r])) col.strings[r] = SanitizeUtf8(col.strings[r]);
  }
  return out;
}

std::string EncodeKey(const RowBatch& rows, const std::vector<int>& key_columns, size_t row) {
  std::string key;
  for (int k : key_columns) {
    const Column& col = rows.column(static_cast<size_t>(k));
    if (!col.valid[row]) {
      key.push_back('\0');
    } else if (col.type == ColumnType::kVarchar) {
      AppendTextKey(&key, col.strings[row]);
    } else {
      AppendIntKey(&key, col.ints[row]);
    }
  }
  return key;
}

Status AddKeys(duck::QueryResult& result, const std::vector<ColumnType>& types, KeySet* keys) {
  if (result.column_count() != types.size()) return Internal("the committed keys have {} columns, not {}",
                                                             result.column_count(), types.size());
  const size_t n = result.row_count();
  for (size_t r = 0; r < n; ++r) {
    std::string key;
    for (size_t c = 0; c < types.size(); ++c) {
      if (result.is_null(c, r)) {
        key.push_back('\0');
      } else if (types[c] == ColumnType::kVarchar) {
        AppendTextKey(&key, result.text(c, r));
      } else {
        AppendIntKey(&key, result.int64(c, r));
      }
    }
    keys->insert(std::move(key));
  }
  return Status::Ok();
}

std::vector<uint32_t> KeptRowsInFileOrder(const RowBatch& rows, const std::vector<int64_t>& ts,
                                          const std::vector<int>& key_columns, const std::vector<int>& id_columns,
                                          const KeySet& committed) {
  std::vector<uint32_t> kept;
  KeySet seen;
  for (size_t r = 0; r < rows.rows(); ++r) {
    std::string key = EncodeKey(rows, key_columns, r);
    if (committed.count(key) > 0 || !seen.insert(std::move(key)).second) continue;
    kept.push_back(static_cast<uint32_t>(r));
  }
  std::stable_sort(kept.begin(), kept.end(), [&](uint32_t a, uint32_t b) {
    if (ts[a] != ts[b]) return ts[a] < ts[b];
    for (int c : id_columns) {
      const Column& col = rows.column(static_cast<size_t>(c));
      if (col.valid[a] != col.valid[b]) return col.valid[a] > col.valid[b];  // NULLs last
      if (col.valid[a] && col.ints[a] != col.ints[b]) return col.ints[a] < col.ints[b];
    }
    return false;
  });
  return kept;
}

Status RegisterWindowRowsFunction(duck::Connection& conn) {
  duckdb_table_function f = duckdb_create_table_function();
  duckdb_table_function_set_name(f, "fleetlog_window_rows");
  duckdb_logical_type bigint = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
  for (int i = 0; i < 3; ++i) duckdb_table_function_add_parameter(f, bigint);
  duckdb_destroy_logical_type(&bigint);
  duckdb_table_function_set_bind(f, BindRows);
  duckdb_table_function_set_init(f, InitRows);
  duckdb_table_function_set_function(f, ScanRows);
  const bool ok = duckdb_register_table_function(conn.raw(), f) == DuckDBSuccess;
  duckdb_destroy_table_function(&f);
  if (!ok) return Internal("DuckDB: cannot register fleetlog_window_rows");
  return Status::Ok();
}

RowsScan::RowsScan(const RowBatch& rows, const std::vector<uint32_t>& order)
    : rows_(rows), order_(order), handle_(next_handle++) {
  std::lock_guard lock(scans_mu);
  scans[handle_] = this;
}

RowsScan::~RowsScan() {
  std::lock_guard lock(scans_mu);
  scans.erase(handle_);
}

}  // namespace fleetlog
