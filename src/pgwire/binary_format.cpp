#include "pgwire/binary_format.hpp"

#include <charconv>
#include <cstring>
#include <optional>
#include <vector>

#include "common/error.hpp"
#include "common/format.hpp"
#include "common/numeric.hpp"
#include "common/unsigned_int.hpp"

namespace freshet::pgwire {
namespace {

using u128 = unsigned __int128;

[[noreturn]] void bad_binary(std::string_view type_name) {
  throw SqlError(sqlstate::kInvalidBinaryRepresentation,
                 "incorrect binary data format for type " + std::string(type_name));
}

void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
void put_u32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>(v >> s));
}
void put_u64(std::string& out, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>(v >> s));
}

// Bounds-checked big-endian reader over a parameter value.
class Reader {
 public:
  Reader(std::string_view b, TypeId t) : b_(b), t_(t) {}
  uint64_t uint(size_t n) {
    if (b_.size() - pos_ < n) bad_binary(type_internal_name(t_));
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(b_[pos_ + i]);
    pos_ += n;
    return v;
  }
  int16_t i16() { return static_cast<int16_t>(static_cast<uint16_t>(uint(2))); }
  int32_t i32() { return static_cast<int32_t>(static_cast<uint32_t>(uint(4))); }
  int64_t i64() { return static_cast<int64_t>(uint(8)); }
  std::string_view bytes(size_t n) {
    if (b_.size() - pos_ < n) bad_binary(type_internal_name(t_));
    std::string_view s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  void end() const {
    if (pos_ != b_.size()) bad_binary(type_internal_name(t_));
  }

 private:
  std::string_view b_;
  TypeId t_;
  size_t pos_ = 0;
};

constexpr uint16_t kNumericPos = 0x0000;
constexpr uint16_t kNumericNeg = 0x4000;
constexpr uint16_t kNumericNaN = 0xC000;
constexpr uint16_t kNumericPInf = 0xD000;
constexpr uint16_t kNumericNInf = 0xF000;

// PostgreSQL's numeric_send: ndigits, weight, sign, dscale, then base-10000 digits with the
// decimal point between digit `weight` and `weight + 1`.
void encode_numeric(const Numeric& n, std::string& out) {
  if (n.is_nan()) {
    put_u16(out, 0);
    put_u16(out, 0);
    put_u16(out, kNumericNaN);
    put_u16(out, 0);
    return;
  }
  bool negative = numeric_sign(n) < 0;
  size_t scale = static_cast<size_t>(n.scale);
  std::string s = numeric_abs_digits(n);
  if (s.size() <= scale) s.insert(0, scale + 1 - s.size(), '0');
  std::string int_part = s.substr(0, s.size() - scale);
  std::string frac = s.substr(s.size() - scale);
  if (int_part.size() % 4 != 0) int_part.insert(0, 4 - int_part.size() % 4, '0');
  if (frac.size() % 4 != 0) frac.append(4 - frac.size() % 4, '0');
  std::vector<uint16_t> digits;
  auto push_groups = [&](const std::string& str) {
    for (size_t i = 0; i < str.size(); i += 4) {
      digits.push_back(static_cast<uint16_t>((str[i] - '0') * 1000 + (str[i + 1] - '0') * 100 +
                                             (str[i + 2] - '0') * 10 + (str[i + 3] - '0')));
    }
  };
  push_groups(int_part);
  push_groups(frac);
  int weight = static_cast<int>(int_part.size() / 4) - 1;
  size_t first = 0;
  while (first < digits.size() && digits[first] == 0) {
    ++first;
    --weight;
  }
  size_t last = digits.size();
  while (last > first && digits[last - 1] == 0) --last;
  if (first == last) {  // zero
    weight = 0;
    negative = false;
  }
  put_u16(out, static_cast<uint16_t>(last - first));
  put_u16(out, static_cast<uint16_t>(static_cast<int16_t>(weight)));
  put_u16(out, negative ? kNumericNeg : kNumericPos);
  put_u16(out, static_cast<uint16_t>(n.scale));
  for (size_t i = first; i < last; ++i) put_u16(out, digits[i]);
}

// PostgreSQL's numeric_recv, then truncation to dscale (as numeric_recv does) and to
// Freshet's 38 digits of scale.
Numeric decode_numeric(Reader& r) {
  int ndigits = r.i16();
  int weight = r.i16();
  uint16_t sign = static_cast<uint16_t>(r.i16());
  int dscale = r.i16();
  if (ndigits < 0) bad_binary("numeric");
  if (sign == kNumericNaN) {
    for (int i = 0; i < ndigits; ++i) r.i16();
    r.end();
    Numeric nan;
    nan.scale = Numeric::kNaNScale;
    return nan;
  }
  if (sign == kNumericPInf || sign == kNumericNInf) {
    throw SqlError(sqlstate::kFeatureNotSupported, "numeric infinity is not supported");
  }
  if (sign != kNumericPos && sign != kNumericNeg) {
    throw SqlError(sqlstate::kInvalidBinaryRepresentation, "invalid sign in external \"numeric\" value");
  }
  if (dscale < 0 || dscale > 0x3FFF) {
    throw SqlError(sqlstate::kInvalidBinaryRepresentation, "invalid scale in external \"numeric\" value");
  }
  std::string s;
  s.reserve(static_cast<size_t>(ndigits) * 4);
  for (int i = 0; i < ndigits; ++i) {
    int d = r.i16();
    if (d < 0 || d >= 10000) {
      throw SqlError(sqlstate::kInvalidBinaryRepresentation, "invalid digit in external \"numeric\" value");
    }
    char buf[5];
    std::snprintf(buf, sizeof buf, "%04d", d);
    s.append(buf, 4);
  }
  r.end();
  int scale = dscale > kNumericMaxDigits ? kNumericMaxDigits : dscale;
  // value = S * 10^(4 * (weight - ndigits + 1)); mantissa = value * 10^scale, truncated.
  long exponent = 4L * (weight - ndigits + 1) + scale;
  if (exponent < 0) {
    size_t drop = static_cast<size_t>(-exponent);
    s.erase(s.size() > drop ? s.size() - drop : 0);
    exponent = 0;
  }
  size_t nz = s.find_first_not_of('0');
  s.erase(0, nz == std::string::npos ? s.size() : nz);
  if (s.empty()) return Numeric{0, static_cast<int16_t>(scale)};
  if (s.size() + static_cast<size_t>(exponent) > static_cast<size_t>(kNumericMaxDigits)) {
    throw SqlError(sqlstate::kNumericValueOutOfRange, "value overflows numeric format");
  }
  s.append(static_cast<size_t>(exponent), '0');
  // The mantissa's digits at `scale`: 39 digits may pass 2^127 (Numeric::ext), so numeric.cpp
  // builds the value.
  std::string text = (sign == kNumericNeg ? "-" : "") + s + "e-" + std::to_string(scale);
  return numeric_parse_impl(text);
}

// Element type of the array types Freshet has.
std::optional<TypeId> array_element(TypeId t) { return array_element_type(t); }

int64_t parse_element_int(std::string_view s, TypeId elem) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    throw SqlError(sqlstate::kInvalidTextRepresentation,
                   "invalid input syntax for type " + std::string(type_internal_name(elem)) + ": \"" +
                       std::string(s) + "\"");
  }
  return v;
}

