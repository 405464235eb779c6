// The HTTP API's cost and behaviour under load, beside its peer, `fleetlog query`.
//
//   api_bench make-lake DIR [HOURS]   writes a 3-cluster dashboard lake and DIR/fleetlog.toml
//                                     (for the browser tests until `fleetlog demo` exists)
//   api_bench run DIR [SECONDS] [CLIENTS] [FLEETLOG_BINARY]
//       1. round trip of one query: in-process engine (what `fleetlog query` does after
//          start-up), the `fleetlog query` process, and the API (submit, poll, fetch);
//       2. load: CLIENTS clients (default 50) on loopback for SECONDS (default 10), each
//          submitting, polling and fetching in a loop; every answer must be 200 or the
//          documented 429; prints throughput, latency and the process's peak memory.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/server.h"
#include "test_lake.h"

namespace fleetlog {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr const char* kSql = "SELECT cluster, count(*) AS n, avg(epoch(endtime - starttime)) AS s FROM stl_query GROUP BY cluster ORDER BY cluster";

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

long PeakRssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

int MakeLake(const std::string& dir, int hours) {
  std::filesystem::create_directories(dir);
  auto state = OpenSqliteStateStore(dir + "/state.db", OpenMode::kReadWrite);
  if (!state.ok()) return std::fprintf(stderr, "%s\n", state.status().message().c_str()), 1;
  const Timestamp end = Timestamp::FromMicros(Timestamp::Now().micros() / 3'600'000'000 * 3'600'000'000);
  Status s = testing::WriteDashboardLake(dir + "/lake", **state, {"analytics", "etl", "reporting"}, hours, end);
  if (!s.ok()) return std::fprintf(stderr, "%s\n", s.message().c_str()), 1;
  std::ofstream(dir + "/fleetlog.toml") << "[lake]\npath = \"lake\"\n\n[state]\npath = \"state.db\"\n\n"
                                        << "[server]\nlisten = \"127.0.0.1:8080\"\n\n"
                                        << "[[cluster]]\nname = \"analytics\"\nkind = \"sim\"\n\n"
                                        << "[[cluster]]\nname = \"etl\"\nkind = \"sim\"\n\n"
                                        << "[[cluster]]\nname = \"reporting\"\nkind = \"sim\"\n";
  std::printf("wrote %s (3 clusters, %d hours ending %s)\n", dir.c_str(), hours, FormatTimestamp(end).c_str());
  return 0;
}

// A request that got no answer: counted under minus httplib's error code, and said.
int NoAnswer(const char* phase, httplib::Error error, std::map<int, long>* statuses) {
  std::fprintf(stderr, "%s: no answer (%s)\n", phase, httplib::to_string(error).c_str());
  (*statuses)[-static_cast<int>(error)]++;
  return -static_cast<int>(error);
}

// Submit, poll, fetch the first page. Returns the HTTP status that ended the attempt, or
// NoAnswer()'s code.
int RoundTrip(httplib::Client& cli, std::map<int, long>* statuses) {
  auto post = cli.Post("/v1/statements", json{{"sql", kSql}}.dump(), "application/json");
  if (!post) return NoAnswer("submit", post.error(), statuses);
  (*statuses)[post->status]++;
  if (post->status != 200) return post->status;
  const std::string id = json::parse(post->body)["id"];
  for (int delay_us = 200;; delay_us = std::min(delay_us * 2, 20000)) {
    auto d = cli.Get(("/v1/statements/" + id).c_str());
    if (!d) return NoAnswer("describe", d.error(), statuses);
    (*statuses)[d->status]++;
    const std::string status = json::parse(d->body).value("status", "");
    if (status == "FINISHED") break;
    if (status == "FAILED" || status == "ABORTED") {
      std::fprintf(stderr, "statement %s: %s\n", status.c_str(), json::parse(d->body).value("error", "").c_str());
      return 500;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
  }
  auto r = cli.Get(("/v1/statements/" + id + "/result").c_str());
  if (!r) return NoAnswer("result", r.error(), statuses);
  (*statuses)[r->status]++;
  return r->status;
}

int Run(const std::string& dir, int seconds, int clients, const std::string& binary) {
  auto state = OpenSqliteStateStore(dir + "/state.db", OpenMode::kReadOnly);
  if (!state.ok()) return std::fprintf(stderr, "%s (run `api_bench make-lake %s` first)\n", state.status().message().c_str(), dir.c_str()), 1;
  ServerOptions o;
  o.server.listen = "127.0.0.1:0";
  o.server.results_dir = dir + "/results";
  o.workgroups = {{.name = "default", .max_concurrent = 8, .max_queued = 32}};
  o.lake_root = dir + "/lake";
  o.engine_threads = 1;
  o.http_threads = 64;
  o.query_worker = binary;  // statements run in `fleetlog query-worker` processes
  if (binary.empty()) return std::fprintf(stderr, "api_bench run needs the fleetlog binary (query workers)\n"), 2;
  Server server(o, state->get());
  if (Status s = server.Start(); !s.ok()) return std::fprintf(stderr, "%s\n", s.message().c_str()), 1;
  const long rss_start = RssKb();

  constexpr int kRuns = 20;
  std::vector<double> engine_ms, api_ms, cli_ms;
  for (int i = 0; i < kRuns; ++i) {
    const auto t0 = Clock::now();
    auto engine = QueryEngine::Open({.lake_root = o.lake_root, .memory_limit_bytes = 1LL << 30, .threads = 1}, state->get());
    if (!engine.ok() || !(*engine)->Run(kSql).ok()) return std::fprintf(stderr, "the engine failed\n"), 1;
    engine_ms.push_back(Ms(Clock::now() - t0));
  }
  httplib::Client cli("127.0.0.1", server.port());
  std::map<int, long> statuses;
  for (int i = 0; i < kRuns; ++i) {
    const auto t0 = Clock::now();
    if (RoundTrip(cli, &statuses) != 200) return std::fprintf(stderr, "the API failed\n"), 1;
    api_ms.push_back(Ms(Clock::now() - t0));
  }
  if (!binary.empty()) {
    const std::string cmd = "cd '" + dir + "' && '" + binary + "' --config fleetlog.toml query --format csv \"" + kSql + "\" > /dev/null";
    for (int i = 0; i < kRuns; ++i) {
      const auto t0 = Clock::now();
      if (std::system(cmd.c_str()) != 0) return std::fprintf(stderr, "`fleetlog query` failed\n"), 1;
      cli_ms.push_back(Ms(Clock::now() - t0));
    }
  }
  std::printf("round trip of one query (%d runs, median / p95 ms)\n", kRuns);
  std::printf("  engine in process (fleetlog query minus start-up)  %8.2f / %8.2f\n", Percentile(engine_ms, 0.5), Percentile(engine_ms, 0.95));
  if (!cli_ms.empty())
    std::printf("  fleetlog query (process)                           %8.2f / %8.2f\n", Percentile(cli_ms, 0.5), Percentile(cli_ms, 0.95));
  std::printf("  HTTP API: submit + poll + first page               %8.2f / %8.2f\n", Percentile(api_ms, 0.5), Percentile(api_ms, 0.95));
  std::printf("  API overhead over the in-process engine            %8.2f ms (median)\n", Percentile(api_ms, 0.5) - Percentile(engine_ms, 0.5));

  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<int, long> load_statuses;
  std::vector<double> load_ms;
  long completed = 0, rejected = 0, broken = 0;
  std::vector<std::thread> threads;
  const auto load_start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      httplib::Client client("127.0.0.1", server.port());
      client.set_read_timeout(60, 0);
      client.set_keep_alive(false);  // a new connection per request: the harder case for the server
      std::map<int, long> mine;
      std::vector<double> ms;
      long ok = 0, busy = 0, bad = 0;
      while (!stop) {
        const auto t0 = Clock::now();
        const int status = RoundTrip(client, &mine);
        if (status == 200) ok++, ms.push_back(Ms(Clock::now() - t0));
        else if (status == 429) busy++, std::this_thread::sleep_for(std::chrono::milliseconds(20));
        else bad++;
      }
      std::lock_guard lock(mu);
      for (auto [k, v] : mine) load_statuses[k] += v;
      load_ms.insert(load_ms.end(), ms.begin(), ms.end());
      completed += ok, rejected += busy, broken += bad;
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - load_start).count();
  std::printf("load: %d clients for %.1f s on loopback\n", clients, elapsed);
  std::printf("  statements finished  %ld (%.1f/s), refused with 429: %ld, other failures: %ld\n", completed,
              static_cast<double>(completed) / elapsed, rejected, broken);
  std::printf("  round trip ms        median %.1f, p95 %.1f, max %.1f\n", Percentile(load_ms, 0.5), Percentile(load_ms, 0.95),
              Percentile(load_ms, 1.0));
  std::printf("  HTTP statuses       ");
  for (auto [k, v] : load_statuses) std::printf(" %d:%ld", k, v);
  std::printf("\n  memory               RSS %ld MiB at start, %ld MiB after, peak %ld MiB\n", rss_start / 1024, RssKb() / 1024,
              PeakRssKb() / 1024);
  server.Stop();
  const bool only_documented = std::all_of(load_statuses.begin(), load_statuses.end(), [](auto kv) { return kv.first == 200 || kv.first == 429; });
  return broken == 0 && only_documented ? 0 : 1;
}

}  // namespace
}  // namespace fleetlog

int main(int argc, char** argv) {
  const std::string mode = argc > 2 ? argv[1] : "";
  if (mode == "make-lake") return fleetlog::MakeLake(argv[2], argc > 3 ? std::atoi(argv[3]) : 48);
  if (mode == "run")
    return fleetlog::Run(argv[2], argc > 3 ? std::atoi(argv[3]) : 10, argc > 4 ? std::atoi(argv[4]) : 50, argc > 5 ? argv[5] : "");
  std::fprintf(stderr, "usage: api_bench make-lake DIR [HOURS] | api_bench run DIR [SECONDS] [CLIENTS] [FLEETLOG_BINARY]\n");
  return 2;
}
