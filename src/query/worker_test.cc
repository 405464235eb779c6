// The events a query worker sends, as QueryProcess reads them, from a stand-in worker (a
// script that prints them): the real worker is tested through the server (server/*_test.cc).
#include "query/worker.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "test_util.h"

namespace fleetlog {
namespace {

// A worker that reads its request and prints `events`, one per line.
std::string StandIn(const test::TempDir& dir, const std::string& events) {
  const std::string path = dir.Sub("worker.sh");
  std::ofstream(path) << "#!/bin/sh\ncat >/dev/null\ncat <<'EOF'\n" << events << "EOF\n";
  chmod(path.c_str(), 0755);
  return path;
}

TEST(QueryProcessTest, ReadyCarriesWhatTheWorkerCouldNotKeepInMemory) {
  test::TempDir dir;
  auto worker = QueryProcess::Start(
      StandIn(dir,
              "{\"event\":\"ready\",\"keep_failures\":[\"stl_ddltext_full: Out of Memory Error\", 7]}\n"
              "{\"event\":\"ready\"}\n"),
      "{}");
  ASSERT_TRUE(worker.ok()) << worker.status().ToString();
  auto first = (*worker)->Next(1 << 20);
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status().ToString();
  EXPECT_EQ((*first)->kind, WorkerEvent::Kind::kReady);
  EXPECT_EQ((*first)->keep_failures, std::vector<std::string>{"stl_ddltext_full: Out of Memory Error"});
  auto second = (*worker)->Next(1 << 20);
  ASSERT_TRUE(second.ok() && second->has_value()) << second.status().ToString();
  EXPECT_EQ((*second)->kind, WorkerEvent::Kind::kReady);
  EXPECT_TRUE((*second)->keep_failures.empty());
  auto end = (*worker)->Next(1 << 20);
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_FALSE(end->has_value());
  EXPECT_EQ((*worker)->Reap(), "exited with status 0");
}

}  // namespace
}  // namespace fleetlog
