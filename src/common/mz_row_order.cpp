// Materialize's row encoding, for its order of rows (mz_row_order.hpp).
#include "common/mz_row_order.hpp"

#include <cstring>

#include "common/arena.hpp"
#include "common/format.hpp"
#include "common/numeric.hpp"

namespace freshet {

namespace {

// Materialize's Tag values (src/repr/src/row.rs `enum Tag`, #[repr(u8)] in declaration order).
enum MzTag : uint8_t {
  kNull = 0,
  kFalse = 1,
  kTrue = 2,
  kFloat32 = 8,
  kFloat64 = 9,
  kDate = 10,
  kInterval = 14,
  kBytesTiny = 15,
  kStringTiny = 19,
  kUuid = 23,
  kArray = 24,
  kNumeric = 32,
  kCheapTimestamp = 39,
  kCheapTimestampTz = 40,
  kNonNegativeInt16_0 = 41,
  kNonNegativeInt32_0 = 44,
  kNonNegativeInt64_0 = 49,
  kNegativeInt16_0 = 58,
  kNegativeInt32_0 = 61,
  kNegativeInt64_0 = 66,
  kUInt16_0 = 77,
  kUInt32_0 = 80,
  kUInt64_0 = 85,
};

void put_le(std::string& out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// min_bytes_signed: the bytes needed once the leading sign bits are dropped.
size_t min_bytes_signed(int64_t i) {
  const uint64_t u = static_cast<uint64_t>(i);
  const int sign_bits = i < 0 ? (u == ~uint64_t{0} ? 64 : __builtin_clzll(~u)) : (u == 0 ? 64 : __builtin_clzll(u));
  return static_cast<size_t>((64 - sign_bits + 7) / 8);
}
size_t min_bytes_unsigned(uint64_t u) {
  const int zeros = u == 0 ? 64 : __builtin_clzll(u);
  return static_cast<size_t>((64 - zeros + 7) / 8);
}

void put_signed(std::string& out, int64_t i, uint8_t nonneg_tag, uint8_t neg_tag) {
  const size_t n = min_bytes_signed(i);
  out.push_back(static_cast<char>((i < 0 ? neg_tag : nonneg_tag) + n));
  put_le(out, static_cast<uint64_t>(i), n);
}

// Tiny / Short / Long / Huge by length, then the length in 1, 2, 4 or 8 bytes.
void put_lengthed(std::string& out, std::string_view bytes, uint8_t tiny_tag) {
  const size_t n = bytes.size();
  const int k = n < (size_t{1} << 8) ? 0 : n < (size_t{1} << 16) ? 1 : n < (size_t{1} << 32) ? 2 : 3;
  out.push_back(static_cast<char>(tiny_tag + k));
  put_le(out, n, size_t{1} << k);
  out.append(bytes);
}

// A numeric as decNumber holds it after reduce(): the coefficient without trailing zeros.
bool put_numeric(std::string& out, const Numeric& n) {
  std::string s = numeric_to_string(n);
  bool neg = false;
  size_t at = 0;
  if (at < s.size() && (s[at] == '-' || s[at] == '+')) neg = s[at++] == '-';
  std::string digits;
  int exponent = 0;
  bool point = false;
  for (; at < s.size(); ++at) {
    char c = s[at];
    if (c == '.') {
      point = true;
    } else if (c >= '0' && c <= '9') {
      digits.push_back(c);
      if (point) --exponent;
    } else {
      return false;  // NaN, an exponent form
    }
  }
  size_t lead = digits.find_first_not_of('0');
  if (lead == std::string::npos) {
    digits.assign(1, '0');
    exponent = 0;
    neg = false;  // reduce() of a zero: 0E+0 (a negative zero keeps its sign bit; Freshet has none)
  } else {
    digits.erase(0, lead);
    while (digits.size() > 1 && digits.back() == '0') {
      digits.pop_back();
      ++exponent;
    }
  }
  if (digits.size() > 255 || exponent < -128 || exponent > 127) return false;
  out.push_back(static_cast<char>(kNumeric));
  out.push_back(static_cast<char>(digits.size()));
  out.push_back(static_cast<char>(static_cast<int8_t>(exponent)));
  out.push_back(static_cast<char>(neg ? 0x80 : 0));
  // Units of three digits (DECDPUN 3), least significant first, each a little-endian u16.
  for (size_t end = digits.size(); end > 0;) {
    size_t begin = end >= 3 ? end - 3 : 0;
    uint16_t unit = static_cast<uint16_t>(std::stoi(digits.substr(begin, end - begin)));
    put_le(out, unit, 2);
    end = begin;
  }
  return true;
}

}  // namespace

bool mz_encode_datum(const Datum& d, const Type& t, std::string& out) {
  if (d.is_null()) {
    out.push_back(static_cast<char>(kNull));
    return true;
  }
  switch (t.id) {
    case TypeId::kBool: out.push_back(static_cast<char>(d.as_bool() ? kTrue : kFalse)); return true;
    case TypeId::kInt2: put_signed(out, d.as_int(), kNonNegativeInt16_0, kNegativeInt16_0); return true;
    case TypeId::kInt4: put_signed(out, d.as_int(), kNonNegativeInt32_0, kNegativeInt32_0); return true;
    case TypeId::kInt8: put_signed(out, d.as_int(), kNonNegativeInt64_0, kNegativeInt64_0); return true;
    case TypeId::kUInt2:
    case TypeId::kUInt4:
    case TypeId::kUInt8: {
      const uint64_t u = static_cast<uint64_t>(d.as_int());
      const uint8_t tag = t.id == TypeId::kUInt2 ? kUInt16_0 : t.id == TypeId::kUInt4 ? kUInt32_0 : kUInt64_0;
      const size_t n = min_bytes_unsigned(u);
      out.push_back(static_cast<char>(tag + n));
      put_le(out, u, n);
      return true;
    }
    case TypeId::kFloat4: {
      float f = static_cast<float>(d.as_float());
      uint32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      out.push_back(static_cast<char>(kFloat32));
      put_le(out, bits, 4);
      return true;
    }
    case TypeId::kFloat8: {
      double f = d.as_float();
      uint64_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      out.push_back(static_cast<char>(kFloat64));
      put_le(out, bits, 8);
      return true;
    }
    case TypeId::kNumeric: return put_numeric(out, d.as_numeric());
    case TypeId::kText:
    case TypeId::kVarchar:
    case TypeId::kBpchar:
    case TypeId::kName: put_lengthed(out, d.as_string(), kStringTiny); return true;
    case TypeId::kBytea: put_lengthed(out, d.as_string(), kBytesTiny); return true;
    case TypeId::kDate:
      if (d.as_int() == kDatePosInfinity || d.as_int() == kDateNegInfinity) return false;
      out.push_back(static_cast<char>(kDate));
      put_le(out, static_cast<uint32_t>(static_cast<int32_t>(d.as_int())), 4);
      return true;
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      // Nanoseconds since the Unix epoch (CheapTimestamp): every time Materialize accepts.
      const int64_t us = d.as_int();
      constexpr int64_t kUnixMicros = 946'684'800'000'000;  // 2000-01-01 after 1970-01-01
      __int128 ns = (static_cast<__int128>(us) + kUnixMicros) * 1000;
      if (ns > INT64_MAX || ns < INT64_MIN) return false;
      out.push_back(static_cast<char>(t.id == TypeId::kTimestamp ? kCheapTimestamp : kCheapTimestampTz));
      put_le(out, static_cast<uint64_t>(static_cast<int64_t>(ns)), 8);
      return true;
    }
    case TypeId::kInterval: {
      Interval iv = d.as_interval();
      out.push_back(static_cast<char>(kInterval));
      put_le(out, static_cast<uint32_t>(iv.months), 4);
      put_le(out, static_cast<uint32_t>(iv.days), 4);
      put_le(out, static_cast<uint64_t>(iv.micros), 8);
      return true;
    }
    case TypeId::kUuid: {
      Uuid u = d.as_uuid();
      out.push_back(static_cast<char>(kUuid));
      out.append(reinterpret_cast<const char*>(u.bytes), 16);
      return true;
    }
    default: break;
  }
  std::optional<TypeId> elem = array_element_type(t.id);
  if (!elem || t.id == TypeId::kInt2Vector || t.id == TypeId::kOidVector) return false;
  // One dimension (Freshet's arrays), lower bound 1; an empty array has none.
  Arena arena;
  std::vector<Datum> items = array_elements(d.as_string(), t.id, arena);
  std::string data;
  const Type et(*elem);
  for (const Datum& x : items)
    if (!mz_encode_datum(x, et, data)) return false;
  out.push_back(static_cast<char>(kArray));
  if (items.empty()) {
    out.push_back(0);
  } else {
    out.push_back(1);
    put_le(out, 1, 8);
    put_le(out, items.size(), 8);
  }
  put_le(out, data.size(), 8);
  out.append(data);
  return true;
}

std::optional<int> mz_compare_encoded_rows(std::span<const Datum> a, std::span<const Datum> b, std::span<const Type> types) {
  std::string ea, eb;
  for (size_t i = 0; i < a.size(); ++i)
    if (i >= types.size() || !mz_encode_datum(a[i], types[i], ea)) return std::nullopt;
  for (size_t i = 0; i < b.size(); ++i)
    if (i >= types.size() || !mz_encode_datum(b[i], types[i], eb)) return std::nullopt;
  if (ea.size() != eb.size()) return ea.size() < eb.size() ? -1 : 1;
  int c = ea.compare(eb);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace freshet
