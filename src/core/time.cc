#include "core/time.h"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace fleetlog {
namespace {

struct Civil {
  int64_t year;
  unsigned month;
  unsigned day;
};

// The proleptic Gregorian date `z` days after 1970-01-01, by C++20 <chrono>.
Civil CivilFromDays(int64_t z) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days(std::chrono::days(z))};
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day())};
}

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool ParseDigits(std::string_view text, size_t pos, size_t count, int64_t* out) {
  if (pos + count > text.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  // year_month_day takes any day of 1..31 and counts on past the month's end, as the
  // formula this replaced did ("2026-02-30" is 2026-03-02).
  const std::chrono::year_month_day first{std::chrono::year(static_cast<int>(y)), std::chrono::month(m), std::chrono::day(1)};
  return std::chrono::sys_days(first).time_since_epoch().count() + static_cast<int64_t>(d) - 1;
}

Result<Duration> ParseDuration(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return InvalidArgument("bad duration \"{}\": {} (write a number and a unit: 500ms, 30s, 5m, 2h, 7d, 1w, or sums like 1h30m)",
                           text, why);
  };
  if (text.empty()) return bad("it is empty");
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    if (ec != std::errc() || n < 0) return bad("expected a whole number");
    i = static_cast<size_t>(end - text.data());
    size_t unit_end = i;
    while (unit_end < text.size() && text[unit_end] >= 'a' && text[unit_end] <= 'z') ++unit_end;
    std::string_view unit = text.substr(i, unit_end - i);
    int64_t scale = 0;
    if (unit == "us") scale = 1;
    else if (unit == "ms") scale = 1000;
    else if (unit == "s") scale = 1000000;
    else if (unit == "m") scale = 60LL * 1000000;
    else if (unit == "h") scale = 3600LL * 1000000;
    else if (unit == "d") scale = 86400LL * 1000000;
    else if (unit == "w") scale = 7 * 86400LL * 1000000;
    else if (unit.empty()) return bad("a number needs a unit");
    else return bad(fmt::format("unknown unit \"{}\"", unit));
    if (n > (INT64_MAX - total) / scale) return bad("too long");
    total += n * scale;
    i = unit_end;
  }
  return Duration::Micros(total);
}

std::string FormatDuration(Duration d) {
  int64_t us = d.micros();
  if (us == 0) return "0s";
  std::string out;
  const struct { int64_t scale; const char* unit; } units[] = {
      {86400LL * 1000000, "d"}, {3600LL * 1000000, "h"}, {60LL * 1000000, "m"},
      {1000000, "s"}, {1000, "ms"}, {1, "us"}};
  for (const auto& u : units) {
    if (us >= u.scale) {
      out += std::to_string(us / u.scale) + u.unit;
      us %= u.scale;
    }
  }
  return out;
}

Timestamp Timestamp::Now() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return Timestamp(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}

std::string FormatTimestamp(Timestamp t) {
  const int64_t days = FloorDiv(t.micros(), kMicrosPerDay);
  const int64_t rest = t.micros() - days * kMicrosPerDay;
  const Civil c = CivilFromDays(days);
  const int64_t secs = rest / 1000000;
  const int64_t frac = rest % 1000000;
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld", static_cast<long long>(c.year),
                        c.month, c.day, static_cast<long long>(secs / 3600),
                        static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  if (frac != 0) std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%06lld", static_cast<long long>(frac));
  return buf;
}

std::string FormatTimestampIso(Timestamp t) {
  std::string s = FormatTimestamp(t);
  s[10] = 'T';
  return s + "Z";
}

std::string DateOf(Timestamp t) { return FormatTimestamp(t).substr(0, 10); }

Result<Timestamp> ParseTimestamp(std::string_view text) {
  const auto bad = [&] {
    return InvalidArgument("bad timestamp \"{}\" (expected YYYY-MM-DD HH:MM:SS[.ffffff], UTC)", text);
  };
  int64_t y, mo, d, h = 0, mi = 0, s = 0, frac = 0;
  if (!ParseDigits(text, 0, 4, &y) || text.size() < 10 || text[4] != '-' || !ParseDigits(text, 5, 2, &mo) ||
      text[7] != '-' || !ParseDigits(text, 8, 2, &d))
    return bad();
  size_t pos = 10;
  if (pos < text.size()) {
    if (text[pos] != ' ' && text[pos] != 'T') return bad();
    if (!ParseDigits(text, pos + 1, 2, &h) || text.size() < pos + 9 || text[pos + 3] != ':' ||
        !ParseDigits(text, pos + 4, 2, &mi) || text[pos + 6] != ':' || !ParseDigits(text, pos + 7, 2, &s))
      return bad();
    pos += 9;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int digits = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (digits < 6) frac = frac * 10 + (text[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return bad();
      for (int k = digits; k < 6; ++k) frac *= 10;
    }
    std::string_view zone = text.substr(pos);
    if (!(zone.empty() || zone == "Z" || zone == "+00" || zone == "+00:00")) return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return bad();
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return Timestamp::FromMicros(days * kMicrosPerDay + ((h * 60 + mi) * 60 + s) * 1000000 + frac);
}

}  // namespace fleetlog
