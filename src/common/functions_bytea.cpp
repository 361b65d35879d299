// bytea functions that Materialize's files use (issue 10): get_byte, get_bit, set_byte,
// set_bit, bit_count, convert_from and length(bytea, encoding) as in PostgreSQL 15, and
// Materialize's constant_time_eq(bytea, bytea) / constant_time_eq(text, text).
//
// Encodings: UTF8 (the server encoding), and for length(bytea, encoding) also PostgreSQL's
// single-byte encodings (a byte is a character). An encoding PostgreSQL knows but Freshet does
// not convert (BIG5, ...; LATIN1 for convert_from) is refused with 0A000 rather than answered
// wrongly; a name PostgreSQL does not know is 22023, with PostgreSQL's message.

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>

#include <openssl/evp.h>

#include "common/functions_internal.hpp"

namespace freshet::fn {
namespace {

// PostgreSQL's clean_encoding_name: lower case, only letters and digits.
std::string clean_encoding_name(std::string_view name) {
  std::string out;
  for (char c : name)
    if (std::isalnum(static_cast<unsigned char>(c))) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

// PostgreSQL 15's encoding names and aliases (src/common/encnames.c), cleaned.
bool known_encoding(const std::string& n) {
  static constexpr std::string_view kNames[] = {
      "abc", "alt", "big5", "euccn", "eucjis2004", "eucjp", "euckr", "euctw", "gb18030", "gbk",
      "iso88591", "iso885910", "iso885913", "iso885914", "iso885915", "iso885916", "iso88592",
      "iso88593", "iso88594", "iso88595", "iso88596", "iso88597", "iso88598", "iso88599",
      "johab", "koi8", "koi8r", "koi8u", "latin1", "latin10", "latin2", "latin3", "latin4",
      "latin5", "latin6", "latin7", "latin8", "latin9", "mskanji", "muleinternal", "shiftjis",
      "shiftjis2004", "sjis", "sqlascii", "tcvn", "tcvn5712", "uhc", "unicode", "utf8", "vscii",
      "win", "win1250", "win1251", "win1252", "win1253", "win1254", "win1255", "win1256",
      "win1257", "win1258", "win866", "win874", "win932", "win936", "win949", "win950",
      "windows1250", "windows1251", "windows1252", "windows1253", "windows1254", "windows1255",
      "windows1256", "windows1257", "windows1258", "windows866", "windows874", "windows932",
      "windows936", "windows949", "windows950"};
  return std::find(std::begin(kNames), std::end(kNames), n) != std::end(kNames);
}

// Checks that `name` is UTF8 (or an alias of it).
// `what` is PostgreSQL's word in the message ("encoding", "source encoding").
void require_utf8(std::string_view name, const char* what) {
  std::string n = clean_encoding_name(name);
  if (n == "utf8" || n == "unicode") return;
  if (!known_encoding(n))
    throw SqlError(sqlstate::kInvalidParameterValue, std::string("invalid ") + what + " name \"" + std::string(name) + "\"");
  throw SqlError(sqlstate::kFeatureNotSupported, "encoding \"" + std::string(name) + "\" is not supported")
      .with_detail("Freshet converts only UTF8.");
}

// The number of UTF-8 characters of s; 22021 on an invalid sequence (PostgreSQL's message).
int64_t utf8_length_checked(std::string_view s) {
  int64_t chars = 0;
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len != 0 && c != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len == 2) ok = c >= 0xC2;
    if (ok && len == 3) {
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
    }
    if (ok && len == 4) {
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = c <= 0xF4 && !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (!ok) {
      std::string bytes;
      char buf[8];
      for (size_t k = i; k < s.size() && k < i + (len ? len : 1); ++k) {
        std::snprintf(buf, sizeof buf, k == i ? "0x%02x" : " 0x%02x", static_cast<unsigned char>(s[k]));
        bytes += buf;
      }
      throw SqlError(sqlstate::kCharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": " + bytes);
    }
    i += len;
    ++chars;
  }
  return chars;
}

[[noreturn]] void index_out_of_range(int64_t n, int64_t last) {
  throw SqlError("2202E", "index " + std::to_string(n) + " out of valid range, 0.." + std::to_string(last));
}

Datum b_get_byte(Args a, EvalContext&) {
  std::string_view s = a[0].as_string();
  int64_t n = a[1].as_int();
  if (n < 0 || n >= static_cast<int64_t>(s.size())) index_out_of_range(n, static_cast<int64_t>(s.size()) - 1);
  return Datum::from_int(static_cast<unsigned char>(s[static_cast<size_t>(n)]));
}

Datum b_get_bit(Args a, EvalContext&) {
  std::string_view s = a[0].as_string();
  int64_t n = a[1].as_int();
  int64_t bits = static_cast<int64_t>(s.size()) * 8;
  if (n < 0 || n >= bits) index_out_of_range(n, bits - 1);
  auto byte = static_cast<unsigned char>(s[static_cast<size_t>(n / 8)]);
  return Datum::from_int((byte >> (n % 8)) & 1);
}

Datum b_set_byte(Args a, EvalContext& ctx) {
  std::string s(a[0].as_string());
  int64_t n = a[1].as_int();
  if (n < 0 || n >= static_cast<int64_t>(s.size())) index_out_of_range(n, static_cast<int64_t>(s.size()) - 1);
  s[static_cast<size_t>(n)] = static_cast<char>(a[2].as_int() & 0xff);
  return text_result(ctx, s);
}

Datum b_set_bit(Args a, EvalContext& ctx) {
  std::string s(a[0].as_string());
  int64_t n = a[1].as_int();
  int64_t bits = static_cast<int64_t>(s.size()) * 8;
  if (n < 0 || n >= bits) index_out_of_range(n, bits - 1);
  int64_t v = a[2].as_int();
  if (v != 0 && v != 1) throw SqlError(sqlstate::kInvalidParameterValue, "new bit must be 0 or 1");
  auto& byte = s[static_cast<size_t>(n / 8)];
  unsigned char b = static_cast<unsigned char>(byte);
  b = v ? static_cast<unsigned char>(b | (1u << (n % 8))) : static_cast<unsigned char>(b & ~(1u << (n % 8)));
  byte = static_cast<char>(b);
  return text_result(ctx, s);
}

Datum b_bit_count(Args a, EvalContext&) {
  int64_t n = 0;
  for (char c : a[0].as_string()) n += __builtin_popcount(static_cast<unsigned char>(c));
  return Datum::from_int(n);
}

Datum b_convert_from(Args a, EvalContext& ctx) {
  require_utf8(a[1].as_string(), "source encoding");
  std::string_view s = a[0].as_string();
  utf8_length_checked(s);
  return text_result(ctx, s);
}

// PostgreSQL's single-byte server encodings (LATIN1-10, ISO-8859-5..8, the Windows code pages
// 866, 874 and 1250-1258, KOI8-R/U) and their aliases, cleaned: every byte but NUL is one
// character (PostgreSQL's pg_latin1_verifier).
bool single_byte_encoding(const std::string& n) {
  static constexpr std::string_view kNames[] = {
      "abc", "alt", "iso88591", "iso885910", "iso885913", "iso885914", "iso885915", "iso885916", "iso88592",
      "iso88593", "iso88594", "iso88595", "iso88596", "iso88597", "iso88598", "iso88599", "koi8", "koi8r",
      "koi8u", "latin1", "latin10", "latin2", "latin3", "latin4", "latin5", "latin6", "latin7", "latin8",
      "latin9", "tcvn", "tcvn5712", "vscii", "win", "win1250", "win1251", "win1252", "win1253", "win1254",
      "win1255", "win1256", "win1257", "win1258", "win866", "win874", "windows1250", "windows1251",
      "windows1252", "windows1253", "windows1254", "windows1255", "windows1256", "windows1257",
      "windows1258", "windows866", "windows874"};
  return std::find(std::begin(kNames), std::end(kNames), n) != std::end(kNames);
}

Datum b_length_enc(Args a, EvalContext&) {
  std::string_view s = a[0].as_string();
  if (single_byte_encoding(clean_encoding_name(a[1].as_string()))) {
    if (s.find('\0') != std::string_view::npos)
      throw SqlError(sqlstate::kCharacterNotInRepertoire,
                     "invalid byte sequence for encoding \"" + std::string(a[1].as_string()) + "\": 0x00");
    return Datum::from_int(static_cast<int64_t>(s.size()));
  }
  require_utf8(a[1].as_string(), "encoding");
  return Datum::from_int(utf8_length_checked(s));
}

// sha224/sha256/sha384/sha512(bytea): the digest, as bytea (PostgreSQL 11+).
template <const EVP_MD* (*Md)()>
Datum b_sha(Args a, EvalContext& ctx) {
  std::string_view s = a[0].as_string();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), digest, &len, Md(), nullptr) != 1)
    throw SqlError(sqlstate::kInternalError, "could not compute the digest");
  return text_result(ctx, std::string_view(reinterpret_cast<const char*>(digest), len));
}

