// Durations and UTC timestamps as fleetlog's config, lake and sources use them.
// Timestamps are microseconds since the Unix epoch, UTC, like Parquet's TIMESTAMP(µs).
// Thread-safety: value types and pure functions, safe everywhere.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace fleetlog {

// A non-negative length of time, from config text such as "30s", "5m", "7d" or "1h30m".
class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Micros(int64_t us) { return Duration(us); }
  static constexpr Duration Millis(int64_t ms) { return Duration(ms * 1000); }
  static constexpr Duration Seconds(int64_t s) { return Duration(s * 1000000); }
  static constexpr Duration Minutes(int64_t m) { return Seconds(m * 60); }
  static constexpr Duration Hours(int64_t h) { return Minutes(h * 60); }
  static constexpr Duration Days(int64_t d) { return Hours(d * 24); }

  constexpr int64_t micros() const { return us_; }
  constexpr double seconds() const { return static_cast<double>(us_) / 1e6; }
  std::chrono::microseconds chrono() const { return std::chrono::microseconds(us_); }
  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration other) const { return Duration(us_ + other.us_); }
  constexpr Duration operator*(int64_t k) const { return Duration(us_ * k); }

 private:
  constexpr explicit Duration(int64_t us) : us_(us) {}
  int64_t us_ = 0;
};

// Parses "500ms", "30s", "5m", "2h", "7d", "1w" and sums such as "1h30m".
// Fails with a message that says what was expected.
Result<Duration> ParseDuration(std::string_view text);
// The shortest exact form: "5m", "1h30m", "250ms", "0s".
std::string FormatDuration(Duration d);

// A UTC instant with microsecond precision.
class Timestamp {
 public:
  constexpr Timestamp() = default;
  static constexpr Timestamp FromMicros(int64_t us) { return Timestamp(us); }
  static Timestamp Now();

  constexpr int64_t micros() const { return us_; }
  constexpr auto operator<=>(const Timestamp&) const = default;
  constexpr Timestamp operator-(Duration d) const { return Timestamp(us_ - d.micros()); }
  constexpr Timestamp operator+(Duration d) const { return Timestamp(us_ + d.micros()); }
  constexpr Duration operator-(Timestamp other) const {
    return Duration::Micros(us_ - other.us_);
  }

 private:
  constexpr explicit Timestamp(int64_t us) : us_(us) {}
  int64_t us_ = 0;
};

// "2026-11-21 03:44:32.123456" (the fraction only when non-zero), as PostgreSQL prints it.
std::string FormatTimestamp(Timestamp t);
// ISO 8601 with a Z: "2026-11-21T03:44:32.123456Z".
std::string FormatTimestampIso(Timestamp t);
// Accepts "YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z|+00]" and "YYYY-MM-DD"; UTC only.
Result<Timestamp> ParseTimestamp(std::string_view text);
// The UTC calendar date of `t` as "YYYY-MM-DD": the lake's `dt` partition value.
std::string DateOf(Timestamp t);
// Days since 1970-01-01 for a civil date, and back (Howard Hinnant's algorithms).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

// The clock, behind an interface so tests need no sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};
class SystemClock final : public Clock {
 public:
  Timestamp Now() const override { return Timestamp::Now(); }
};

}  // namespace fleetlog
