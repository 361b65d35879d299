// String functions and operators: ||, LIKE/ILIKE, regular expressions (RE2), and PostgreSQL's
// text functions. Lengths and positions count characters (UTF-8), as PostgreSQL does in a
// UTF8 database; case mapping is ASCII-only (the C collation's behaviour).

#include <openssl/evp.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstring>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/sql_dialect.hpp"
#include "common/format.hpp"
#include "common/functions_internal.hpp"

namespace freshet::fn {
namespace {

constexpr Type kText = TypeId::kText;
constexpr Type kInt4T = TypeId::kInt4;
constexpr Type kInt8T = TypeId::kInt8;
constexpr Type kBoolT = TypeId::kBool;
constexpr Type kBytea = TypeId::kBytea;
constexpr Type kAny = TypeId::kUnknown;  // "any" in a variadic position: the resolver casts to text

bool is_cont(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t char_len(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if (!is_cont(c)) ++n;
  return n;
}

// Byte offset of character index i (0-based); s.size() when past the end.
size_t byte_offset(std::string_view s, int64_t i) {
  if (i <= 0) return 0;
  int64_t n = 0;
  for (size_t b = 0; b < s.size(); ++b) {
    if (!is_cont(s[b])) {
      if (n == i) return b;
      ++n;
    }
  }
  return s.size();
}

// Splits into characters (each a view of its UTF-8 bytes).
std::vector<std::string_view> chars_of(std::string_view s) {
  std::vector<std::string_view> out;
  size_t b = 0;
  while (b < s.size()) {
    size_t e = b + 1;
    while (e < s.size() && is_cont(s[e])) ++e;
    out.push_back(s.substr(b, e - b));
    b = e;
  }
  return out;
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

Datum s_length(Args a, EvalContext&) { return Datum::from_int(static_cast<int64_t>(char_len(a[0].as_string()))); }
Datum s_octet_length(Args a, EvalContext&) { return Datum::from_int(static_cast<int64_t>(a[0].as_string().size())); }
Datum s_bit_length(Args a, EvalContext&) { return Datum::from_int(static_cast<int64_t>(a[0].as_string().size()) * 8); }
Datum s_lower(Args a, EvalContext& ctx) {
  std::string s(a[0].as_string());
  for (char& c : s) c = ascii_lower(c);
  return text_result(ctx, s);
}
Datum s_upper(Args a, EvalContext& ctx) {
  std::string s(a[0].as_string());
  for (char& c : s) c = ascii_upper(c);
  return text_result(ctx, s);
}
Datum s_initcap(Args a, EvalContext& ctx) {
  std::string s(a[0].as_string());
  bool word_start = true;
  for (char& c : s) {
    bool alnum = std::isalnum(static_cast<unsigned char>(c)) || (static_cast<unsigned char>(c) & 0x80);
    if (alnum) {
      c = word_start ? ascii_upper(c) : ascii_lower(c);
      word_start = false;
    } else {
      word_start = true;
    }
  }
  return text_result(ctx, s);
}

// PostgreSQL's text_substring: 1-based start, may be < 1; a negative length is an error.
std::string_view substring(std::string_view s, int64_t start, std::optional<int64_t> len, bool bytes) {
  int64_t begin = start;
  int64_t end;
  if (len) {
    if (*len < 0) throw SqlError("22011", "negative substring length not allowed");
    end = begin + *len;  // exclusive, 1-based
    if (end < begin) end = INT64_MAX;
  } else {
    end = INT64_MAX;
  }
  if (begin < 1) begin = 1;
  if (end <= begin) return {};
  if (bytes) {
    size_t b = static_cast<size_t>(std::min<int64_t>(begin - 1, static_cast<int64_t>(s.size())));
    size_t e = end == INT64_MAX ? s.size() : static_cast<size_t>(std::min<int64_t>(end - 1, static_cast<int64_t>(s.size())));
    return s.substr(b, e - b);
  }
  size_t b = byte_offset(s, begin - 1);
  size_t e = end == INT64_MAX ? s.size() : byte_offset(s, end - 1);
  return s.substr(b, e - b);
}
Datum s_substr2(Args a, EvalContext&) { return Datum::from_string(substring(a[0].as_string(), a[1].as_int(), std::nullopt, false)); }
Datum s_substr3(Args a, EvalContext&) { return Datum::from_string(substring(a[0].as_string(), a[1].as_int(), a[2].as_int(), false)); }
Datum b_substr2(Args a, EvalContext&) { return Datum::from_string(substring(a[0].as_string(), a[1].as_int(), std::nullopt, true)); }
Datum b_substr3(Args a, EvalContext&) { return Datum::from_string(substring(a[0].as_string(), a[1].as_int(), a[2].as_int(), true)); }

Datum s_strpos(Args a, EvalContext&) {
  std::string_view h = a[0].as_string(), n = a[1].as_string();
  size_t p = h.find(n);
  if (p == std::string_view::npos) return Datum::from_int(0);
  return Datum::from_int(static_cast<int64_t>(char_len(h.substr(0, p))) + 1);
}
Datum s_replace(Args a, EvalContext& ctx) {
  std::string_view s = a[0].as_string(), from = a[1].as_string(), to = a[2].as_string();
  if (from.empty()) return a[0];
  std::string out;
  size_t i = 0;
  while (true) {
    size_t p = s.find(from, i);
    if (p == std::string_view::npos) break;
    out.append(s, i, p - i);
    out += to;
    i = p + from.size();
  }
  out.append(s, i);
  return text_result(ctx, out);
}

std::string_view trim_impl(std::string_view s, std::string_view set, bool left, bool right) {
  auto chars = chars_of(set);
  auto in_set = [&](std::string_view c) {
    for (auto x : chars)
      if (x == c) return true;
    return false;
  };
  auto cs = chars_of(s);
  size_t b = 0, e = cs.size();
  if (left)
    while (b < e && in_set(cs[b])) ++b;
  if (right)
    while (e > b && in_set(cs[e - 1])) --e;
  if (b == e) return {};
  size_t start = static_cast<size_t>(cs[b].data() - s.data());
  size_t stop = static_cast<size_t>(cs[e - 1].data() - s.data()) + cs[e - 1].size();
  return s.substr(start, stop - start);
}
Datum s_btrim1(Args a, EvalContext&) { return Datum::from_string(trim_impl(a[0].as_string(), " ", true, true)); }
Datum s_ltrim1(Args a, EvalContext&) { return Datum::from_string(trim_impl(a[0].as_string(), " ", true, false)); }
Datum s_rtrim1(Args a, EvalContext&) { return Datum::from_string(trim_impl(a[0].as_string(), " ", false, true)); }
Datum s_btrim2(Args a, EvalContext&) { return Datum::from_string(trim_impl(a[0].as_string(), a[1].as_string(), true, true)); }
Datum s_ltrim2(Args a, EvalContext&) { return Datum::from_string(trim_impl(a[0].as_string(), a[1].as_string(), true, false)); }
Datum s_rtrim2(Args a, EvalContext&) { return Datum::from_string(trim_impl(a[0].as_string(), a[1].as_string(), false, true)); }

Datum pad(std::string_view s, int64_t len, std::string_view fill, bool left, EvalContext& ctx) {
  // Materialize's lpad refuses a negative length (its pad_leading; string.slt:863).
  if (len < 0 && left && materialize_dialect())
    throw SqlError(sqlstate::kInvalidParameterValue, "length must be nonnegative");
  if (len < 0) len = 0;
  if (len > 10'000'000) throw SqlError(sqlstate::kProgramLimitExceeded, "requested length too large");
  auto cs = chars_of(s);
  if (static_cast<int64_t>(cs.size()) >= len) return Datum::from_string(s.substr(0, byte_offset(s, len)));
  auto fc = chars_of(fill);
  if (fc.empty()) return Datum::from_string(s);
  std::string padding;
  for (int64_t k = 0; k < len - static_cast<int64_t>(cs.size()); ++k) padding += fc[static_cast<size_t>(k) % fc.size()];
  std::string out = left ? padding + std::string(s) : std::string(s) + padding;
  return text_result(ctx, out);
}
Datum s_lpad2(Args a, EvalContext& ctx) { return pad(a[0].as_string(), a[1].as_int(), " ", true, ctx); }
Datum s_lpad3(Args a, EvalContext& ctx) { return pad(a[0].as_string(), a[1].as_int(), a[2].as_string(), true, ctx); }
Datum s_rpad2(Args a, EvalContext& ctx) { return pad(a[0].as_string(), a[1].as_int(), " ", false, ctx); }
Datum s_rpad3(Args a, EvalContext& ctx) { return pad(a[0].as_string(), a[1].as_int(), a[2].as_string(), false, ctx); }

Datum s_left(Args a, EvalContext&) {
  std::string_view s = a[0].as_string();
  int64_t n = a[1].as_int();
  int64_t len = static_cast<int64_t>(char_len(s));
  int64_t keep = n >= 0 ? n : std::max<int64_t>(len + n, 0);
  return Datum::from_string(s.substr(0, byte_offset(s, keep)));
}
Datum s_right(Args a, EvalContext&) {
  std::string_view s = a[0].as_string();
  int64_t n = a[1].as_int();
  int64_t len = static_cast<int64_t>(char_len(s));
  // PostgreSQL's text_right negates n in 32 bits: -(-2147483648) stays negative and skips
  // nothing, so right('hello', -2147483648) is 'hello' there (and in Materialize).
  if (n == INT32_MIN) return a[0];
  int64_t skip = n >= 0 ? std::max<int64_t>(len - n, 0) : std::min<int64_t>(-n, len);
  return Datum::from_string(s.substr(byte_offset(s, skip)));
}
Datum s_repeat(Args a, EvalContext& ctx) {
  std::string_view s = a[0].as_string();
  int64_t n = a[1].as_int();
  if (n <= 0 || s.empty()) return Datum::from_string({});
  if (static_cast<uint64_t>(n) > kMaxValueBytes) value_too_large(static_cast<size_t>(n));
  const size_t total = static_cast<size_t>(n) * s.size();
  check_value_bytes(total);
  // Written straight into the arena, the pattern doubled with memcpy: one pass over the result
  // (a 540 MB repeat took seconds appending a character at a time into a string that was
  // then copied into the arena).
  char* out = ctx.arena->allocate(total);
  if (s.size() == 1) {
    std::memset(out, s[0], total);
  } else {
    std::memcpy(out, s.data(), s.size());
    for (size_t done = s.size(); done < total;) {
      const size_t k = std::min(done, total - done);
      std::memcpy(out + done, out, k);
      done += k;
    }
  }
  return Datum::from_string(std::string_view(out, total));
}
Datum s_reverse(Args a, EvalContext& ctx) {
  auto cs = chars_of(a[0].as_string());
  std::string out;
  for (auto it = cs.rbegin(); it != cs.rend(); ++it) out += *it;
  return text_result(ctx, out);
}
Datum s_split_part(Args a, EvalContext&) {
  std::string_view s = a[0].as_string(), d = a[1].as_string();
  int64_t n = a[2].as_int();
  if (n == 0)  // Materialize's words under its dialect (string.slt:810)
    throw SqlError(sqlstate::kInvalidParameterValue,
                   materialize_dialect() ? "field position must be greater than zero" : "field position must not be zero");
  std::vector<std::string_view> parts;
  if (d.empty()) {
    parts.push_back(s);
  } else {
    size_t i = 0;
    while (true) {
      size_t p = s.find(d, i);
      if (p == std::string_view::npos) {
        parts.push_back(s.substr(i));
        break;
      }
      parts.push_back(s.substr(i, p - i));
      i = p + d.size();
    }
  }
  if (s.empty()) return Datum::from_string({});
  int64_t idx = n > 0 ? n - 1 : static_cast<int64_t>(parts.size()) + n;
  if (idx < 0 || idx >= static_cast<int64_t>(parts.size())) return Datum::from_string({});
  return Datum::from_string(parts[static_cast<size_t>(idx)]);
}
Datum s_concat(Args a, EvalContext& ctx) {
  size_t total = 0;
  for (const Datum& d : a)
    if (!d.is_null()) total += d.as_string().size();
  check_value_bytes(total);
  std::string out;
  for (const Datum& d : a)
    if (!d.is_null()) out += d.as_string();
  return text_result(ctx, out);
}
Datum s_concat_ws(Args a, EvalContext& ctx) {
  if (a.empty() || a[0].is_null()) return Datum::null();
  size_t total = 0;
  for (size_t k = 1; k < a.size(); ++k)
    if (!a[k].is_null()) total += a[k].as_string().size() + a[0].as_string().size();
  check_value_bytes(total);
  std::string out;
  bool first = true;
  for (size_t k = 1; k < a.size(); ++k) {
    if (a[k].is_null()) continue;
    if (!first) out += a[0].as_string();
    out += a[k].as_string();
    first = false;
  }
  return text_result(ctx, out);
}
Datum s_textcat(Args a, EvalContext& ctx) {
  check_value_bytes(a[0].as_string().size() + a[1].as_string().size());
  std::string out(a[0].as_string());
  out += a[1].as_string();
  return text_result(ctx, out);
}
Datum s_starts_with(Args a, EvalContext&) { return Datum::from_bool(a[0].as_string().starts_with(a[1].as_string())); }
Datum s_md5(Args a, EvalContext& ctx) {
  std::string_view s = a[0].as_string();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), digest, &len, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned k = 0; k < len; ++k) {
    out.push_back(kHex[digest[k] >> 4]);
    out.push_back(kHex[digest[k] & 15]);
  }
  return text_result(ctx, out);
}
uint32_t decode_utf8(std::string_view c) {
  auto u = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(c[i])); };
  if (c.empty()) return 0;
  if (u(0) < 0x80 || c.size() == 1) return u(0);
  if (c.size() == 2) return ((u(0) & 0x1F) << 6) | (u(1) & 0x3F);
  if (c.size() == 3) return ((u(0) & 0x0F) << 12) | ((u(1) & 0x3F) << 6) | (u(2) & 0x3F);
  return ((u(0) & 0x07) << 18) | ((u(1) & 0x3F) << 12) | ((u(2) & 0x3F) << 6) | (u(3) & 0x3F);
}
Datum s_ascii(Args a, EvalContext&) {
  auto cs = chars_of(a[0].as_string());
  return Datum::from_int(cs.empty() ? 0 : decode_utf8(cs[0]));
}
Datum s_chr(Args a, EvalContext& ctx) {
  int64_t cp = a[0].as_int();
  if (cp == 0) throw SqlError("54000", "null character not permitted");
  if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    throw SqlError(sqlstate::kProgramLimitExceeded, "requested character too large for encoding: " + std::to_string(cp));
  std::string out;
  uint32_t c = static_cast<uint32_t>(cp);
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
  return text_result(ctx, out);
}
template <bool Is32>
Datum s_to_hex(Args a, EvalContext& ctx) {
  uint64_t v = Is32 ? static_cast<uint32_t>(a[0].as_int()) : static_cast<uint64_t>(a[0].as_int());
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return text_result(ctx, buf);
}
bool is_keyword_needing_quote(std::string_view s) {
  // Every keyword that is not unreserved, as PostgreSQL's quote_identifier quotes them:
  // SELECT word FROM pg_get_keywords() WHERE catcode <> 'U' on PostgreSQL 15 (151 words).
  static constexpr std::string_view kReserved[] = {
      "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between",
      "bigint", "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check", "coalesce",
      "collate", "collation", "column", "concurrently", "constraint", "create", "cross", "current_catalog",
      "current_date", "current_role", "current_schema", "current_time", "current_timestamp", "current_user",
      "dec", "decimal", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "exists",
      "extract", "false", "fetch", "float", "for", "foreign", "freeze", "from", "full", "grant", "greatest",
      "group", "grouping", "having", "ilike", "in", "initially", "inner", "inout", "int", "integer", "intersect",
      "interval", "into", "is", "isnull", "join", "lateral", "leading", "least", "left", "like", "limit",
      "localtime", "localtimestamp", "national", "natural", "nchar", "none", "normalize", "not", "notnull",
      "null", "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer", "overlaps", "overlay",
      "placing", "position", "precision", "primary", "real", "references", "returning", "right", "row", "select",
      "session_user", "setof", "similar", "smallint", "some", "substring", "symmetric", "table", "tablesample",
      "then", "time", "timestamp", "to", "trailing", "treat", "trim", "true", "union", "unique", "user", "using",
      "values", "varchar", "variadic", "verbose", "when", "where", "window", "with", "xmlattributes",
      "xmlconcat", "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot",
      "xmlserialize", "xmltable"};
  for (auto k : kReserved)
    if (k == s) return true;
  return false;
}
std::string quote_ident(std::string_view s) {
  bool safe = !s.empty() && ((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_');
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) safe = false;
  if (safe && !is_keyword_needing_quote(s)) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}
std::string quote_literal(std::string_view s) {
  bool has_backslash = s.find('\\') != std::string_view::npos;
  std::string out = has_backslash ? "E'" : "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out.push_back(c);
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}
Datum s_quote_ident(Args a, EvalContext& ctx) { return text_result(ctx, quote_ident(a[0].as_string())); }
Datum s_quote_literal(Args a, EvalContext& ctx) { return text_result(ctx, quote_literal(a[0].as_string())); }
Datum s_quote_nullable(Args a, EvalContext& ctx) {
  if (a[0].is_null()) return text_result(ctx, "NULL");
  return text_result(ctx, quote_literal(a[0].as_string()));
}
Datum s_translate(Args a, EvalContext& ctx) {
  auto src = chars_of(a[0].as_string()), from = chars_of(a[1].as_string()), to = chars_of(a[2].as_string());
  std::string out;
  for (auto c : src) {
    size_t k = 0;
    while (k < from.size() && from[k] != c) ++k;
    if (k == from.size()) out += c;
    else if (k < to.size()) out += to[k];
  }
  return text_result(ctx, out);
}
// format(fmt, args...): %s, %I, %L and %%.
Datum s_format(Args a, EvalContext& ctx) {
  if (a[0].is_null()) return Datum::null();
  std::string_view f = a[0].as_string();
  std::string out;
  size_t argi = 1;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out.push_back(f[i]);
      continue;
    }
    if (++i >= f.size()) throw SqlError(sqlstate::kInvalidParameterValue, "unterminated format() type specifier");
    char spec = f[i];
    if (spec == '%') {
      out.push_back('%');
      continue;
    }
    if (argi >= a.size()) throw SqlError(sqlstate::kInvalidParameterValue, "too few arguments for format()");
    const Datum& d = a[argi++];
    switch (spec) {
      case 's':
        if (!d.is_null()) out += d.as_string();
        break;
      case 'I':
        if (d.is_null())
          throw SqlError(sqlstate::kNullValueNotAllowed, "null values cannot be formatted as an SQL identifier");
        out += quote_ident(d.as_string());
        break;
      case 'L':
        out += d.is_null() ? "NULL" : quote_literal(d.as_string());
        break;
      default:
        throw SqlError(sqlstate::kInvalidParameterValue,
                       std::string("unrecognized format() type specifier \"") + spec + "\"");
    }
  }
  return text_result(ctx, out);
}

