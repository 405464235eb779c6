#include "state/state_store.h"

#include <charconv>

namespace fleetlog {
namespace {

// The integer at the start of `text`, which it consumes; nullopt when there is none.
std::optional<int64_t> TakeInt(std::string_view* text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc()) return std::nullopt;
  text->remove_prefix(static_cast<size_t>(end - text->data()));
  return value;
}

}  // namespace

std::string IdRangesToText(const IdRanges& ranges) {
  std::string text;
  for (const auto& [column, r] : ranges)
    text += fmt::format("{}{}:{}:{}", text.empty() ? "" : ",", column, r.min, r.max);
  return text;
}

IdRanges IdRangesFromText(std::string_view text) {
  IdRanges out;
  while (!text.empty()) {
    const size_t colon = text.find(':');
    if (colon == 0 || colon == std::string_view::npos) return {};
    const std::string column(text.substr(0, colon));
    text.remove_prefix(colon + 1);
    const auto min = TakeInt(&text);
    if (!min || text.empty() || text.front() != ':') return {};
    text.remove_prefix(1);
    const auto max = TakeInt(&text);
    if (!max || *min > *max) return {};
    out[column] = {*min, *max};
    if (text.empty()) break;
    if (text.front() != ',' || text.size() == 1) return {};
    text.remove_prefix(1);
  }
  return out;
}

}  // namespace fleetlog
