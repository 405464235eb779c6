#include "core/log_format.h"

#include <chrono>
#include <memory>

#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include "core/time.h"

namespace fleetlog {
namespace {

class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
    const nlohmann::json line = {{"ts", FormatTimestampIso(Timestamp::FromMicros(us))},
                                 {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                                       spdlog::level::to_string_view(msg.level).size())},
                                 {"logger", std::string(msg.logger_name.data(), msg.logger_name.size())},
                                 {"msg", std::string(msg.payload.data(), msg.payload.size())}};
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLineFormatter>(); }
};

}  // namespace

void UseJsonLogs(bool json) {
  if (json) spdlog::default_logger()->set_formatter(std::make_unique<JsonLineFormatter>());
}

}  // namespace fleetlog
