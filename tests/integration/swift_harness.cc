// Swift's servers are children of the test process (see server_process.h): each asks the
// kernel for SIGTERM when the test process dies. The three rings (object, container, account;
// one device, one replica) are built by one Python call into Swift's RingBuilder rather than
// nine runs of swift-ring-builder, which saves several interpreter start-ups per test.
#include "swift_harness.h"

#include <pwd.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "server_process.h"
#include "support/service_process.h"

namespace fleetlog::integration {
namespace {

namespace fs = std::filesystem;
constexpr const char* kPython = "/usr/bin/python3";
constexpr const char* kAws = "/usr/bin/aws";

std::string CurrentUserName() {
  const passwd* pw = getpwuid(geteuid());
  return pw != nullptr ? pw->pw_name : "root";
}

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  return out ? Status::Ok() : IoError("cannot write {}", path);
}

// Swift's timeouts are set for a rack of dedicated machines: half a second to connect to a
// server, a second for an object server to update its container's listing (or the object is
// left out of listings until an updater, which does not run here, retries it). On a shared test
// machine under load they fail requests that would have succeeded, so here they are generous.
constexpr const char* kServerTimeouts = "conn_timeout = 5\nnode_timeout = 60\ncontainer_update_timeout = 60\n";

std::string ServerConf(const std::string& kind, int port, const std::string& dir, const std::string& user) {
  return fmt::format(
      "[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {port}\nworkers = 0\nuser = {user}\nswift_dir = {dir}\n"
      "devices = {dir}/srv\nmount_check = false\nlog_name = {kind}\n{timeouts}\n"
      "[pipeline:main]\npipeline = {kind}-server\n\n[app:{kind}-server]\nuse = egg:swift#{kind}\n",
      fmt::arg("port", port), fmt::arg("user", user), fmt::arg("dir", dir), fmt::arg("kind", kind),
      fmt::arg("timeouts", kServerTimeouts));
}

// s3api just before tempauth; slo after them (without it multipart is silently off); the
// memcache filter, which tempauth needs. The proxy's timeouts are generous for the reason above,
// and it never sets its one object server aside: by default ten errors in a minute (timeouts
// under load) make it answer 503 to everything for the next minute.
std::string ProxyConf(int port, int memcached_port, const std::string& dir, const std::string& user) {
  return fmt::format(
      "[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {port}\nworkers = 0\nuser = {user}\nswift_dir = {dir}\n"
      "log_name = proxy\n\n"
      "[pipeline:main]\npipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats "
      "s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server\n\n"
      "[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n"
      "conn_timeout = 5\nnode_timeout = 60\nerror_suppression_interval = 0\n\n"
      "[filter:tempauth]\nuse = egg:swift#tempauth\nuser_test_tester = {secret} .admin\n\n"
      "[filter:s3api]\nuse = egg:swift#s3api\nlocation = {region}\n\n"
      "[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = 127.0.0.1:{memcached}\n\n"
      "[filter:catch_errors]\nuse = egg:swift#catch_errors\n\n[filter:gatekeeper]\nuse = egg:swift#gatekeeper\n\n"
      "[filter:healthcheck]\nuse = egg:swift#healthcheck\n\n[filter:proxy-logging]\nuse = egg:swift#proxy_logging\n\n"
      "[filter:listing_formats]\nuse = egg:swift#listing_formats\n\n[filter:copy]\nuse = egg:swift#copy\n\n"
      "[filter:slo]\nuse = egg:swift#slo\n\n[filter:dlo]\nuse = egg:swift#dlo\n\n"
      "[filter:versioned_writes]\nuse = egg:swift#versioned_writes\n",
      fmt::arg("port", port), fmt::arg("user", user), fmt::arg("dir", dir), fmt::arg("memcached", memcached_port),
      fmt::arg("secret", SwiftHarness::kSecretKey), fmt::arg("region", SwiftHarness::kRegion));
}

constexpr const char* kRingScript = R"py(
import sys
from swift.common.ring import RingBuilder
d = sys.argv[1]
for kind, port in zip(("object", "container", "account"), sys.argv[2:5]):
    b = RingBuilder(10, 1, 1)
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port), "device": "d1", "weight": 100})
    b.rebalance()
    b.save("%s/%s.builder" % (d, kind))
    b.get_ring().save("%s/%s.ring.gz" % (d, kind))
)py";

}  // namespace