// PostgreSQL's array_send for a one-dimensional array with lower bound 1.
void encode_array(std::string_view literal, TypeId elem, std::string& out) {
  auto elems = parse_array_literal(literal);
  bool has_null = false;
  for (const auto& e : elems) has_null |= !e.has_value();
  put_u32(out, elems.empty() ? 0 : 1);
  put_u32(out, has_null ? 1 : 0);
  put_u32(out, type_oid(elem));
  if (!elems.empty()) {
    put_u32(out, static_cast<uint32_t>(elems.size()));
    put_u32(out, 1);
  }
  for (const auto& e : elems) {
    if (!e) {
      put_u32(out, 0xFFFFFFFFu);
      continue;
    }
    if (elem == TypeId::kText) {
      put_u32(out, static_cast<uint32_t>(e->size()));
      out.append(*e);
    } else if (elem == TypeId::kInt2) {
      put_u32(out, 2);
      put_u16(out, static_cast<uint16_t>(static_cast<int16_t>(parse_element_int(*e, elem))));
    } else if (elem == TypeId::kOid) {
      put_u32(out, 4);
      put_u32(out, static_cast<uint32_t>(parse_element_int(*e, elem)));
    } else {
      // Any other element type: its own binary form, length-prefixed.
      Arena arena;
      std::string bytes;
      encode_binary(parse_datum(*e, Type(elem), arena), Type(elem), bytes);
      put_u32(out, static_cast<uint32_t>(bytes.size()));
      out.append(bytes);
    }
  }
}