// --------------------------------------------------------------------------------------------
// LIKE

// PostgreSQL's MatchText: % any sequence, _ one character, backslash escapes.
bool like_match(std::string_view t, std::string_view p, bool icase) {
  auto eq = [&](std::string_view a, std::string_view b) {
    if (!icase) return a == b;
    if (a.size() != b.size()) return false;
    for (size_t k = 0; k < a.size(); ++k)
      if (ascii_lower(a[k]) != ascii_lower(b[k])) return false;
    return true;
  };
  auto next_char = [](std::string_view s, size_t i) {
    size_t e = i + 1;
    while (e < s.size() && is_cont(s[e])) ++e;
    return e;
  };
  size_t ti = 0, pi = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '%') {
      while (pi < p.size() && p[pi] == '%') ++pi;
      if (pi == p.size()) return true;
      star_p = pi;
      star_t = ti;
      continue;
    }
    if (pi < p.size()) {
      if (p[pi] == '_') {
        ti = next_char(t, ti);
        pi = next_char(p, pi);
        continue;
      }
      size_t pc = pi;
      if (p[pc] == '\\') {
        if (pc + 1 >= p.size())
          throw SqlError("22025", "LIKE pattern must not end with escape character");
        ++pc;
      }
      size_t pe = next_char(p, pc), te = next_char(t, ti);
      if (eq(t.substr(ti, te - ti), p.substr(pc, pe - pc))) {
        ti = te;
        pi = pe;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    star_t = next_char(t, star_t);
    ti = star_t;
    pi = star_p;
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}
template <bool Icase, bool Negate>
Datum s_like(Args a, EvalContext&) {
  return Datum::from_bool(like_match(a[0].as_string(), a[1].as_string(), Icase) != Negate);
}
// like_escape(pattern, escape): rewrites a pattern with a custom escape character to one
// using backslash; an empty escape disables escaping.
Datum s_like_escape(Args a, EvalContext& ctx) {
  std::string_view p = a[0].as_string(), e = a[1].as_string();
  if (chars_of(e).size() > 1)
    throw SqlError("22019", "invalid escape string").with_hint("Escape string must be empty or one character.");
  std::string out;
  auto cs = chars_of(p);
  for (size_t k = 0; k < cs.size(); ++k) {
    if (e.empty()) {
      if (cs[k] == "\\") out += "\\\\";
      else out += cs[k];
      continue;
    }
    if (cs[k] == e) {
      if (k + 1 < cs.size()) {
        ++k;
        out.push_back('\\');
        out += cs[k];
      } else {
        throw SqlError("22025", "LIKE pattern must not end with escape character");
      }
    } else if (cs[k] == "\\") {
      out += "\\\\";
    } else {
      out += cs[k];
    }
  }
  return text_result(ctx, out);
}

// --------------------------------------------------------------------------------------------
// Regular expressions: PostgreSQL's ARE syntax mapped onto RE2 where they agree.

// The flags of regexp_match/regexp_replace (PostgreSQL's table 9.24), read left to right so a
// later flag wins (`'ic'` is case-sensitive). Newline handling follows PostgreSQL: by default
// `.` and `[^...]` match a newline and `^`/`$` match only at the ends of the string; `n`/`m`
// (newline-sensitive) turn both off, `p` only the first, `w` only the second.
struct RegexFlags {
  bool icase = false;
  bool dot_matches_newline = true;  // also [^...] brackets
  bool anchors_at_lines = false;    // ^ and $ after/before each newline
  bool literal = false;             // q: the whole pattern is a literal string
  bool global = false;              // g
};

RegexFlags parse_regex_flags(std::string_view flags) {
  RegexFlags f;
  for (char c : flags) {
    switch (c) {
      case 'g': f.global = true; break;
      case 'i': f.icase = true; break;
      case 'c': f.icase = false; break;
      case 'n':
      case 'm': f.dot_matches_newline = false; f.anchors_at_lines = true; break;
      case 's': f.dot_matches_newline = true; f.anchors_at_lines = false; break;
      case 'p': f.dot_matches_newline = false; f.anchors_at_lines = false; break;
      case 'w': f.dot_matches_newline = true; f.anchors_at_lines = true; break;
      case 'q': f.literal = true; break;
      case 't': break;  // tight syntax is the default
      case 'b':
      case 'e':
      case 'x':
        // Basic/extended POSIX syntax and expanded (commented) syntax read the pattern
        // differently; refused rather than matched with the wrong grammar.
        throw SqlError(sqlstate::kFeatureNotSupported,
                       std::string("regular expression option \"") + c + "\" is not supported");
      default:
        throw SqlError(sqlstate::kInvalidParameterValue, std::string("invalid regular expression option: \"") + c + "\"");
    }
  }
  return f;
}

std::string convert_pg_regex(std::string_view p, const RegexFlags& f) {
  std::string out;
  if (f.dot_matches_newline) out += "(?s)";
  if (f.anchors_at_lines) out += "(?m)";
  if (f.literal) {
    out += RE2::QuoteMeta(re2::StringPiece(p.data(), p.size()));
    return out;
  }
  bool in_bracket = false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (in_bracket) {
      // [:class:], [.x.] and [=x=] inside a bracket are copied whole.
      if (p[i] == '[' && i + 1 < p.size() && (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
        char kind = p[i + 1];
        size_t close = p.find(std::string{kind, ']'}, i + 2);
        if (close != std::string_view::npos) {
          out.append(p.substr(i, close + 2 - i));
          i = close + 1;
          continue;
        }
      }
      if (p[i] == '\\' && i + 1 < p.size()) {
        out.push_back(p[i]);
        out.push_back(p[++i]);
        continue;
      }
      if (p[i] == ']') in_bracket = false;
      out.push_back(p[i]);
      continue;
    }
    if (p[i] == '[') {
      in_bracket = true;
      out.push_back('[');
      if (i + 1 < p.size() && p[i + 1] == '^') {
        out.push_back('^');
        ++i;
        // Newline-sensitive: a negated bracket never matches a newline.
        if (!f.dot_matches_newline) out += "\\n";
      }
      // A ']' right after '[' or '[^' is a literal member.
      if (i + 1 < p.size() && p[i + 1] == ']') {
        out += "\\]";
        ++i;
      }
      continue;
    }
    if (p[i] == '\\' && i + 1 < p.size()) {
      char n = p[i + 1];
      if (n == 'm' || n == 'M' || n == 'y') {
        out += "\\b";
        ++i;
        continue;
      }
      if (n == 'Y') {
        out += "\\B";
        ++i;
        continue;
      }
      out.push_back(p[i]);
      out.push_back(n);
      ++i;
      continue;
    }
    out.push_back(p[i]);
  }
  return out;
}

// A small per-thread cache of compiled patterns.
const RE2& compiled_regex(std::string_view pattern, const RegexFlags& f) {
  struct Cache {
    std::unordered_map<std::string, std::unique_ptr<RE2>> map;
  };
  thread_local Cache cache;
  std::string key;
  key.push_back(f.icase ? 'i' : 'c');
  key.push_back(f.dot_matches_newline ? 's' : 'p');
  key.push_back(f.anchors_at_lines ? 'w' : 't');
  key.push_back(f.literal ? 'q' : '-');
  key.append(pattern);
  auto it = cache.map.find(key);
  if (it != cache.map.end()) return *it->second;
  if (cache.map.size() > 256) cache.map.clear();
  RE2::Options opts;
  opts.set_case_sensitive(!f.icase);
  opts.set_log_errors(false);
  auto re = std::make_unique<RE2>(convert_pg_regex(pattern, f), opts);
  if (!re->ok())
    throw SqlError(sqlstate::kInvalidRegularExpression, "invalid regular expression: " + re->error());
  return *cache.map.emplace(std::move(key), std::move(re)).first->second;
}

template <bool Icase, bool Negate>
Datum s_regex(Args a, EvalContext&) {
  std::string_view s = a[0].as_string();
  RegexFlags f;
  f.icase = Icase;
  const RE2& re = compiled_regex(a[1].as_string(), f);
  bool m = RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), re);
  return Datum::from_bool(m != Negate);
}