// encode(bytea, format) / decode(text, format): hex, base64 and escape, as PostgreSQL 15's
// encode.c (base64 lines of 76 characters; decoding skips whitespace).
[[noreturn]] void unrecognized_format(std::string_view f) {
  throw SqlError(sqlstate::kInvalidParameterValue, "unrecognized encoding: \"" + std::string(f) + "\"");
}
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Datum b_encode(Args a, EvalContext& ctx) {
  std::string_view s = a[0].as_string(), f = a[1].as_string();
  std::string out;
  if (f == "hex") {
    static constexpr char kHex[] = "0123456789abcdef";
    out.reserve(s.size() * 2);
    for (char c : s) {
      out.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
      out.push_back(kHex[static_cast<unsigned char>(c) & 15]);
    }
  } else if (f == "base64") {
    size_t line = 0;
    for (size_t i = 0; i < s.size(); i += 3) {
      uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(s[i])) << 16;
      if (i + 1 < s.size()) v |= static_cast<uint32_t>(static_cast<unsigned char>(s[i + 1])) << 8;
      if (i + 2 < s.size()) v |= static_cast<unsigned char>(s[i + 2]);
      if (line >= 76) {
        out.push_back('\n');
        line = 0;
      }
      out.push_back(kB64[(v >> 18) & 63]);
      out.push_back(kB64[(v >> 12) & 63]);
      out.push_back(i + 1 < s.size() ? kB64[(v >> 6) & 63] : '=');
      out.push_back(i + 2 < s.size() ? kB64[v & 63] : '=');
      line += 4;
    }
  } else if (f == "escape") {
    char buf[8];
    for (char c : s) {
      auto u = static_cast<unsigned char>(c);
      if (u == 0 || u >= 0x80) {
        std::snprintf(buf, sizeof buf, "\\%03o", u);
        out += buf;
      } else if (c == '\\') {
        out += "\\\\";
      } else {
        out.push_back(c);
      }
    }
  } else {
    unrecognized_format(f);
  }
  return text_result(ctx, out);
}