std::string decode_array(Reader& r, TypeId t, TypeId elem) {
  int32_t ndim = r.i32();
  int32_t flags = r.i32();
  uint32_t elem_oid = static_cast<uint32_t>(r.i32());
  if (ndim < 0 || (flags != 0 && flags != 1)) bad_binary(type_internal_name(t));
  if (ndim > 1) {
    throw SqlError(sqlstate::kFeatureNotSupported, "multidimensional arrays are not supported");
  }
  if (elem_oid != type_oid(elem)) {
    throw SqlError(sqlstate::kDatatypeMismatch, "binary data has array element type " + std::to_string(elem_oid) +
                                                    " instead of expected " + std::to_string(type_oid(elem)));
  }
  std::vector<std::optional<std::string>> elems;
  if (ndim == 1) {
    int32_t n = r.i32();
    r.i32();  // lower bound: Freshet's arrays are 1-based; others are accepted as if 1
    if (n < 0) bad_binary(type_internal_name(t));
    for (int32_t i = 0; i < n; ++i) {
      int32_t len = r.i32();
      if (len == -1) {
        elems.emplace_back(std::nullopt);
        continue;
      }
      if (len < 0) bad_binary(type_internal_name(t));
      std::string_view b = r.bytes(static_cast<size_t>(len));
      if (elem == TypeId::kText) {
        elems.emplace_back(std::string(b));
      } else if (elem != TypeId::kInt2 && elem != TypeId::kOid) {
        Arena arena;
        elems.emplace_back(format_datum(decode_binary(b, Type(elem), arena), Type(elem)));
      } else {
        Reader er(b, elem);
        int64_t v = elem == TypeId::kInt2 ? er.i16() : static_cast<int64_t>(static_cast<uint32_t>(er.i32()));
        er.end();
        elems.emplace_back(std::to_string(v));
      }
    }
  }
  r.end();
  std::string out;
  format_array_literal(elems, out);
  return out;
}

}  // namespace

bool has_binary_format(TypeId t) {
  switch (t) {
    case TypeId::kRecord:
    case TypeId::kTsRange:
      return false;
    default:
      return true;
  }
}

