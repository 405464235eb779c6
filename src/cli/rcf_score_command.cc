#include "cli/rcf_score_command.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <istream>
#include <ostream>

#include "core/status.h"
#include "core/csv_reader.h"
#include "detect/random_cut_forest.h"
#include "detect/thresholder.h"

namespace fleetlog::cli {
namespace {

using detect::ForestOptions;
using detect::RandomCutForest;
using detect::Thresholder;

constexpr int kOk = 0, kFailure = 1, kBadInput = 2;

// Parses a whole field as a finite number, allowing surrounding blanks.
bool ParseNumber(std::string_view text, double* value) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size() && std::isfinite(*value);
}

int ColumnIndex(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? -1 : static_cast<int>(it - header.begin());
}

std::string FormatNumber(double v) { return v == 0 ? "0" : fmt::format("{:.6g}", v); }

}  // namespace

int RunRcfScore(const RcfScoreOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  if (options.value_columns.empty()) {
    fmt::print(err, "rcf score: name at least one --value-column\n");
    return kBadInput;
  }
  ForestOptions forest_options;
  forest_options.dimensions = static_cast<int>(options.value_columns.size());
  forest_options.shingle_size = options.shingle_size;
  forest_options.number_of_trees = options.number_of_trees;
  forest_options.sample_size = options.sample_size;
  forest_options.seed = options.seed;
  auto created = RandomCutForest::Create(forest_options);
  if (!created.ok()) {
    fmt::print(err, "rcf score: {}\n", created.status().message());
    return kBadInput;
  }
  RandomCutForest forest = std::move(created).value();
  Thresholder thresholder;

  CsvReader reader(in);
  CsvRecord record;
  Status status;
  if (!reader.Next(&record, &status)) {
    fmt::print(err, "rcf score: {}\n", status.ok() ? "the input is empty: expected a header row" : status.message());
    return kBadInput;
  }
  const std::vector<std::string> header = record.fields;
  std::vector<int> value_index;
  for (const std::string& name : options.value_columns) {
    value_index.push_back(ColumnIndex(header, name));
    if (value_index.back() < 0) {
      fmt::print(err, "rcf score: line {}: no column \"{}\" in the header; columns are: {}\n", record.line,
                 name, fmt::join(header, ", "));
      return kBadInput;
    }
  }
  const int time_index = ColumnIndex(header, options.time_column);
  out << record.text << ",score,grade" << record.line_ending;

  std::vector<double> values(value_index.size());
  while (reader.Next(&record, &status)) {
    auto where = [&] {
      const bool has_time = time_index >= 0 && static_cast<size_t>(time_index) < record.fields.size();
      return has_time ? fmt::format("line {} ({} {})", record.line, options.time_column,
                                    record.fields[static_cast<size_t>(time_index)])
                      : fmt::format("line {}", record.line);
    };
    for (size_t i = 0; i < value_index.size(); ++i) {
      const auto column = static_cast<size_t>(value_index[i]);
      if (column >= record.fields.size()) {
        fmt::print(err, "rcf score: {}: {} fields, but column \"{}\" is field {}\n", where(),
                   record.fields.size(), options.value_columns[i], column + 1);
        return kBadInput;
      }
      if (!ParseNumber(record.fields[column], &values[i])) {
        fmt::print(err, "rcf score: {}: column \"{}\" is \"{}\", not a finite number\n", where(),
                   options.value_columns[i], record.fields[column]);
        return kBadInput;
      }
    }
    if (Status check = forest.CheckInput(values); !check.ok()) {
      fmt::print(err, "rcf score: {}: {}\n", where(), check.message());
      return kBadInput;
    }
    const double score = forest.Score(values);
    const double grade = forest.ready() ? thresholder.GradeAndUpdate(score) : 0;
    if (Status update = forest.Update(values); !update.ok()) {
      fmt::print(err, "rcf score: {}: {}\n", where(), update.ToString());
      return kFailure;
    }
    out << record.text << ',' << FormatNumber(score) << ',' << FormatNumber(grade) << record.line_ending;
  }
  if (!status.ok()) {
    fmt::print(err, "rcf score: {}\n", status.message());
    return kBadInput;
  }
  out.flush();
  if (!out) {
    fmt::print(err, "rcf score: could not write the output\n");
    return kFailure;
  }
  return kOk;
}

}  // namespace fleetlog::cli
