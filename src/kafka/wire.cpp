#include "kafka/wire.hpp"

#include <array>
#include <cstring>

namespace freshet::kafka {

void Reader::need(size_t n) const {
  if (n > p_.size() - pos_) {
    throw DecodeError("truncated message: need " + std::to_string(n) + " bytes, " +
                      std::to_string(p_.size() - pos_) + " left");
  }
}

std::string_view Reader::raw(size_t n) {
  need(n);
  std::string_view s = p_.substr(pos_, n);
  pos_ += n;
  return s;
}

int8_t Reader::i8() {
  need(1);
  return static_cast<int8_t>(p_[pos_++]);
}

static uint64_t load_be(std::string_view s) {
  uint64_t v = 0;
  for (char c : s) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

int16_t Reader::i16() { return static_cast<int16_t>(load_be(raw(2))); }
int32_t Reader::i32() { return static_cast<int32_t>(load_be(raw(4))); }
uint32_t Reader::u32() { return static_cast<uint32_t>(load_be(raw(4))); }
int64_t Reader::i64() { return static_cast<int64_t>(load_be(raw(8))); }

uint32_t Reader::uvarint() {
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    uint8_t b = static_cast<uint8_t>(i8());
    if (shift == 28 && (b & 0xf0) != 0) throw DecodeError("varint overflows 32 bits");
    v |= static_cast<uint32_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  throw DecodeError("varint too long");
}

int32_t Reader::varint() {
  uint32_t u = uvarint();
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

int64_t Reader::varlong() {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    uint8_t b = static_cast<uint8_t>(i8());
    if (shift == 63 && (b & 0xfe) != 0) throw DecodeError("varlong overflows 64 bits");
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  throw DecodeError("varlong too long");
}

std::string Reader::string() {
  int16_t n = i16();
  if (n < 0) throw DecodeError("null string where a string is required");
  return std::string(raw(static_cast<size_t>(n)));
}

std::optional<std::string> Reader::nullable_string() {
  int16_t n = i16();
  if (n < 0) return std::nullopt;
  return std::string(raw(static_cast<size_t>(n)));
}

std::string Reader::bytes() {
  int32_t n = i32();
  if (n < 0) throw DecodeError("null bytes where bytes are required");
  return std::string(raw(static_cast<size_t>(n)));
}

std::optional<std::string> Reader::nullable_bytes() {
  int32_t n = i32();
  if (n < 0) return std::nullopt;
  return std::string(raw(static_cast<size_t>(n)));
}

std::string Reader::compact_string() {
  uint32_t n = uvarint();
  if (n == 0) throw DecodeError("null compact string where a string is required");
  return std::string(raw(n - 1));
}

std::optional<std::string> Reader::compact_nullable_string() {
  uint32_t n = uvarint();
  if (n == 0) return std::nullopt;
  return std::string(raw(n - 1));
}

std::string Reader::compact_bytes() { return compact_string(); }
std::optional<std::string> Reader::compact_nullable_bytes() { return compact_nullable_string(); }

int32_t Reader::array_len(size_t min_element_bytes) {
  int32_t n = i32();
  if (n < 0) return -1;
  if (static_cast<uint64_t>(n) * min_element_bytes > remaining()) throw DecodeError("array count exceeds message");
  return n;
}

int32_t Reader::compact_array_len(size_t min_element_bytes) {
  uint32_t n = uvarint();
  if (n == 0) return -1;
  n -= 1;
  if (static_cast<uint64_t>(n) * min_element_bytes > remaining()) throw DecodeError("array count exceeds message");
  return static_cast<int32_t>(n);
}

void Reader::skip_tagged_fields() {
  uint32_t n = uvarint();
  if (n > remaining()) throw DecodeError("tagged field count exceeds message");
  for (uint32_t i = 0; i < n; ++i) {
    (void)uvarint();  // tag
    uint32_t size = uvarint();
    raw(size);
  }
}

static void store_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void Writer::i16(int16_t v) { store_be(out_, static_cast<uint16_t>(v), 2); }
void Writer::i32(int32_t v) { store_be(out_, static_cast<uint32_t>(v), 4); }
void Writer::u32(uint32_t v) { store_be(out_, v, 4); }
void Writer::i64(int64_t v) { store_be(out_, static_cast<uint64_t>(v), 8); }

void Writer::uvarint(uint32_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void Writer::varint(int32_t v) {
  uvarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}

void Writer::varlong(int64_t v) {
  uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (u >= 0x80) {
    out_.push_back(static_cast<char>((u & 0x7f) | 0x80));
    u >>= 7;
  }
  out_.push_back(static_cast<char>(u));
}

void Writer::string(std::string_view s) {
  i16(static_cast<int16_t>(s.size()));
  raw(s);
}

void Writer::nullable_string(const std::optional<std::string>& s) {
  if (!s) {
    i16(-1);
  } else {
    string(*s);
  }
}

void Writer::bytes(std::string_view s) {
  i32(static_cast<int32_t>(s.size()));
  raw(s);
}

void Writer::nullable_bytes(const std::optional<std::string>& s) {
  if (!s) {
    i32(-1);
  } else {
    bytes(*s);
  }
}

void Writer::compact_string(std::string_view s) {
  uvarint(static_cast<uint32_t>(s.size()) + 1);
  raw(s);
}

void Writer::compact_nullable_string(const std::optional<std::string>& s) {
  if (!s) {
    uvarint(0);
  } else {
    compact_string(*s);
  }
}

void Writer::compact_bytes(std::string_view s) { compact_string(s); }

void Writer::patch_u32(size_t pos, uint32_t v) {
  for (int i = 0; i < 4; ++i) out_[pos + static_cast<size_t>(i)] = static_cast<char>((v >> (24 - 8 * i)) & 0xff);
}
void Writer::patch_i32(size_t pos, int32_t v) { patch_u32(pos, static_cast<uint32_t>(v)); }

namespace {
std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}
}  // namespace

uint32_t crc32c(std::string_view data, uint32_t crc) {
  static const std::array<uint32_t, 256> kTable = make_crc_table();
  crc = ~crc;
  for (char ch : data) crc = kTable[(crc ^ static_cast<uint8_t>(ch)) & 0xff] ^ (crc >> 8);
  return ~crc;
}

}  // namespace freshet::kafka
