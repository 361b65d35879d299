#include "common/datum.hpp"

#include <cmath>

#include "common/numeric.hpp"
#include "common/row.hpp"
#include "common/sql_dialect.hpp"

namespace freshet {

namespace {
template <typename T>
int cmp3(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int compare_floats(double a, double b) {
  // PostgreSQL: NaN equals NaN and sorts above every other value.
  bool an = std::isnan(a), bn = std::isnan(b);
  if (an || bn) return an == bn ? 0 : (an ? 1 : -1);
  return cmp3(a, b);
}

// Interval comparison as PostgreSQL: by the total span, a month counting 30 days.
__int128 interval_span(const Interval& iv) {
  return (__int128)iv.months * 30 * 86'400'000'000LL + (__int128)iv.days * 86'400'000'000LL + iv.micros;
}

uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}
}  // namespace

int compare_datums(const Datum& a, const Datum& b) {
  if (a.is_null() || b.is_null()) return a.is_null() == b.is_null() ? 0 : (a.is_null() ? 1 : -1);
  switch (a.kind()) {
    case PhysicalKind::kNull:
      return 0;
    case PhysicalKind::kBool:
      return cmp3(a.as_bool(), b.as_bool());
    case PhysicalKind::kInt:
    case PhysicalKind::kDate:
    case PhysicalKind::kTime:
    case PhysicalKind::kTimestamp:
      if (b.kind() == PhysicalKind::kFloat) return compare_floats(static_cast<double>(a.as_int()), b.as_float());
      return cmp3(a.as_int(), b.as_int());
    case PhysicalKind::kFloat:
      if (b.kind() == PhysicalKind::kInt) return compare_floats(a.as_float(), static_cast<double>(b.as_int()));
      return compare_floats(a.as_float(), b.as_float());
    case PhysicalKind::kNumeric:
      return numeric_compare(a.as_numeric(), b.as_numeric());
    case PhysicalKind::kString: {
      int c = a.as_string().compare(b.as_string());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case PhysicalKind::kInterval: {
      Interval x = a.as_interval(), y = b.as_interval();
      // Materialize compares field by field (months, then days, then microseconds: its derived
      // Ord), so '1 month' > '9999999 days' and '1 day' <> '24 hours'; equal fields are equal
      // spans, so hash_datum's span hash stays consistent with this equality.
      if (materialize_dialect()) {
        if (x.months != y.months) return cmp3(x.months, y.months);
        if (x.days != y.days) return cmp3(x.days, y.days);
        return cmp3(x.micros, y.micros);
      }
      return cmp3(interval_span(x), interval_span(y));
    }
    case PhysicalKind::kUuid: {
      int c = std::memcmp(a.as_uuid().bytes, b.as_uuid().bytes, 16);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
  return 0;
}

uint64_t hash_datum(const Datum& d) {
  switch (d.kind()) {
    case PhysicalKind::kNull:
      return 0x9e3779b97f4a7c15ULL;
    case PhysicalKind::kBool:
      return mix(d.as_bool() ? 1 : 2);
    case PhysicalKind::kInt:
    case PhysicalKind::kDate:
    case PhysicalKind::kTime:
    case PhysicalKind::kTimestamp:
      return mix(static_cast<uint64_t>(d.as_int()));
    case PhysicalKind::kFloat: {
      double f = d.as_float();
      if (f == 0) f = 0;  // -0.0 hashes as 0.0
      if (std::isnan(f)) return mix(0x7ff8000000000000ULL);
      uint64_t bits;
      std::memcpy(&bits, &f, 8);
      return mix(bits);
    }
    case PhysicalKind::kNumeric:
      return numeric_hash(d.as_numeric());
    case PhysicalKind::kString:
      return hash_bytes(d.as_string());
    case PhysicalKind::kInterval: {
      __int128 s = interval_span(d.as_interval());
      return mix(static_cast<uint64_t>(s) ^ mix(static_cast<uint64_t>(s >> 64)));
    }
    case PhysicalKind::kUuid:
      return hash_bytes(std::string_view(reinterpret_cast<const char*>(d.as_uuid().bytes), 16));
  }
  return 0;
}

}  // namespace freshet