Datum b_decode(Args a, EvalContext& ctx) {
  std::string_view s = a[0].as_string(), f = a[1].as_string();
  std::string out;
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  if (f == "hex") {
    auto digit = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    size_t i = 0;
    while (i < s.size()) {
      if (space(s[i])) {
        ++i;
        continue;
      }
      int hi = digit(s[i]);
      if (hi < 0) throw SqlError(sqlstate::kInvalidParameterValue, "invalid hexadecimal digit: \"" + std::string(1, s[i]) + "\"");
      if (i + 1 >= s.size()) throw SqlError(sqlstate::kInvalidParameterValue, "invalid hexadecimal data: odd number of digits");
      int lo = digit(s[i + 1]);
      if (lo < 0) throw SqlError(sqlstate::kInvalidParameterValue, "invalid hexadecimal digit: \"" + std::string(1, s[i + 1]) + "\"");
      out.push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    }
  } else if (f == "base64") {
    uint32_t acc = 0;
    int pos = 0, end = 0;  // end: 1 after "xx=", 2 after "xxx=" (PostgreSQL's pg_base64_decode)
    for (char c : s) {
      if (space(c)) continue;
      uint32_t v = 0;
      if (c == '=') {
        if (end == 0) {
          if (pos == 2) end = 1;
          else if (pos == 3) end = 2;
          else throw SqlError(sqlstate::kInvalidParameterValue, "unexpected \"=\" while decoding base64 sequence");
        }
      } else {
        const char* p = c > 0 && c < 127 ? std::strchr(kB64, c) : nullptr;
        if (p == nullptr)
          throw SqlError(sqlstate::kInvalidParameterValue, "invalid symbol \"" + std::string(1, c) + "\" found while decoding base64 sequence");
        v = static_cast<uint32_t>(p - kB64);
      }
      acc = acc << 6 | v;
      if (++pos == 4) {
        out.push_back(static_cast<char>(acc >> 16 & 0xff));
        if (end == 0 || end > 1) out.push_back(static_cast<char>(acc >> 8 & 0xff));
        if (end == 0 || end > 2) out.push_back(static_cast<char>(acc & 0xff));
        acc = 0;
        pos = 0;
      }
    }
    if (pos != 0)
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid base64 end sequence")
          .with_hint("Input data is missing padding, is truncated, or is otherwise corrupted.");
  } else if (f == "escape") {
    for (size_t i = 0; i < s.size();) {
      if (s[i] != '\\') {
        out.push_back(s[i++]);
        continue;
      }
      if (i + 1 < s.size() && s[i + 1] == '\\') {
        out.push_back('\\');
        i += 2;
        continue;
      }
      if (i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' &&
          s[i + 3] <= '7') {
        out.push_back(static_cast<char>((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0')));
        i += 4;
        continue;
      }
      throw SqlError(sqlstate::kInvalidTextRepresentation, "invalid input syntax for type bytea");
    }
  } else {
    unrecognized_format(f);
  }
  return text_result(ctx, out);
}

// Compares every byte whatever the first difference (Materialize's constant_time_eq).
Datum b_constant_time_eq(Args a, EvalContext&) {
  std::string_view x = a[0].as_string(), y = a[1].as_string();
  if (x.size() != y.size()) return Datum::from_bool(false);
  unsigned char diff = 0;
  for (size_t i = 0; i < x.size(); ++i) diff |= static_cast<unsigned char>(x[i] ^ y[i]);
  return Datum::from_bool(diff == 0);
}

}  // namespace

void register_bytea_functions(Registry& r) {
  const Type kBytea(TypeId::kBytea), kInt4T(TypeId::kInt4), kInt8T(TypeId::kInt8), kBoolT(TypeId::kBool),
      kName(TypeId::kName), kText(TypeId::kText);
  r.add("get_byte", {kBytea, kInt4T}, kInt4T, &b_get_byte, 721);
  r.add("set_byte", {kBytea, kInt4T, kInt4T}, kBytea, &b_set_byte, 722);
  r.add("get_bit", {kBytea, kInt8T}, kInt4T, &b_get_bit, 723);
  r.add("set_bit", {kBytea, kInt8T, kInt4T}, kBytea, &b_set_bit, 724);
  r.add("bit_count", {kBytea}, kInt8T, &b_bit_count, 6163);
  r.add("convert_from", {kBytea, kName}, kText, &b_convert_from, 1714).volatility = Volatility::kStable;
  r.add("length", {kBytea, kName}, kInt4T, &b_length_enc, 1713).volatility = Volatility::kStable;
  r.add("encode", {kBytea, kText}, kText, &b_encode, 1946);
  r.add("decode", {kText, kText}, kBytea, &b_decode, 1947);
  r.add("sha224", {kBytea}, kBytea, &b_sha<EVP_sha224>, 3419);
  r.add("sha256", {kBytea}, kBytea, &b_sha<EVP_sha256>, 3420);
  r.add("sha384", {kBytea}, kBytea, &b_sha<EVP_sha384>, 3421);
  r.add("sha512", {kBytea}, kBytea, &b_sha<EVP_sha512>, 3422);
  r.add("constant_time_eq", {kBytea, kBytea}, kBoolT, &b_constant_time_eq);
  r.add("constant_time_eq", {kText, kText}, kBoolT, &b_constant_time_eq);
}

}  // namespace freshet::fn
