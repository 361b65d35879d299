#pragma once
// Kafka wire primitives (https://kafka.apache.org/protocol#protocol_types): big-endian fixed
// integers, zigzag varints, (compact) strings and bytes, arrays, tagged fields, and CRC32C.
//
// Reader parses untrusted bytes: every read is bounds-checked and a violation throws
// DecodeError, which the connection turns into closing that connection (a malformed frame is
// the peer's mistake; nothing else is affected). Counts are checked against the bytes left
// before anything is allocated, so a hostile length cannot make us allocate much.
// Writer appends to a std::string. Both are single-threaded values.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace freshet::kafka {

class DecodeError : public std::runtime_error {
 public:
  explicit DecodeError(const std::string& what) : std::runtime_error(what) {}
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : p_(bytes) {}

  size_t remaining() const { return p_.size() - pos_; }
  size_t position() const { return pos_; }
  bool done() const { return pos_ == p_.size(); }
  std::string_view rest() const { return p_.substr(pos_); }

  int8_t i8();
  int16_t i16();
  int32_t i32();
  int64_t i64();
  uint32_t u32();
  bool boolean() { return i8() != 0; }
  // Zigzag varint (int32) and varlong (int64), as in record batches.
  int32_t varint();
  int64_t varlong();
  // Unsigned varint (compact lengths, tagged fields).
  uint32_t uvarint();

  std::string_view raw(size_t n);
  // STRING / NULLABLE_STRING (int16 length) and BYTES / NULLABLE_BYTES (int32 length).
  std::string string();
  std::optional<std::string> nullable_string();
  std::string bytes();
  std::optional<std::string> nullable_bytes();
  // COMPACT_* forms: unsigned varint length + 1 (0 = null).
  std::string compact_string();
  std::optional<std::string> compact_nullable_string();
  std::string compact_bytes();
  std::optional<std::string> compact_nullable_bytes();
  // Array lengths: int32 (-1 = null -> returns -1) or compact (uvarint N+1, 0 = null -> -1).
  // min_element_bytes bounds the count by the bytes left.
  int32_t array_len(size_t min_element_bytes = 1);
  int32_t compact_array_len(size_t min_element_bytes = 1);
  // Flexible versions: skips a tagged-field section (unknown tags are ignored per spec).
  void skip_tagged_fields();

  // Versioned helpers: flexible selects the compact forms.
  std::string str(bool flexible) { return flexible ? compact_string() : string(); }
  std::optional<std::string> nstr(bool flexible) { return flexible ? compact_nullable_string() : nullable_string(); }
  std::string byts(bool flexible) { return flexible ? compact_bytes() : bytes(); }
  int32_t arr(bool flexible, size_t min_element_bytes = 1) {
    return flexible ? compact_array_len(min_element_bytes) : array_len(min_element_bytes);
  }

 private:
  void need(size_t n) const;
  std::string_view p_;
  size_t pos_ = 0;
};

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  std::string& out() { return out_; }
  size_t size() const { return out_.size(); }

  void i8(int8_t v) { out_.push_back(static_cast<char>(v)); }
  void i16(int16_t v);
  void i32(int32_t v);
  void i64(int64_t v);
  void u32(uint32_t v);
  void boolean(bool b) { i8(b ? 1 : 0); }
  void varint(int32_t v);
  void varlong(int64_t v);
  void uvarint(uint32_t v);
  void raw(std::string_view s) { out_.append(s); }

  void string(std::string_view s);
  void nullable_string(const std::optional<std::string>& s);
  void null_string() { i16(-1); }
  void bytes(std::string_view s);
  void nullable_bytes(const std::optional<std::string>& s);
  void compact_string(std::string_view s);
  void compact_nullable_string(const std::optional<std::string>& s);
  void compact_bytes(std::string_view s);
  void array_len(int32_t n) { i32(n); }
  void compact_array_len(int32_t n) { uvarint(n < 0 ? 0u : static_cast<uint32_t>(n) + 1); }
  void empty_tagged_fields() { uvarint(0); }

  void str(bool flexible, std::string_view s) { flexible ? compact_string(s) : string(s); }
  void nstr(bool flexible, const std::optional<std::string>& s) {
    flexible ? compact_nullable_string(s) : nullable_string(s);
  }
  void byts(bool flexible, std::string_view s) { flexible ? compact_bytes(s) : bytes(s); }
  void arr(bool flexible, size_t n) {
    flexible ? compact_array_len(static_cast<int32_t>(n)) : array_len(static_cast<int32_t>(n));
  }
  void tags(bool flexible) {
    if (flexible) empty_tagged_fields();
  }

  // Overwrites a big-endian int32 at pos (length prefixes written after the fact).
  void patch_i32(size_t pos, int32_t v);
  void patch_u32(size_t pos, uint32_t v);

 private:
  std::string& out_;
};

// CRC-32C (Castagnoli), as record batches v2 use it.
uint32_t crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace freshet::kafka
