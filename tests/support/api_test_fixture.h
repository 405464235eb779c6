// A running Server over a small test lake, and an HTTP client for it: the fixture of the
// API tests. Each test gets its own temporary folder, state store, lake and port.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "server/server.h"
#include "test_lake.h"

namespace fleetlog::testing {

using nlohmann::json;

// Runs for ages unless interrupted: 1e11 rows through a filter.
inline constexpr const char* kLongSql = "SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3";

// The system clock plus an offset that tests move forward.
class OffsetClock final : public Clock {
 public:
  Timestamp Now() const override { return Timestamp::Now() + Duration::Micros(offset_us.load()); }
  std::atomic<int64_t> offset_us{0};
};

// Holds statements at PICKED until opened (the on_picked test seam).
class PickGate {
 public:
  void Close() { Set(false); }
  void Open() { Set(true); }
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  void Set(bool open) {
    std::lock_guard lock(mu_);
    open_ = open;
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("fleetlog-api-" + RandomHex())).string();
    std::filesystem::create_directories(dir_);
    auto state = OpenSqliteStateStore(dir_ + "/state.db", OpenMode::kReadWrite);
    ASSERT_TRUE(state.ok()) << state.status().message();
    state_ = std::move(state).value();
    Status s = WriteTestLake(dir_ + "/lake", *state_, 120, *ParseTimestamp("2026-01-10 00:00:00"));
    ASSERT_TRUE(s.ok()) << s.message();
  }
  void TearDown() override {
    client_.reset();
    gate_.Open();
    if (server_) server_->Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  ServerOptions DefaultOptions() {
    ServerOptions o;
    o.server.listen = "127.0.0.1:0";
    o.server.results_dir = dir_ + "/results";
    o.workgroups = {{.name = "default"},
                    {.name = "small", .max_concurrent = 1, .max_queued = 1},
                    {.name = "tiny_scan", .max_scan_bytes = 1},
                    {.name = "quick", .timeout = Duration::Millis(300), .memory_limit_bytes = 64LL << 20}};
    o.lake_root = dir_ + "/lake";
    o.engine_threads = 1;
    o.query_worker = FLEETLOG_BINARY;
    o.clusters = {{.name = "alpha"}, {.name = "beta"}, {.name = "gamma"}};
    o.page_rows = 10;
    o.list_page_size = 3;
    o.clock = &clock_;
    o.on_picked = [this](const std::string&) { gate_.Wait(); };
    return o;
  }
  void StartServer(ServerOptions options) {
    server_ = std::make_unique<Server>(std::move(options), state_.get());
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.message();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(30, 0);
  }
  void StartServer() { StartServer(DefaultOptions()); }

  httplib::Headers Auth() const {
    return token_.empty() ? httplib::Headers{} : httplib::Headers{{"Authorization", "Bearer " + token_}};
  }
  // Returns {status, parsed body}; a non-JSON body parses as a discarded value.
  std::pair<int, json> Post(const std::string& path, const std::string& body) {
    auto res = client_->Post(path.c_str(), Auth(), body, "application/json");
    if (!res) return {-1, json()};
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  std::pair<int, json> Get(const std::string& path) {
    auto res = client_->Get(path.c_str(), Auth());
    if (!res) return {-1, json()};
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  std::string Submit(json request) {
    auto [status, body] = Post("/v1/statements", request.dump());
    EXPECT_EQ(status, 200) << body.dump();
    return body.value("id", "");
  }
  json Describe(const std::string& id) { return Get("/v1/statements/" + id).second; }
  // Polls until the statement's status is `want` (or any terminal one when `want` is empty).
  json WaitFor(const std::string& id, const std::string& want = "") {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    json d;
    while (std::chrono::steady_clock::now() < deadline) {
      d = Describe(id);
      const std::string s = d.value("status", "");
      if (want.empty() ? (s == "FINISHED" || s == "FAILED" || s == "ABORTED") : s == want) return d;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "statement " << id << " never reached " << (want.empty() ? "an end" : want) << ": " << d.dump();
    return d;
  }

  std::string dir_;
  std::unique_ptr<StateStore> state_;
  OffsetClock clock_;
  PickGate gate_;
  std::string token_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace fleetlog::testing
