// The output flag every command that prints data shares, and the printing of one record.
#include <iostream>

#include "cli/command.h"

namespace fleetlog::cli {

OutputFormat OutputFlags::Resolve(OutputFormat default_format) const {
  if (json) return OutputFormat::kJson;
  if (format.empty()) return default_format;
  return *ParseOutputFormat(format);  // the option's check admits only valid names
}

void AddOutputFlags(CLI::App& app, OutputFlags* flags, bool json_alias) {
  app.add_option("--format", flags->format, "Output: table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  if (json_alias) app.add_flag("--json", flags->json, "Same as --format json");
  app.add_flag("--crlf", flags->crlf, "End CSV lines with CRLF (RFC 4180) instead of LF");
}

void PrintRecord(const nlohmann::ordered_json& record, OutputFormat format, const FormatOptions& options) {
  if (format != OutputFormat::kCsv) {
    std::cout << record.dump(2) << "\n";
    return;
  }
  Grid grid;
  auto& row = grid.rows.emplace_back();
  for (const auto& [key, value] : record.items()) {
    grid.columns.push_back({key, value.is_number()});
    if (value.is_null()) row.emplace_back();
    else if (value.is_string()) row.emplace_back(value.get<std::string>());
    else row.emplace_back(value.dump());
  }
  WriteGrid(grid, format, std::cout, options);
}

}  // namespace fleetlog::cli