void encode_binary(const Datum& d, Type t, std::string& out) {
  FRESHET_ASSERT(!d.is_null());
  switch (t.id) {
    case TypeId::kBool:
      out.push_back(d.as_bool() ? 1 : 0);
      return;
    case TypeId::kInt2:
      put_u16(out, static_cast<uint16_t>(static_cast<int16_t>(d.as_int())));
      return;
    case TypeId::kInt4:
      put_u32(out, static_cast<uint32_t>(static_cast<int32_t>(d.as_int())));
      return;
    // Materialize's unsigned integers: big-endian unsigned, 2, 4 and 8 bytes.
    case TypeId::kUInt2:
      put_u16(out, static_cast<uint16_t>(uint_value(d, t.id)));
      return;
    case TypeId::kUInt4:
      put_u32(out, static_cast<uint32_t>(uint_value(d, t.id)));
      return;
    case TypeId::kUInt8:
    case TypeId::kMzTimestamp:  // stored as a uint8 (unsigned_int.hpp)
      put_u64(out, uint_value(d, TypeId::kUInt8));
      return;
    case TypeId::kInt8:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      put_u64(out, static_cast<uint64_t>(d.as_int()));
      return;
    case TypeId::kOid:
    case TypeId::kRegclass:
    case TypeId::kRegproc:
    case TypeId::kRegtype:
    case TypeId::kRegnamespace:
    case TypeId::kRegrole:
      put_u32(out, static_cast<uint32_t>(d.as_int()));
      return;
    case TypeId::kDate:
      put_u32(out, static_cast<uint32_t>(static_cast<int32_t>(d.as_int())));
      return;
    case TypeId::kFloat4: {
      float f = static_cast<float>(d.as_float());
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      put_u32(out, bits);
      return;
    }
    case TypeId::kFloat8: {
      double f = d.as_float();
      uint64_t bits;
      std::memcpy(&bits, &f, 8);
      put_u64(out, bits);
      return;
    }
    case TypeId::kNumeric:
      encode_numeric(numeric_for_output(d.as_numeric()), out);
      return;
    case TypeId::kUnknown:
    case TypeId::kText:
    case TypeId::kVarchar:
    case TypeId::kBpchar:
    case TypeId::kChar:
    case TypeId::kName:
    case TypeId::kBytea:
      out.append(d.as_string());
      return;
    case TypeId::kJsonb:
      out.push_back(1);  // jsonb binary format version
      out.append(d.as_string());
      return;
    case TypeId::kInterval: {
      Interval iv = d.as_interval();
      put_u64(out, static_cast<uint64_t>(iv.micros));
      put_u32(out, static_cast<uint32_t>(iv.days));
      put_u32(out, static_cast<uint32_t>(iv.months));
      return;
    }
    case TypeId::kUuid: {
      Uuid u = d.as_uuid();
      out.append(reinterpret_cast<const char*>(u.bytes), 16);
      return;
    }
    case TypeId::kTextArray:
    case TypeId::kInt2Array:
    case TypeId::kOidArray:
    case TypeId::kInt4Array:
    case TypeId::kInt8Array:
    case TypeId::kNameArray:
    case TypeId::kBoolArray:
    case TypeId::kFloat8Array:
    case TypeId::kNumericArray:
    case TypeId::kInt2Vector:
    case TypeId::kOidVector:
      encode_array(d.as_string(), *array_element(t.id), out);
      return;
    case TypeId::kList:  // sent as text (oid 25), whose binary form is its bytes
      out += d.as_string();
      return;
    case TypeId::kRecord:
    case TypeId::kUInt2Array:  // Materialize's arrays: the text format works
    case TypeId::kUInt4Array:
    case TypeId::kUInt8Array:
    case TypeId::kMzTimestampArray:
    case TypeId::kTsRange:  // range_send's layout is not implemented; the text format works
      break;
  }
  throw SqlError(sqlstate::kFeatureNotSupported,
                 "binary output format is not supported for type " + std::string(type_internal_name(t.id)));
}