// PostgreSQL replacement strings use \1..\9 and \& ; RE2 uses \1..\9 and \0.
std::string convert_replacement(std::string_view r) {
  std::string out;
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i] == '\\' && i + 1 < r.size()) {
      char n = r[i + 1];
      if (n == '&') out += "\\0";
      else if (n >= '0' && n <= '9') {
        out.push_back('\\');
        out.push_back(n);
      } else if (n == '\\') {
        out += "\\\\";
      } else {
        out.push_back(n);
      }
      ++i;
    } else {
      out.push_back(r[i]);
    }
  }
  return out;
}

Datum regexp_replace_impl(std::string_view s, std::string_view pattern, std::string_view repl, std::string_view flags,
                          EvalContext& ctx) {
  RegexFlags f = parse_regex_flags(flags);
  const RE2& re = compiled_regex(pattern, f);
  std::string out(s);
  std::string r = convert_replacement(repl);
  if (f.global) RE2::GlobalReplace(&out, re, r);
  else RE2::Replace(&out, re, r);
  return text_result(ctx, out);
}
Datum s_regexp_replace3(Args a, EvalContext& ctx) {
  return regexp_replace_impl(a[0].as_string(), a[1].as_string(), a[2].as_string(), "", ctx);
}
Datum s_regexp_replace4(Args a, EvalContext& ctx) {
  return regexp_replace_impl(a[0].as_string(), a[1].as_string(), a[2].as_string(), a[3].as_string(), ctx);
}
Datum regexp_match_impl(std::string_view s, std::string_view pattern, std::string_view flags, EvalContext& ctx) {
  RegexFlags f = parse_regex_flags(flags);
  if (f.global)
    throw SqlError(sqlstate::kInvalidParameterValue, "regexp_match() does not support the \"global\" option")
        .with_hint("Use the regexp_matches function instead.");
  const RE2& re = compiled_regex(pattern, f);
  int groups = re.NumberOfCapturingGroups();
  std::vector<re2::StringPiece> m(static_cast<size_t>(groups) + 1);
  if (!re.Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), RE2::UNANCHORED, m.data(), groups + 1))
    return Datum::null();
  std::vector<std::optional<std::string>> elems;
  if (groups == 0) {
    elems.emplace_back(std::string(m[0].data(), m[0].size()));
  } else {
    for (int g = 1; g <= groups; ++g) {
      if (m[static_cast<size_t>(g)].data() == nullptr) elems.emplace_back(std::nullopt);
      else elems.emplace_back(std::string(m[static_cast<size_t>(g)].data(), m[static_cast<size_t>(g)].size()));
    }
  }
  std::string out;
  format_array_literal(elems, out);
  return text_result(ctx, out);
}
Datum s_regexp_match2(Args a, EvalContext& ctx) { return regexp_match_impl(a[0].as_string(), a[1].as_string(), "", ctx); }
Datum s_regexp_match3(Args a, EvalContext& ctx) {
  return regexp_match_impl(a[0].as_string(), a[1].as_string(), a[2].as_string(), ctx);
}

