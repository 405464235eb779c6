// S3 lake benchmark: the object-store path of the lake against the local lake, same bytes,
// same run. Starts its own OpenStack Swift with s3api on loopback (the test harness), so the
// figures are for a local S3 implementation on this machine, not for AWS.
//   s3_bench [--files N] [--file-mb M] [--commits K] [--clusters C] [--days D]
// Sections (each prints "metric: s3 X | local Y | ratio Z"):
//   fleet:   (the `fleetlog` binary, C simulated clusters with D days of history; --clusters 0
//            skips it) the same fleet exported into a local lake and into the bucket, one
//            after the other in the same run; the S3 lake's local state and cache deleted and
//            rebuilt with `fleetlog restore`; a diagnostic query cold (empty cache), warm, and
//            on the local lake
//   write:   N files of M MiB written to staging and published (local: write + rename;
//            S3: verified put or multipart upload + server-side copy)
//   commit:  K commits through the journal (one record each) into each lake
//   restore: the state store rebuilt from the K journal records
//   cache:   reading the N files cold (fetched into the lake cache) and warm (cached)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/fs.h"
#include "lake/journal.h"
#include "storage/file_cache.h"
#include "storage/s3_env.h"
#include "swift_harness.h"
#include "test_util.h"

namespace fleetlog {
namespace {

using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

void Line(const char* metric, double s3, double local, const char* unit) {
  std::printf("%s: s3 %.3f %s | local %.3f %s | ratio %.2f\n", metric, s3, unit, local, unit,
              local > 0 ? s3 / local : 0.0);
  std::fflush(stdout);
}

int Die(const Status& status, const char* what) {
  std::fprintf(stderr, "s3_bench: %s: %s\n", what, status.ToString().c_str());
  return 1;
}

struct Lake {
  Env* env;
  std::string root;
};

// Writes `files` files to staging and publishes them; returns the seconds taken.
Result<double> WriteFiles(const Lake& lake, int files, const std::string& data) {
  auto start = SteadyClock::now();
  for (int i = 0; i < files; ++i) {
    const std::string staged = fmt::format("{}/_fleetlog/staging/f{}.parquet", lake.root, i);
    const std::string final = fmt::format("{}/t/cluster=c/dt=2026-11-30/f{}.parquet", lake.root, i);
    RETURN_IF_ERROR(lake.env->WriteFile(staged, data));
    RETURN_IF_ERROR(lake.env->Publish(staged, final));
  }
  return Seconds(start);
}

CommitRequest Commit(int i) {
  CommitRequest request;
  NewFile f;
  f.table = "t";
  f.cluster = "c";
  f.dt = "2026-11-30";
  f.path = fmt::format("t/cluster=c/dt=2026-11-30/commit{}.parquet", i);
  f.staging_path = f.path;
  f.rows = 1000;
  f.checksum = "x";
  request.add = {f};
  request.cursor = CursorRecord{"c", "t", Timestamp::FromMicros(i * 1'000'000LL), {}};
  request.run.cluster = "c";
  request.run.table = "t";
  return request;
}

// Commits `commits` times through the journal, then restores; returns both times.
Result<std::pair<double, double>> CommitAndRestore(const Lake& lake, const std::string& state_dir, int commits) {
  ASSIGN_OR_RETURN(auto local, OpenSqliteStateStore(state_dir + "/a.db", OpenMode::kReadWrite));
  ASSIGN_OR_RETURN(auto journaled, JournaledStateStore::Open(std::move(local), lake.env, lake.root));
  auto start = SteadyClock::now();
  for (int i = 0; i < commits; ++i) RETURN_IF_ERROR(journaled->Commit(Commit(i)).status());
  const double commit_s = Seconds(start);
  ASSIGN_OR_RETURN(auto empty, OpenSqliteStateStore(state_dir + "/b.db", OpenMode::kReadWrite));
  start = SteadyClock::now();
  ASSIGN_OR_RETURN(JournalReport report, RestoreFromJournal(lake.env, lake.root, *empty));
  const double restore_s = Seconds(start);
  if (report.applied != commits) return Internal("restored {} of {} commits", report.applied, commits);
  return std::make_pair(commit_s, restore_s);
}

// Reads every file through a cache twice; returns (cold, warm) seconds.
Result<std::pair<double, double>> ReadThroughCache(const Lake& lake, const std::string& cache_dir, int files,
                                                   const FileDigest& digest) {
  ASSIGN_OR_RETURN(auto cache, LakeFileCache::Open(lake.env, Env::Default(), cache_dir, int64_t{1} << 40));
  double times[2];
  for (double& t : times) {
    auto start = SteadyClock::now();
    for (int i = 0; i < files; ++i) {
      ASSIGN_OR_RETURN(CachedFile file,
                       cache->Fetch(fmt::format("{}/t/cluster=c/dt=2026-11-30/f{}.parquet", lake.root, i), digest.bytes,
                                    digest.checksum));
      RETURN_IF_ERROR(DigestFile(*Env::Default(), file.path()).status());  // what a reader pays to read it
    }
    t = Seconds(start);
  }
  return std::make_pair(times[0], times[1]);
}

// `fleetlog` with the S3 test credentials; exits the bench on failure.
Result<test::ProcessResult> Fleetlog(const std::string& config, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"--config", config};
  argv.insert(argv.end(), args.begin(), args.end());
  test::ProcessResult r =
      test::RunFleetlog(argv, {.env = {{"AWS_ACCESS_KEY_ID", integration::SwiftHarness::kAccessKey},
                                       {"AWS_SECRET_ACCESS_KEY", integration::SwiftHarness::kSecretKey}},
                               .unset_env = {"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"}});
  if (r.exit_code != 0)
    return Internal("fleetlog {} failed ({}): {}", args.front(), r.exit_code, r.err.substr(0, 2000));
  return r;
}

Result<double> TimedFleetlog(const std::string& config, const std::vector<std::string>& args,
                             std::string* out = nullptr) {
  auto start = SteadyClock::now();
  ASSIGN_OR_RETURN(test::ProcessResult r, Fleetlog(config, args));
  if (out != nullptr) *out = r.out;
  return Seconds(start);
}

// The fleet section: see the header.
Status FleetSection(integration::SwiftHarness& swift, const std::string& bucket, const test::TempDir& dir, int clusters,
                    int days) {
  std::string fleet =
      fmt::format("[export]\ninitial_backfill = \"{}d\"\nsettle = \"1s\"\n[upkeep]\nenabled = false\n", days);
  for (int c = 0; c < clusters; ++c)
    fleet += fmt::format("[[cluster]]\nname = \"sim-{}\"\nkind = \"sim\"\nseed = {}\n", c, 100 + c);
  const std::string local = dir.Sub("fleet-local.toml"), s3 = dir.Sub("fleet-s3.toml");
  const std::string s3_state = dir.Sub("fleet-s3/state.db"), cache = dir.Sub("fleet-s3/lake-cache");
  bool written =
      test::WriteFile(local, fmt::format("[lake]\npath = \"{}\"\n[state]\npath = \"{}\"\n{}",
                                         dir.Sub("fleet-local/lake"), dir.Sub("fleet-local/state.db"), fleet));
  written =
      written &&
      test::WriteFile(
          s3,
          fmt::format(
              "[lake]\npath = \"s3://{}/fleet\"\ncache_dir = \"{}\"\n[lake.s3]\nendpoint = \"{}\"\nregion = \"{}\"\n"
              "path_style = true\n[state]\npath = \"{}\"\n{}",
              bucket, cache, swift.Endpoint(), integration::SwiftHarness::kRegion, s3_state, fleet));
  if (!written) return IoError("cannot write the fleet configs");
  std::printf("fleet: %d simulated clusters, %d days\n", clusters, days);

  ASSIGN_OR_RETURN(const double local_export, TimedFleetlog(local, {"export"}));
  ASSIGN_OR_RETURN(const double s3_export, TimedFleetlog(s3, {"export"}));
  Line("fleet export seconds", s3_export, local_export, "s");
  const std::string count = "select count(*) as n from stl_query";
  std::string local_rows, s3_rows;
  RETURN_IF_ERROR(TimedFleetlog(local, {"query", "--format", "csv", count}, &local_rows).status());
  RETURN_IF_ERROR(TimedFleetlog(s3, {"query", "--format", "csv", count}, &s3_rows).status());
  auto strip = [](std::string s) {
    for (char& ch : s) ch = ch == '\n' ? ' ' : ch;
    return s;
  };
  std::printf("fleet rows (stl_query): s3 %s| local %s\n", strip(s3_rows).c_str(), strip(local_rows).c_str());

  // The machine is lost: state and cache go; the bucket alone restores the catalog.
  for (const char* suffix : {"", "-wal", "-shm"}) RETURN_IF_ERROR(Env::Default()->DeleteFile(s3_state + suffix));
  RETURN_IF_ERROR(Env::Default()->DeleteTree(cache));
  ASSIGN_OR_RETURN(const double restore, TimedFleetlog(s3, {"restore"}));
  std::printf("fleet restore seconds: %.3f s\n", restore);

  const std::string diagnostic =
      "select cluster, date_trunc('day', starttime) as day, count(*) as queries, "
      "sum(epoch(endtime) - epoch(starttime)) as busy_s from stl_query group by all order by all";
  ASSIGN_OR_RETURN(const double cold, TimedFleetlog(s3, {"query", "--format", "csv", diagnostic}));
  ASSIGN_OR_RETURN(const double warm, TimedFleetlog(s3, {"query", "--format", "csv", diagnostic}));
  ASSIGN_OR_RETURN(const double on_local, TimedFleetlog(local, {"query", "--format", "csv", diagnostic}));
  Line("fleet query cold (empty cache) seconds", cold, on_local, "s");
  Line("fleet query warm (cached) seconds", warm, on_local, "s");
  return Status::Ok();
}

int Main(int argc, char** argv) {
  int files = 8, file_mb = 8, commits = 50, clusters = 3, days = 30;
  const std::map<std::string, int*> flags = {{"--files", &files},
                                             {"--file-mb", &file_mb},
                                             {"--commits", &commits},
                                             {"--clusters", &clusters},
                                             {"--days", &days}};
  for (int i = 1; i < argc; i += 2) {
    const auto flag = flags.find(argv[i]);
    char* end = nullptr;
    const long value = i + 1 < argc ? std::strtol(argv[i + 1], &end, 10) : -1;
    if (flag == flags.end() || end == nullptr || *end != '\0' || value < 0) {
      std::fprintf(stderr, "usage: s3_bench [--files N] [--file-mb M] [--commits K] [--clusters C] [--days D]\n");
      return 2;
    }
    *flag->second = static_cast<int>(value);
  }
  auto swift = integration::SwiftHarness::Shared();
  if (!swift.ok()) return Die(swift.status(), "starting Swift");
  auto bucket = (*swift)->CreateUniqueBucket("bench");
  if (!bucket.ok()) return Die(bucket.status(), "creating the bucket");
  auto client = S3Client::Create((*swift)->Options(*bucket));
  if (!client.ok()) return Die(client.status(), "S3 client");
  SystemClock clock;
  S3Env s3_env(std::move(*client), &clock);
  test::TempDir dir;
  const Lake s3{&s3_env, "s3://" + *bucket + "/lake"};
  const Lake local{Env::Default(), dir.Sub("lake")};

  std::string data(static_cast<size_t>(file_mb) << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 2654435761u) >> 13);
  std::printf("s3_bench: %d files of %d MiB, %d commits; Swift at %s\n", files, file_mb, commits,
              (*swift)->Endpoint().c_str());

