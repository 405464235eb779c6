// A real S3 server for integration tests: OpenStack Swift (Debian's swift-* 2.30 packages)
// with its s3api middleware, single node, one replica, on free loopback ports in a temporary
// folder, with memcached beside it for tempauth. s3api checks SigV4 signatures (payload hash
// and region included), supports multipart uploads and ListObjectsV2, and refuses conditional
// PUTs, which is what fleetlog's lease fallback is for.
//
// Use it through Shared(): the first caller in a process starts the servers, which are stopped
// and deleted at exit (and die with the process if it is killed). StopProxy()/StartProxy() play
// the S3 endpoint going away and coming back on the same port.
// Thread-safety: none; use it from the test's main thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/status.h"
#include "storage/s3_client.h"
#include "test_util.h"

namespace fleetlog::integration {

class SwiftHarness {
 public:
  // tempauth's user "test:tester" with password "testing" is the S3 key pair.
  static constexpr const char* kAccessKey = "test:tester";
  static constexpr const char* kSecretKey = "testing";
  static constexpr const char* kRegion = "us-east-1";

  // True when the Swift servers, memcached and the ring builder are installed.
  static bool Available();
  // The servers shared by the whole process, started on first use; an error says why they
  // could not start, with the tails of their logs.
  static Result<SwiftHarness*> Shared();

  SwiftHarness(const SwiftHarness&) = delete;
  SwiftHarness& operator=(const SwiftHarness&) = delete;
  ~SwiftHarness();

  int port() const { return proxy_port_; }
  std::string Endpoint() const;  // "http://127.0.0.1:<port>"
  // Client options for `bucket` on this server (path style, test credentials, quick retries).
  S3Options Options(const std::string& bucket) const;
  // Creates a bucket with a fresh name derived from `hint`; returns the name.
  Result<std::string> CreateUniqueBucket(std::string_view hint);

  // Stops the S3 endpoint (the proxy server); StartProxy() brings it back on the same port.
  Status StopProxy();
  Status StartProxy();

  // Runs Debian's AWS CLI (/usr/bin/aws) against this server with the test credentials.
  test::ProcessResult Aws(const std::vector<std::string>& args) const;

 private:
  SwiftHarness() = default;
  Status Initialize();
  Status WaitReady();
  std::string LogTails() const;

  std::string dir_;
  int proxy_port_ = 0;
  std::vector<pid_t> backends_;  // memcached, object, container, account servers
  pid_t proxy_pid_ = -1;
  int buckets_created_ = 0;
};

// A test with the shared Swift server and a fresh bucket of its own (skipped when Swift is
// not installed).
class SwiftBucketTest : public testing::Test {
 protected:
  void SetUp() override;

  SwiftHarness* swift_ = nullptr;
  std::string bucket_;
};

}  // namespace fleetlog::integration