// anytextcat / textanycat: the non-text side cast to text ($1::text || $2 in PostgreSQL), which
// is its output form except for a boolean (true/false, where the output function writes t/f).
template <TypeId T>
void cast_to_text(const Datum& d, std::string& out) {
  if constexpr (T == TypeId::kBool) out += d.as_bool() ? "true" : "false";
  else format_datum(d, T, out);
}
template <TypeId T>
Datum s_anytextcat(Args a, EvalContext& ctx) {
  check_value_bytes(a[1].as_string().size());
  std::string out;
  cast_to_text<T>(a[0], out);
  out += a[1].as_string();
  return text_result(ctx, out);
}
template <TypeId T>
Datum s_textanycat(Args a, EvalContext& ctx) {
  check_value_bytes(a[0].as_string().size());
  std::string out(a[0].as_string());
  cast_to_text<T>(a[1], out);
  return text_result(ctx, out);
}
template <TypeId T>
void add_textany(Registry& r) {
  r.add("||", {T, kText}, kText, &s_anytextcat<T>).volatility = Volatility::kStable;
  r.add("||", {kText, T}, kText, &s_textanycat<T>).volatility = Volatility::kStable;
}

}  // namespace

void register_string_functions(Registry& r) {
  for (std::string_view name : {"length", "char_length", "character_length"}) r.add(name, {kText}, kInt4T, &s_length);
  r.add("length", {kBytea}, kInt4T, &s_octet_length, 2010);
  r.add("octet_length", {kText}, kInt4T, &s_octet_length, 1374);
  // char(n) keeps its padding in octet_length (bpcharoctetlen); length() ignores it.
  r.add("octet_length", {Type(TypeId::kBpchar)}, kInt4T, &s_octet_length, 1375);
  r.add("bit_length", {kText}, kInt4T, &s_bit_length, 1581);
  r.add("bit_length", {kBytea}, kInt4T, &s_bit_length, 1810);
  r.add("octet_length", {kBytea}, kInt4T, &s_octet_length, 720);
  r.add("lower", {kText}, kText, &s_lower, 870);
  r.add("upper", {kText}, kText, &s_upper, 871);
  r.add("initcap", {kText}, kText, &s_initcap, 872);
  for (std::string_view name : {"substr", "substring"}) {
    r.add(name, {kText, kInt4T}, kText, &s_substr2);
    r.add(name, {kText, kInt4T, kInt4T}, kText, &s_substr3);
    r.add(name, {kBytea, kInt4T}, kBytea, &b_substr2);
    r.add(name, {kBytea, kInt4T, kInt4T}, kBytea, &b_substr3);
  }
  r.add("strpos", {kText, kText}, kInt4T, &s_strpos, 868);
  r.add("position", {kText, kText}, kInt4T, &s_strpos, 849);
  r.add("replace", {kText, kText, kText}, kText, &s_replace, 2087);
  r.add("btrim", {kText}, kText, &s_btrim1, 885);
  r.add("btrim", {kText, kText}, kText, &s_btrim2, 884);
  r.add("trim", {kText}, kText, &s_btrim1);
  r.add("trim", {kText, kText}, kText, &s_btrim2);
  r.add("ltrim", {kText}, kText, &s_ltrim1, 881);
  r.add("ltrim", {kText, kText}, kText, &s_ltrim2, 875);
  r.add("rtrim", {kText}, kText, &s_rtrim1, 882);
  r.add("rtrim", {kText, kText}, kText, &s_rtrim2, 876);
  r.add("lpad", {kText, kInt4T}, kText, &s_lpad2, 879);
  r.add("lpad", {kText, kInt4T, kText}, kText, &s_lpad3, 873);
  r.add("rpad", {kText, kInt4T}, kText, &s_rpad2, 880);
  r.add("rpad", {kText, kInt4T, kText}, kText, &s_rpad3, 874);
  r.add("left", {kText, kInt4T}, kText, &s_left, 3060);
  r.add("right", {kText, kInt4T}, kText, &s_right, 3061);
  r.add("repeat", {kText, kInt4T}, kText, &s_repeat, 1622);
  r.add("reverse", {kText}, kText, &s_reverse, 3062);
  r.add("split_part", {kText, kText, kInt4T}, kText, &s_split_part, 2088);
  r.add("starts_with", {kText, kText}, kBoolT, &s_starts_with, 3696);
  r.add("md5", {kText}, kText, &s_md5, 2311);
  r.add("md5", {kBytea}, kText, &s_md5, 2321);
  r.add("ascii", {kText}, kInt4T, &s_ascii, 1620);
  r.add("chr", {kInt4T}, kText, &s_chr, 1621);
  r.add("to_hex", {kInt4T}, kText, &s_to_hex<true>, 2089);
  r.add("to_hex", {kInt8T}, kText, &s_to_hex<false>, 2090);
  r.add("quote_ident", {kText}, kText, &s_quote_ident, 1282);
  r.add("quote_literal", {kText}, kText, &s_quote_literal, 1283);
  {
    auto& f = r.add("quote_nullable", {kText}, kText, &s_quote_nullable, 1289);
    f.strict = false;
  }
  r.add("translate", {kText, kText, kText}, kText, &s_translate, 878);
  {
    auto& f = r.add("concat", {kAny}, kText, &s_concat, 3058);
    f.variadic = true;
    f.strict = false;
    f.volatility = Volatility::kStable;
  }
  {
    auto& f = r.add("concat_ws", {kText, kAny}, kText, &s_concat_ws, 3059);
    f.variadic = true;
    f.strict = false;
    f.volatility = Volatility::kStable;
  }
  {
    auto& f = r.add("format", {kText, kAny}, kText, &s_format, 3540);
    f.variadic = true;
    f.strict = false;
    f.volatility = Volatility::kStable;
  }
  r.add("format", {kText}, kText, &s_format, 3539);
  r.add("regexp_replace", {kText, kText, kText}, kText, &s_regexp_replace3, 2284);
  r.add("regexp_replace", {kText, kText, kText, kText}, kText, &s_regexp_replace4, 2285);
  r.add("regexp_match", {kText, kText}, TypeId::kTextArray, &s_regexp_match2, 3396);
  r.add("regexp_match", {kText, kText, kText}, TypeId::kTextArray, &s_regexp_match3, 3397);
  r.add("like_escape", {kText, kText}, kText, &s_like_escape, 1637);

  // ||: textcat, and PostgreSQL's anytextcat/textanycat, expanded per non-string type (they
  // cast the other side to text with its output function).
  r.add("||", {kText, kText}, kText, &s_textcat, 1258);
  r.add("||", {kBytea, kBytea}, kBytea, &s_textcat, 2011);
  add_textany<TypeId::kBool>(r);
  add_textany<TypeId::kInt2>(r);
  add_textany<TypeId::kInt4>(r);
  add_textany<TypeId::kInt8>(r);
  add_textany<TypeId::kNumeric>(r);
  add_textany<TypeId::kFloat4>(r);
  add_textany<TypeId::kFloat8>(r);
  add_textany<TypeId::kDate>(r);
  add_textany<TypeId::kTime>(r);
  add_textany<TypeId::kTimestamp>(r);
  add_textany<TypeId::kTimestampTz>(r);
  add_textany<TypeId::kInterval>(r);
  add_textany<TypeId::kUuid>(r);
  add_textany<TypeId::kOid>(r);

  // LIKE / ILIKE and regular expressions.
  for (Type lhs : {kText, Type(TypeId::kBpchar), Type(TypeId::kName)}) {
    r.add("~~", {lhs, kText}, kBoolT, &s_like<false, false>);
    r.add("!~~", {lhs, kText}, kBoolT, &s_like<false, true>);
    r.add("~~*", {lhs, kText}, kBoolT, &s_like<true, false>);
    r.add("!~~*", {lhs, kText}, kBoolT, &s_like<true, true>);
    r.add("~", {lhs, kText}, kBoolT, &s_regex<false, false>);
    r.add("!~", {lhs, kText}, kBoolT, &s_regex<false, true>);
    r.add("~*", {lhs, kText}, kBoolT, &s_regex<true, false>);
    r.add("!~*", {lhs, kText}, kBoolT, &s_regex<true, true>);
  }
  r.add("~~", {kBytea, kBytea}, kBoolT, &s_like<false, false>, 2005);
  r.add("!~~", {kBytea, kBytea}, kBoolT, &s_like<false, true>, 2006);
  r.add("textlike", {kText, kText}, kBoolT, &s_like<false, false>, 850);
  r.add("texticlike", {kText, kText}, kBoolT, &s_like<true, false>, 1633);
}

}  // namespace freshet::fn
