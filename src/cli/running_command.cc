// `fleetlog running [--cluster N] [--json]`: the queries not yet finished on each cluster with
// the SYS views, read live from SYS_QUERY_HISTORY (the lake holds finished queries only).
#include <algorithm>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "source/table_spec.h"

namespace fleetlog::cli {
namespace {

// How far back a running query may have started.
constexpr Duration kRunningSince = Duration::Days(1);

struct RunningQuery {
  std::string cluster;
  int64_t query_id = 0;
  std::string status, user, text;
  Timestamp start;
};

std::string TextAt(const RowBatch& b, int col, size_t row) {
  if (col < 0 || !b.column(static_cast<size_t>(col)).valid[row]) return "";
  const Column& c = b.column(static_cast<size_t>(col));
  return c.type == ColumnType::kVarchar ? c.strings[row] : std::to_string(c.ints[row]);
}

Status ReadRunning(Source& source, const std::string& cluster, std::vector<RunningQuery>* out) {
  RETURN_IF_ERROR(source.Connect());
  ASSIGN_OR_RETURN(Timestamp now, source.Now());
  const TableSpec spec = RunningQueriesSpec();
  SourceQuery query{.spec = &spec, .lower = now - kRunningSince, .upper = now + Duration::Minutes(1)};
  return source.Read(query, [&](RowBatch& b) {
    const int id = FindColumn(b.schema(), "query_id"), status = FindColumn(b.schema(), "status"),
              user = FindColumn(b.schema(), "user_id"), start = FindColumn(b.schema(), "start_time"),
              text = FindColumn(b.schema(), "query_text");
    for (size_t r = 0; r < b.rows(); ++r) {
      RunningQuery q{.cluster = cluster, .status = TextAt(b, status, r), .user = TextAt(b, user, r),
                     .text = TextAt(b, text, r)};
      if (id >= 0 && b.column(static_cast<size_t>(id)).valid[r]) q.query_id = b.column(static_cast<size_t>(id)).ints[r];
      if (start >= 0 && b.column(static_cast<size_t>(start)).valid[r])
        q.start = Timestamp::FromMicros(b.column(static_cast<size_t>(start)).ints[r]);
      out->push_back(std::move(q));
    }
    return Status::Ok();
  });
}

}  // namespace

CommandAction AddRunning(CLI::App& app, const GlobalOptions& global) {
  struct Options {
    std::vector<std::string> clusters;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  app.add_option("--cluster", opts->clusters, "Only this cluster (repeatable)");
  app.add_flag("--json", opts->json, "Print JSON");
  return [&global, opts] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    auto sources = ClusterSources::Open(*config);
    if (!sources.ok()) return Fail(sources.status());
    std::vector<RunningQuery> running;
    int failed = 0;
    for (const auto& cluster : config->clusters) {
      if (!Chosen(opts->clusters, cluster.name)) continue;
      if (!ClusterHasSystemTable(cluster, "sys_query_history")) continue;  // STL shows finished work only
      auto source = sources->Make(cluster);
      Status s = source.ok() ? ReadRunning(**source, cluster.name, &running) : source.status();
      if (!s.ok()) {
        std::cerr << "fleetlog: cluster " << cluster.name << ": " << s.message() << "\n";
        ++failed;
      }
    }
    if (opts->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& q : running)
        out.push_back({{"cluster", q.cluster}, {"query_id", q.query_id}, {"status", q.status}, {"user_id", q.user},
                       {"start_time", FormatTimestampIso(q.start)}, {"query_text", q.text}});
      std::cout << out.dump(2) << "\n";
    } else {
      for (const auto& q : running)
        std::cout << fmt::format("{:<20} {:>14} {:<8} {:<26} {}\n", q.cluster, q.query_id, q.status,
                                 FormatTimestamp(q.start), q.text.substr(0, 60));
      std::cout << running.size() << " queries running\n";
    }
    return static_cast<int>(failed > 0 ? kExitFailed : kExitOk);
  };
}

}  // namespace fleetlog::cli