bool SwiftHarness::Available() {
  for (const char* program : {"/usr/bin/swift-proxy-server", "/usr/bin/swift-object-server",
                              "/usr/bin/swift-container-server", "/usr/bin/swift-account-server",
                              "/usr/bin/memcached", kPython}) {
    if (access(program, X_OK) != 0) return false;
  }
  return access("/etc/swift/swift.conf", R_OK) == 0;  // read whatever swift_dir says
}

Result<SwiftHarness*> SwiftHarness::Shared() {
  static std::unique_ptr<SwiftHarness> shared;
  static Status failure;
  if (!failure.ok()) return failure;
  if (shared == nullptr) {
    std::unique_ptr<SwiftHarness> harness(new SwiftHarness());
    failure = harness->Initialize();
    if (!failure.ok()) return failure;
    shared = std::move(harness);
  }
  RETURN_IF_ERROR(shared->StartProxy());
  return shared.get();
}

SwiftHarness::~SwiftHarness() {
  if (proxy_pid_ > 0) StopProcess(proxy_pid_, SIGTERM, std::chrono::seconds(10));
  for (pid_t pid : backends_) StopProcess(pid, SIGTERM, std::chrono::seconds(10));
  std::error_code ignored;
  if (!dir_.empty()) fs::remove_all(dir_, ignored);
}

std::string SwiftHarness::Endpoint() const { return fmt::format("http://127.0.0.1:{}", proxy_port_); }

S3Options SwiftHarness::Options(const std::string& bucket) const {
  S3Options options;
  options.endpoint = Endpoint();
  options.region = kRegion;
  options.bucket = bucket;
  options.path_style = true;
  options.credentials = {kAccessKey, kSecretKey, ""};
  options.connect_timeout_ms = 5000;
  // Swift answers 503 "reduce your request rate" while a loaded machine keeps its container
  // servers busy (seen on a bucket's first PUT during a full test run): a few seconds of
  // patience, still far below the client's default.
  options.max_attempts = 6;
  options.backoff_base_ms = 50;
  options.backoff_cap_ms = 1000;
  return options;
}

Status SwiftHarness::Initialize() {
  if (!Available()) return Error(StatusCode::kUnavailable, "OpenStack Swift (swift-proxy etc.) is not installed");
  char tmpl[] = "/tmp/fleetlog-swift-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return IoError("mkdtemp: {}", std::strerror(errno));
  dir_ = tmpl;
  std::error_code error;
  fs::create_directories(dir_ + "/srv/d1", error);
  if (error) return IoError("mkdir {}/srv/d1: {}", dir_, error.message());
  const std::string user = CurrentUserName();

  int ports[5];
  for (int& port : ports) {
    ASSIGN_OR_RETURN(port, test::FreeLoopbackPort());
  }
  const int object_port = ports[0], container_port = ports[1], account_port = ports[2], memcached_port = ports[3];
  proxy_port_ = ports[4];

  ASSIGN_OR_RETURN(pid_t rings, Spawn({kPython, "-c", kRingScript, dir_, std::to_string(object_port),
                                       std::to_string(container_port), std::to_string(account_port)},
                                      dir_ + "/rings.log", ServerUser{}, 0));
  auto rings_status = WaitForExit(rings, std::chrono::minutes(2));
  if (!rings_status || !WIFEXITED(*rings_status) || WEXITSTATUS(*rings_status) != 0) {
    return Internal("building Swift's rings failed:\n{}", Tail(dir_ + "/rings.log", 2000));
  }
  RETURN_IF_ERROR(WriteText(dir_ + "/object-server.conf", ServerConf("object", object_port, dir_, user)));
  RETURN_IF_ERROR(WriteText(dir_ + "/container-server.conf", ServerConf("container", container_port, dir_, user)));
  RETURN_IF_ERROR(WriteText(dir_ + "/account-server.conf", ServerConf("account", account_port, dir_, user)));
  RETURN_IF_ERROR(WriteText(dir_ + "/proxy-server.conf", ProxyConf(proxy_port_, memcached_port, dir_, user)));

  ASSIGN_OR_RETURN(pid_t memcached, Spawn({"/usr/bin/memcached", "-u", user, "-l", "127.0.0.1", "-p",
                                           std::to_string(memcached_port), "-U", "0", "-m", "16"},
                                          dir_ + "/memcached.log", ServerUser{}, SIGTERM));
  backends_.push_back(memcached);
  for (const char* kind : {"object", "container", "account"}) {
    ASSIGN_OR_RETURN(pid_t pid, Spawn({kPython, fmt::format("/usr/bin/swift-{}-server", kind),
                                       fmt::format("{}/{}-server.conf", dir_, kind), "-v"},
                                      fmt::format("{}/{}.log", dir_, kind), ServerUser{}, SIGTERM));
    backends_.push_back(pid);
  }
  return StartProxy();
}

