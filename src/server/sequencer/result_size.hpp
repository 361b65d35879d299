#pragma once
// Limits on the size of a query's result (Materialize's max_query_result_size, a session
// setting, and max_result_size, a system one set with ALTER SYSTEM): a SELECT whose result
// is larger than the smaller of the two fails with 53200 "result exceeds max size of N",
// before any row is sent; the reads of INSERT ... SELECT, UPDATE and DELETE are bounded by
// max_result_size alone. The size of a result is the encoded size of its distinct rows plus
// 8 bytes each (Materialize's measure, over Freshet's row encoding).
#include <atomic>
#include <cstdio>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace freshet::server {

inline constexpr uint64_t kDefaultMaxResultSize = uint64_t{1} << 30;  // 1 GiB, as Materialize

// The system's max_result_size (ALTER SYSTEM SET max_result_size = '1MB').
inline std::atomic<uint64_t> g_max_result_size{kDefaultMaxResultSize};

// A byte size as Materialize reads it: a whole number and an optional unit B, kB, MB, GB, TB
// (powers of 1024, in any case), spaces allowed between. nullopt when malformed or too large.
inline std::optional<uint64_t> parse_byte_size(std::string_view v) {
  auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!v.empty() && space(v.front())) v.remove_prefix(1);
  while (!v.empty() && space(v.back())) v.remove_suffix(1);
  size_t i = 0;
  uint64_t n = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
    if (n > (UINT64_MAX - 9) / 10) return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(v[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  while (i < v.size() && space(v[i])) ++i;
  std::string unit;
  for (; i < v.size(); ++i) unit += static_cast<char>(v[i] >= 'A' && v[i] <= 'Z' ? v[i] - 'A' + 'a' : v[i]);
  int shift;
  if (unit.empty() || unit == "b") shift = 0;
  else if (unit == "kb") shift = 10;
  else if (unit == "mb") shift = 20;
  else if (unit == "gb") shift = 30;
  else if (unit == "tb") shift = 40;
  else return std::nullopt;
  if (shift > 0 && n > (UINT64_MAX >> shift)) return std::nullopt;
  return n << shift;
}

// As Materialize prints a size in its errors: "8 B", "1.0 MiB", "1.5 GiB".
inline std::string format_byte_size(uint64_t n) {
  if (n < 1024) return std::to_string(n) + " B";
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(n);
  int u = -1;
  while (v >= 1024.0 && u < 5) {
    v /= 1024.0;
    ++u;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

}  // namespace freshet::server