Datum decode_binary(std::string_view bytes, Type t, Arena& arena) {
  Reader r(bytes, t.id);
  Datum d;
  switch (t.id) {
    case TypeId::kBool: {
      uint64_t b = r.uint(1);
      d = Datum::from_bool(b != 0);
      break;
    }
    case TypeId::kInt2:
      d = Datum::from_int(r.i16());
      break;
    case TypeId::kInt4:
      d = Datum::from_int(r.i32());
      break;
    case TypeId::kInt8:
      d = Datum::from_int(r.i64());
      break;
    case TypeId::kUInt2:
      d = uint_datum(r.uint(2), t.id);
      break;
    case TypeId::kUInt4:
      d = uint_datum(r.uint(4), t.id);
      break;
    case TypeId::kUInt8:
    case TypeId::kMzTimestamp:
      d = uint_datum(r.uint(8), TypeId::kUInt8);
      break;
    case TypeId::kOid:
    case TypeId::kRegclass:
    case TypeId::kRegproc:
    case TypeId::kRegtype:
    case TypeId::kRegnamespace:
    case TypeId::kRegrole:
      d = Datum::from_int(static_cast<int64_t>(static_cast<uint32_t>(r.i32())));
      break;
    case TypeId::kFloat4: {
      uint32_t bits = static_cast<uint32_t>(r.i32());
      float f;
      std::memcpy(&f, &bits, 4);
      d = Datum::from_float(static_cast<double>(f));
      break;
    }
    case TypeId::kFloat8: {
      uint64_t bits = static_cast<uint64_t>(r.i64());
      double f;
      std::memcpy(&f, &bits, 8);
      d = Datum::from_float(f);
      break;
    }
    case TypeId::kNumeric: {
      Numeric n = decode_numeric(r);
      if (t.typmod >= 0 && !n.is_nan()) n = numeric_apply_typmod(n, t.typmod);
      return Datum::from_numeric(n);
    }
    case TypeId::kDate:
      d = Datum::from_date(r.i32());
      break;
    case TypeId::kTime: {
      int64_t v = r.i64();
      if (v < 0 || v > kMicrosPerDay) {
        throw SqlError(sqlstate::kDatetimeFieldOverflow, "time out of range");
      }
      d = Datum::from_time(v);
      break;
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      d = Datum::from_timestamp(r.i64());
      break;
    case TypeId::kInterval: {
      Interval iv;
      iv.micros = r.i64();
      iv.days = r.i32();
      iv.months = r.i32();
      d = Datum::from_interval(iv);
      break;
    }
    case TypeId::kUuid: {
      Uuid u;
      std::memcpy(u.bytes, r.bytes(16).data(), 16);
      d = Datum::from_uuid(u);
      break;
    }
    case TypeId::kBytea:
      return Datum::from_string(arena.copy(bytes));
    case TypeId::kUnknown:
    case TypeId::kText:
    case TypeId::kVarchar:
    case TypeId::kBpchar:
    case TypeId::kChar:
    case TypeId::kName:
      // The binary form of the text types is their text; the text input function checks the
      // encoding and applies the type modifier.
      return parse_datum(bytes, t, arena);
    case TypeId::kJsonb: {
      uint64_t version = r.uint(1);
      if (version != 1) {
        throw SqlError(sqlstate::kInvalidBinaryRepresentation,
                       "unsupported jsonb version number " + std::to_string(version));
      }
      return parse_datum(bytes.substr(1), t, arena);
    }
    case TypeId::kTextArray:
    case TypeId::kInt2Array:
    case TypeId::kOidArray:
    case TypeId::kInt4Array:
    case TypeId::kInt8Array:
    case TypeId::kNameArray:
    case TypeId::kBoolArray:
    case TypeId::kFloat8Array:
    case TypeId::kNumericArray:
    case TypeId::kInt2Vector:
    case TypeId::kOidVector: {
      std::string literal = decode_array(r, t.id, *array_element(t.id));
      return Datum::from_string(arena.copy(literal));
    }
    case TypeId::kList:
      return parse_datum(bytes, t, arena);
    case TypeId::kRecord:
    case TypeId::kUInt2Array:
    case TypeId::kUInt4Array:
    case TypeId::kUInt8Array:
    case TypeId::kMzTimestampArray:
    case TypeId::kTsRange:
      throw SqlError(sqlstate::kFeatureNotSupported,
                     "binary input format is not supported for type " + std::string(type_internal_name(t.id)));
  }
  r.end();
  return d;
}

}  // namespace freshet::pgwire