  auto s3_write = WriteFiles(s3, files, data);
  auto local_write = WriteFiles(local, files, data);
  if (!s3_write.ok()) return Die(s3_write.status(), "write s3");
  if (!local_write.ok()) return Die(local_write.status(), "write local");
  Line("write+publish seconds", *s3_write, *local_write, "s");
  const double mb = static_cast<double>(files) * file_mb;
  Line("write+publish MiB/s", mb / *s3_write, mb / *local_write, "MiB/s");

  if (!test::WriteFile(dir.Sub("s3state/.keep"), "") || !test::WriteFile(dir.Sub("localstate/.keep"), "")) {
    return Die(IoError("cannot create state folders"), "setup");
  }
  auto s3_journal = CommitAndRestore(s3, dir.Sub("s3state"), commits);
  auto local_journal = CommitAndRestore(local, dir.Sub("localstate"), commits);
  if (!s3_journal.ok()) return Die(s3_journal.status(), "journal s3");
  if (!local_journal.ok()) return Die(local_journal.status(), "journal local");
  Line("commit ms each", s3_journal->first * 1000 / commits, local_journal->first * 1000 / commits, "ms");
  Line("restore seconds", s3_journal->second, local_journal->second, "s");

  auto digest = DigestFile(*Env::Default(), local.root + "/t/cluster=c/dt=2026-11-30/f0.parquet");
  if (!digest.ok()) return Die(digest.status(), "digest");
  auto s3_cache = ReadThroughCache(s3, dir.Sub("cache-s3"), files, *digest);
  if (!s3_cache.ok()) return Die(s3_cache.status(), "cache s3");
  auto start = SteadyClock::now();
  for (int i = 0; i < files; ++i) {
    if (!DigestFile(*Env::Default(), fmt::format("{}/t/cluster=c/dt=2026-11-30/f{}.parquet", local.root, i)).ok())
      return 1;
  }
  const double local_read = Seconds(start);
  Line("read cold (fetch into cache) seconds", s3_cache->first, local_read, "s");
  Line("read warm (cached) seconds", s3_cache->second, local_read, "s");
  Line("cold/warm", s3_cache->first, s3_cache->second, "s");

  if (clusters > 0) {
    if (Status s = FleetSection(**swift, *bucket, dir, clusters, days); !s.ok()) return Die(s, "fleet");
  }
  return 0;
}

}  // namespace
}  // namespace fleetlog

int main(int argc, char** argv) { return fleetlog::Main(argc, argv); }