Status SwiftHarness::StartProxy() {
  if (proxy_pid_ > 0) return Status::Ok();
  ASSIGN_OR_RETURN(proxy_pid_, Spawn({kPython, "/usr/bin/swift-proxy-server", dir_ + "/proxy-server.conf", "-v"},
                                     dir_ + "/proxy.log", ServerUser{}, SIGTERM));
  return WaitReady();
}

Status SwiftHarness::StopProxy() {
  if (proxy_pid_ <= 0) return Status::Ok();
  StopProcess(proxy_pid_, SIGKILL, std::chrono::seconds(10));
  proxy_pid_ = -1;
  return Status::Ok();
}

// Ready when an S3 call through the whole stack (proxy, auth, account and container servers)
// answers: listing a bucket that does not exist must say NoSuchBucket.
Status SwiftHarness::WaitReady() {
  S3Options options = Options("fleetlog-probe");
  options.max_attempts = 1;
  options.connect_timeout_ms = 1000;
  ASSIGN_OR_RETURN(auto client, S3Client::Create(options));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = client->CheckBucket();
    if (last.code() == StatusCode::kNotFound) return Status::Ok();
    for (pid_t pid : backends_) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        return Error(StatusCode::kUnavailable, "a Swift server exited at start:\n{}", LogTails());
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error(StatusCode::kTimeout, "Swift did not answer within 180s (last: {}):\n{}", last.ToString(), LogTails());
}

std::string SwiftHarness::LogTails() const {
  std::string out;
  for (const char* name : {"proxy", "object", "container", "account", "memcached"}) {
    out += fmt::format("--- {}.log\n{}\n", name, Tail(fmt::format("{}/{}.log", dir_, name), 800));
  }
  return out;
}

Result<std::string> SwiftHarness::CreateUniqueBucket(std::string_view hint) {
  const std::string name = UniqueName(hint, ++buckets_created_, '-');
  ASSIGN_OR_RETURN(auto client, S3Client::Create(Options(name)));
  // Just after start the account and container servers may still refuse a first write while
  // the proxy already answers reads: give them time on a loaded machine.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  Status created = client->CreateBucket();
  while (!created.ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    created = client->CreateBucket();
  }
  RETURN_IF_ERROR(created.WithContext(LogTails()));
  return name;
}

void SwiftBucketTest::SetUp() {
  if (!SwiftHarness::Available()) GTEST_SKIP() << "OpenStack Swift is not installed (scripts/bootstrap)";
  auto harness = SwiftHarness::Shared();
  ASSERT_TRUE(harness.ok()) << harness.status().ToString();
  swift_ = *harness;
  auto bucket = swift_->CreateUniqueBucket(testing::UnitTest::GetInstance()->current_test_info()->name());
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
  bucket_ = *bucket;
}

test::ProcessResult SwiftHarness::Aws(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {kAws, "--endpoint-url", Endpoint()};
  argv.insert(argv.end(), args.begin(), args.end());
  test::ProcessOptions options;
  options.env = {{"AWS_ACCESS_KEY_ID", kAccessKey}, {"AWS_SECRET_ACCESS_KEY", kSecretKey},
                 {"AWS_REGION", kRegion}, {"AWS_PAGER", ""}, {"AWS_CONFIG_FILE", "/dev/null"},
                 {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}};
  options.unset_env = {"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"};
  return test::RunProcess(argv, options);
}

}  // namespace fleetlog::integration
