// Row format (doc: src/common/README.md, "Row format"): each datum is one tag byte followed by
// its payload, little-endian:
//   0 NULL | 1 false | 2 true
//   3 int8-bit | 4 int16 | 5 int32 | 6 int64      (kInt, smallest width that holds the value)
//   7 float (8 bytes)
//   8 numeric: scale (int16) + mantissa length n (1 byte) + n bytes two's complement (n <= 17:
//     the 17th byte holds Numeric::ext, the high bits of a 39-digit mantissa at or above 2^127)
//   9 string, length < 256: 1-byte length + bytes | 10 string: 4-byte length + bytes
//   11 date (int32) | 12 time (int64) | 13 timestamp (int64) | 14 interval (int32, int32, int64)
//   15 uuid (16 bytes)
// The encoding is canonical: equal datums of the same kind pack to equal bytes (numeric keeps its
// scale, so 1.5 and 1.50 differ in bytes, as their text forms do).
#include "common/row.hpp"
#include "common/row_prefix.hpp"

#include <cstring>

#include "common/error.hpp"

namespace freshet {

namespace {
enum Tag : uint8_t {
  kTagNull = 0,
  kTagFalse = 1,
  kTagTrue = 2,
  kTagInt8 = 3,
  kTagInt16 = 4,
  kTagInt32 = 5,
  kTagInt64 = 6,
  kTagFloat = 7,
  kTagNumeric = 8,
  kTagShortString = 9,
  kTagLongString = 10,
  kTagDate = 11,
  kTagTime = 12,
  kTagTimestamp = 13,
  kTagInterval = 14,
  kTagUuid = 15,
};

template <typename T>
void put(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out.append(buf, sizeof(T));
}

template <typename T>
T get_at(const char*& p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  p += sizeof(T);
  return v;
}

// Decodes one datum at p, advancing p.
Datum decode(const char*& p) {
  uint8_t tag = static_cast<uint8_t>(*p++);
  switch (tag) {
    case kTagNull:
      return Datum::null();
    case kTagFalse:
      return Datum::from_bool(false);
    case kTagTrue:
      return Datum::from_bool(true);
    case kTagInt8:
      return Datum::from_int(get_at<int8_t>(p));
    case kTagInt16:
      return Datum::from_int(get_at<int16_t>(p));
    case kTagInt32:
      return Datum::from_int(get_at<int32_t>(p));
    case kTagInt64:
      return Datum::from_int(get_at<int64_t>(p));
    case kTagFloat:
      return Datum::from_float(get_at<double>(p));
    case kTagNumeric: {
      Numeric n;
      n.scale = get_at<int16_t>(p);
      uint8_t len = static_cast<uint8_t>(*p++);
      FRESHET_ASSERT(len <= 17);
      unsigned char bytes[17];
      std::memcpy(bytes, p, len);
      // sign-extend
      unsigned char fill = (len > 0 && (bytes[len - 1] & 0x80)) ? 0xff : 0;
      std::memset(bytes + len, fill, 17 - len);
      std::memcpy(&n.mantissa, bytes, 16);
      // bytes[16] is the top byte of the 136-bit value; ext = that value's bits from 128 up,
      // minus the sign extension of the low 128 bits.
      int top = static_cast<int8_t>(bytes[16]);
      n.ext = static_cast<int8_t>(top - (n.mantissa < 0 ? -1 : 0));
      p += len;
      return Datum::from_numeric(n);
    }
    case kTagShortString: {
      uint8_t len = static_cast<uint8_t>(*p++);
      Datum d = Datum::from_string(std::string_view(p, len));
      p += len;
      return d;
    }
    case kTagLongString: {
      uint32_t len = get_at<uint32_t>(p);
      Datum d = Datum::from_string(std::string_view(p, len));
      p += len;
      return d;
    }
    case kTagDate:
      return Datum::from_date(get_at<int32_t>(p));
    case kTagTime:
      return Datum::from_time(get_at<int64_t>(p));
    case kTagTimestamp:
      return Datum::from_timestamp(get_at<int64_t>(p));
    case kTagInterval: {
      Interval iv;
      iv.months = get_at<int32_t>(p);
      iv.days = get_at<int32_t>(p);
      iv.micros = get_at<int64_t>(p);
      return Datum::from_interval(iv);
    }
    case kTagUuid: {
      Uuid u;
      std::memcpy(u.bytes, p, 16);
      p += 16;
      return Datum::from_uuid(u);
    }
    default:
      FRESHET_ASSERT(false && "corrupt row tag");
  }
  return Datum::null();
}

// Advances p past one datum without building it (what column_offsets walks with).
void skip(const char*& p) {
  const uint8_t tag = static_cast<uint8_t>(*p++);
  switch (tag) {
    case kTagNull:
    case kTagFalse:
    case kTagTrue:
      return;
    case kTagInt8:
      p += 1;
      return;
    case kTagInt16:
      p += 2;
      return;
    case kTagInt32:
    case kTagDate:
      p += 4;
      return;
    case kTagInt64:
    case kTagFloat:
    case kTagTime:
    case kTagTimestamp:
      p += 8;
      return;
    case kTagNumeric: {
      const uint8_t len = static_cast<uint8_t>(p[2]);
      FRESHET_ASSERT(len <= 17);
      p += 3 + len;
      return;
    }
    case kTagShortString:
      p += 1 + static_cast<uint8_t>(*p);
      return;
    case kTagLongString: {
      const uint32_t len = get_at<uint32_t>(p);
      p += len;
      return;
    }
    case kTagInterval:
    case kTagUuid:
      p += 16;
      return;
    default:
      FRESHET_ASSERT(false && "corrupt row tag");
  }
}
}  // namespace

void RowPacker::push(const Datum& d) {
  switch (d.kind()) {
    case PhysicalKind::kNull:
      out_.push_back(static_cast<char>(kTagNull));
      return;
    case PhysicalKind::kBool:
      out_.push_back(static_cast<char>(d.as_bool() ? kTagTrue : kTagFalse));
      return;
    case PhysicalKind::kInt: {
      int64_t v = d.as_int();
      if (v >= INT8_MIN && v <= INT8_MAX) {
        out_.push_back(static_cast<char>(kTagInt8));
        put<int8_t>(out_, static_cast<int8_t>(v));
      } else if (v >= INT16_MIN && v <= INT16_MAX) {
        out_.push_back(static_cast<char>(kTagInt16));
        put<int16_t>(out_, static_cast<int16_t>(v));
      } else if (v >= INT32_MIN && v <= INT32_MAX) {
        out_.push_back(static_cast<char>(kTagInt32));
        put<int32_t>(out_, static_cast<int32_t>(v));
      } else {
        out_.push_back(static_cast<char>(kTagInt64));
        put<int64_t>(out_, v);
      }
      return;
    }
    case PhysicalKind::kFloat:
      out_.push_back(static_cast<char>(kTagFloat));
      put<double>(out_, d.as_float());
      return;
    case PhysicalKind::kNumeric: {
      Numeric n = d.as_numeric();
      out_.push_back(static_cast<char>(kTagNumeric));
      put<int16_t>(out_, n.scale);
      unsigned char bytes[17];
      std::memcpy(bytes, &n.mantissa, 16);
      // The 136-bit two's complement value ext * 2^128 + mantissa: its top byte.
      bytes[16] = static_cast<unsigned char>(static_cast<int8_t>((n.mantissa < 0 ? -1 : 0) + n.ext));
      // shortest two's complement: drop high bytes that are pure sign extension
      int len = 17;
      while (len > 1) {
        unsigned char top = bytes[len - 1], next = bytes[len - 2];
        if ((top == 0 && !(next & 0x80)) || (top == 0xff && (next & 0x80)))
          --len;
        else
          break;
      }
      if (len == 1 && bytes[0] == 0) len = 0;
      out_.push_back(static_cast<char>(len));
      out_.append(reinterpret_cast<const char*>(bytes), len);
      return;
    }
    case PhysicalKind::kString: {
      std::string_view s = d.as_string();
      if (s.size() < 256) {
        out_.push_back(static_cast<char>(kTagShortString));
        out_.push_back(static_cast<char>(s.size()));
      } else {
        FRESHET_ASSERT(s.size() <= UINT32_MAX);
        out_.push_back(static_cast<char>(kTagLongString));
        put<uint32_t>(out_, static_cast<uint32_t>(s.size()));
      }
      out_.append(s);
      return;
    }
    case PhysicalKind::kDate:
      out_.push_back(static_cast<char>(kTagDate));
      put<int32_t>(out_, static_cast<int32_t>(d.as_int()));
      return;
    case PhysicalKind::kTime:
      out_.push_back(static_cast<char>(kTagTime));
      put<int64_t>(out_, d.as_int());
      return;
    case PhysicalKind::kTimestamp:
      out_.push_back(static_cast<char>(kTagTimestamp));
      put<int64_t>(out_, d.as_int());
      return;
    case PhysicalKind::kInterval: {
      Interval iv = d.as_interval();
      out_.push_back(static_cast<char>(kTagInterval));
      put<int32_t>(out_, iv.months);
      put<int32_t>(out_, iv.days);
      put<int64_t>(out_, iv.micros);
      return;
    }
    case PhysicalKind::kUuid: {
      Uuid u = d.as_uuid();
      out_.push_back(static_cast<char>(kTagUuid));
      out_.append(reinterpret_cast<const char*>(u.bytes), 16);
      return;
    }
  }
}

Row Row::pack(std::span<const Datum> datums) {
  Row r;
  RowPacker p(r.bytes_);
  p.push_all(datums);
  return r;
}

void RowRef::unpack_into(std::vector<Datum>& out) const {
  const char* p = bytes_.data();
  const char* end = p + bytes_.size();
  while (p < end) out.push_back(decode(p));
}

void unpack_prefix_into(RowRef row, std::vector<Datum>& out, size_t n) {
  const char* p = row.bytes().data();
  const char* end = p + row.bytes().size();
  for (size_t k = 0; k < n && p < end; ++k) out.push_back(decode(p));
}

size_t prefix_bytes(RowRef row, size_t n) {
  const char* begin = row.bytes().data();
  const char* p = begin;
  const char* end = p + row.bytes().size();
  for (size_t k = 0; k < n && p < end; ++k) decode(p);
  return static_cast<size_t>(p - begin);
}

size_t column_offsets(RowRef row, size_t n, uint32_t* offsets) {
  const char* begin = row.bytes().data();
  const char* p = begin;
  const char* end = p + row.bytes().size();
  size_t k = 0;
  for (; k < n && p < end; ++k) {
    offsets[k] = static_cast<uint32_t>(p - begin);
    skip(p);
  }
  offsets[k] = static_cast<uint32_t>(p - begin);
  return k;
}


size_t RowRef::arity() const {
  size_t n = 0;
  const char* p = bytes_.data();
  const char* end = p + bytes_.size();
  while (p < end) {
    decode(p);
    ++n;
  }
  return n;
}

Datum RowRef::get(size_t i) const {
  const char* p = bytes_.data();
  const char* end = p + bytes_.size();
  for (size_t k = 0; p < end; ++k) {
    Datum d = decode(p);
    if (k == i) return d;
  }
  FRESHET_ASSERT(false && "row index out of range");
  return Datum::null();
}

int compare_rows(RowRef a, RowRef b) {
  const char* pa = a.bytes().data();
  const char* ea = pa + a.bytes().size();
  const char* pb = b.bytes().data();
  const char* eb = pb + b.bytes().size();
  while (pa < ea && pb < eb) {
    Datum da = decode(pa), db = decode(pb);
    int c = compare_datums(da, db);
    if (c != 0) return c;
  }
  if (pa < ea) return 1;
  if (pb < eb) return -1;
  return 0;
}

uint64_t hash_bytes(std::string_view s) {
  // 64-bit FNV-1a over 8-byte words, then a finalizer: fast and good enough for hash tables.
  uint64_t h = 0xcbf29ce484222325ULL ^ s.size();
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h = (h ^ tail) * 0x100000001b3ULL;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return h;
}

}  // namespace freshet
