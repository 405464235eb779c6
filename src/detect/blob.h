// Little binary encoder and decoder for saved detector models.
//
// Values are written as their in-memory bytes; fleetlog only builds for little-endian hosts, so
// the blob is little-endian. Readers never trust the blob: every read is bounds-checked and a
// short or oversized blob turns into a false return, which callers report as kCorruption.
// Thread-safety: value types; one owner at a time.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace fleetlog::detect {

static_assert(std::endian::native == std::endian::little, "model blobs are little-endian");

class BlobWriter {
 public:
  template <typename T>
    requires std::is_trivially_copyable_v<T>
  void Put(const T& value) {
    out_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }

  // Writes a count followed by the elements.
  template <typename T>
    requires std::is_trivially_copyable_v<T>
  void PutArray(std::span<const T> values) {
    Put<uint64_t>(values.size());
    if (!values.empty()) out_.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
  }

  std::string Release() { return std::move(out_); }

 private:
  std::string out_;
};

class BlobReader {
 public:
  explicit BlobReader(std::string_view in) : in_(in) {}

  template <typename T>
    requires std::is_trivially_copyable_v<T>
  [[nodiscard]] bool Get(T* value) {
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(value, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }

  // Reads what PutArray wrote; fails when the count exceeds `max_count` or the blob.
  template <typename T>
    requires std::is_trivially_copyable_v<T>
  [[nodiscard]] bool GetArray(std::vector<T>* values, uint64_t max_count) {
    uint64_t count = 0;
    if (!Get(&count) || count > max_count || count > in_.size() / sizeof(T)) return false;
    values->resize(count);
    if (count > 0) std::memcpy(values->data(), in_.data(), count * sizeof(T));
    in_.remove_prefix(count * sizeof(T));
    return true;
  }

  bool empty() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace fleetlog::detect
