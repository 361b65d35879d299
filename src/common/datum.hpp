#pragma once
// Datum: one SQL value in its physical representation (types.hpp, PhysicalKind). A Datum does
// not own string bytes: a kString datum points into a packed Row (row.hpp) or into an Arena
// (arena.hpp) that outlives it. Datums are 24 bytes and trivially copyable.

#include <cstdint>
#include <cstring>
#include <string_view>

#include "common/types.hpp"

namespace freshet {

// Exact decimal: (ext * 2^128 + mantissa) * 10^-scale, 0 <= scale <= 39, at most 39 significant
// digits (numeric.hpp has the arithmetic). NaN is represented by scale == kNaNScale.
// Every value below 2^127 in magnitude has ext == 0 and is just `mantissa`; only the 39-digit
// values from 2^127 (about 1.7e38) up to 10^39 - 1 are "wide": mantissa holds the low 128 bits
// of the two's-complement value and ext (-4..4) the rest. The encoding is canonical (one
// (mantissa, ext) per value), so code that builds a Numeric from an __int128 leaves ext at 0;
// code that reads `mantissa` directly must first check ext == 0 (numeric.hpp's helpers do not
// need to).
struct Numeric {
  __int128 mantissa = 0;
  int16_t scale = 0;
  int8_t ext = 0;
  static constexpr int16_t kNaNScale = -1;
  bool is_nan() const { return scale == kNaNScale; }
};

struct Interval {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
  friend bool operator==(const Interval&, const Interval&) = default;
};

struct Uuid {
  uint8_t bytes[16] = {};
  friend bool operator==(const Uuid& a, const Uuid& b) { return std::memcmp(a.bytes, b.bytes, 16) == 0; }
};

class Datum {
 public:
  constexpr Datum() : kind_(PhysicalKind::kNull) {}

  static Datum null() { return Datum(); }
  static Datum from_bool(bool b) { Datum d(PhysicalKind::kBool); d.u_.i = b ? 1 : 0; return d; }
  static Datum from_int(int64_t v) { Datum d(PhysicalKind::kInt); d.u_.i = v; return d; }
  static Datum from_float(double v) { Datum d(PhysicalKind::kFloat); d.u_.f = v; return d; }
  static Datum from_numeric(const Numeric& n) {
    Datum d(PhysicalKind::kNumeric);
    std::memcpy(d.u_.bytes, &n.mantissa, 16);
    d.aux_ = n.scale;
    d.aux_ext_ = n.ext;
    return d;
  }
  // The bytes must outlive the Datum (a Row or an Arena owns them).
  static Datum from_string(std::string_view s) {
    Datum d(PhysicalKind::kString);
    d.u_.s.ptr = s.data();
    d.u_.s.len = s.size();
    return d;
  }
  static Datum from_date(int32_t days) { Datum d(PhysicalKind::kDate); d.u_.i = days; return d; }
  static Datum from_time(int64_t micros) { Datum d(PhysicalKind::kTime); d.u_.i = micros; return d; }
  static Datum from_timestamp(int64_t micros) { Datum d(PhysicalKind::kTimestamp); d.u_.i = micros; return d; }
  static Datum from_interval(const Interval& iv) {
    Datum d(PhysicalKind::kInterval);
    d.u_.iv.months = iv.months;
    d.u_.iv.days = iv.days;
    d.u_.iv.micros = iv.micros;
    return d;
  }
  static Datum from_uuid(const Uuid& u) {
    Datum d(PhysicalKind::kUuid);
    std::memcpy(d.u_.bytes, u.bytes, 16);
    return d;
  }

  PhysicalKind kind() const { return kind_; }
  bool is_null() const { return kind_ == PhysicalKind::kNull; }

  bool as_bool() const { return u_.i != 0; }
  // kInt, kDate, kTime, kTimestamp.
  int64_t as_int() const { return u_.i; }
  double as_float() const { return u_.f; }
  Numeric as_numeric() const {
    Numeric n;
    std::memcpy(&n.mantissa, u_.bytes, 16);
    n.scale = aux_;
    n.ext = aux_ext_;
    return n;
  }
  std::string_view as_string() const { return std::string_view(u_.s.ptr, u_.s.len); }
  Interval as_interval() const { return Interval{u_.iv.months, u_.iv.days, u_.iv.micros}; }
  Uuid as_uuid() const {
    Uuid u;
    std::memcpy(u.bytes, u_.bytes, 16);
    return u;
  }

 private:
  explicit constexpr Datum(PhysicalKind k) : kind_(k) {}

  PhysicalKind kind_;
  int8_t aux_ext_ = 0;  // numeric ext (the high bits of a 39-digit mantissa); fills padding
  int16_t aux_ = 0;  // numeric scale
  union U {
    int64_t i;
    double f;
    struct {
      const char* ptr;
      size_t len;
    } s;
    struct {
      int32_t months;
      int32_t days;
      int64_t micros;
    } iv;
    alignas(8) unsigned char bytes[16];
    constexpr U() : i(0) {}
  } u_;
};

static_assert(sizeof(Datum) == 24);

// Total order over datums of the same SQL type, as ORDER BY sorts them (NULLs last, i.e. NULL
// compares greater than every value); text compares by bytes (the C collation). Floats order
// NaN above every other value as PostgreSQL does. Returns <0, 0, >0.
int compare_datums(const Datum& a, const Datum& b);
// Equality as GROUP BY/DISTINCT use it: NULL equals NULL here (this is not SQL's `=`).
inline bool datums_equal(const Datum& a, const Datum& b) { return compare_datums(a, b) == 0; }
// Hash consistent with datums_equal (numeric 1.0 and 1.00 hash alike; -0.0 and 0.0 alike).
uint64_t hash_datum(const Datum& d);

}  // namespace freshet
