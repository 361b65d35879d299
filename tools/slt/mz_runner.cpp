// The Materialize dialect of sqllogictest: parser, value formatting and record classification.
// See mz_runner.hpp for the contract and tools/slt/README.md for the rules.
//
// The parser follows the splitting rules of Materialize's src/sqllogictest/src/parser.rs (a
// record's SQL ends at the first blank line, a query's SQL at the first "\n----", multiline
// output at "\nEOF\n"), and the value formatting follows format_datum in its runner.rs, applied
// to the text value and the column's type OID that libpq hands us (Materialize's runner decodes
// binary values instead; where the two encodings differ — booleans, bytea, jsonb, floats — the
// text is converted to what Materialize's runner would print).

#include "mz_runner.hpp"

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <poll.h>
#include <re2/re2.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace freshet::slt {
namespace {

// ---------------------------------------------------------------------------------------------
// Connection

struct PgError {
  std::string severity = "ERROR";
  std::string sqlstate;
  std::string message;
  std::string detail;
  std::string hint;
  // The text Materialize's runner matches `statement error <regex>` against and prints for
  // `simple` blocks: tokio-postgres' error with its causes.
  std::string text() const {
    std::string s = "db error: " + severity + ": " + message;
    if (!detail.empty()) s += "\nDETAIL: " + detail;
    if (!hint.empty()) s += "\nHINT: " + hint;
    return s;
  }
};

using Cell = std::optional<std::string>;

struct ResultSet {
  bool has_rows = false;
  std::vector<unsigned> oids;
  std::vector<std::string> names;
  std::vector<std::vector<Cell>> rows;
  unsigned long affected = 0;  // The number in the command tag ("INSERT 0 3" -> 3).
};

struct Exec {
  bool ok = false;
  bool timed_out = false;
  bool connection_lost = false;
  PgError err;
  std::vector<ResultSet> sets;
};

class Conn {
 public:
  Conn(const MzOptions& opt, std::string user) : opt_(opt), user_(std::move(user)) {}
  ~Conn() { close(); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool open(std::string* err) {
    close();
    const char* keys[] = {"host", "port", "user", "dbname", "connect_timeout", "application_name",
                          nullptr};
    const char* vals[] = {opt_.host.c_str(), opt_.port.c_str(), user_.c_str(), opt_.db.c_str(),
                          "10",              "slt_runner",      nullptr};
    conn_ = PQconnectdbParams(keys, vals, 0);
    if (PQstatus(conn_) != CONNECTION_OK) {
      *err = PQerrorMessage(conn_);
      while (!err->empty() && (err->back() == '\n' || err->back() == ' ')) err->pop_back();
      close();
      return false;
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    return true;
  }
  void close() {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
  }
  bool is_open() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

  // extended: one statement through Parse/Bind/Execute (as tokio-postgres' query/execute do);
  // otherwise the simple-query protocol (several statements, one result set each).
  Exec exec(const std::string& sql, bool extended) {
    Exec out;
    if (!is_open()) {
      out.connection_lost = true;
      out.err.message = "not connected";
      return out;
    }
    int sent = extended ? PQsendQueryParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr,
                                            nullptr, 0)
                        : PQsendQuery(conn_, sql.c_str());
    if (!sent) {
      out.connection_lost = PQstatus(conn_) != CONNECTION_OK;
      out.err.message = PQerrorMessage(conn_);
      return out;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(opt_.timeout_ms);
    bool have_error = false;
    for (;;) {
      while (PQisBusy(conn_)) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
          if (!out.timed_out) {
            cancel();
            out.timed_out = true;
            deadline = now + std::chrono::seconds(5);
          } else {
            out.connection_lost = true;
            out.err.message = "timed out and the server did not answer the cancel";
            close();
            return out;
          }
        }
        pollfd pfd{PQsocket(conn_), POLLIN, 0};
        auto left_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        int rc = poll(&pfd, 1, static_cast<int>(std::max<long long>(1, left_ms)));
        if (rc < 0 && errno != EINTR) break;
        if (!PQconsumeInput(conn_)) {
          out.connection_lost = true;
          out.err.message = PQerrorMessage(conn_);
          close();
          return out;
        }
      }
      PGresult* res = PQgetResult(conn_);
      if (!res) break;
      ExecStatusType st = PQresultStatus(res);
      if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR) {
        if (!have_error) {
          auto field = [&](int f) {
            const char* v = PQresultErrorField(res, f);
            return std::string(v ? v : "");
          };
          out.err.sqlstate = field(PG_DIAG_SQLSTATE);
          out.err.message = field(PG_DIAG_MESSAGE_PRIMARY);
          if (out.err.message.empty()) out.err.message = PQresultErrorMessage(res);
          out.err.detail = field(PG_DIAG_MESSAGE_DETAIL);
          out.err.hint = field(PG_DIAG_MESSAGE_HINT);
          std::string sev = field(PG_DIAG_SEVERITY_NONLOCALIZED);
          if (sev.empty()) sev = field(PG_DIAG_SEVERITY);
          if (!sev.empty()) out.err.severity = sev;
          have_error = true;
        }
      } else if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
        have_error = true;
        out.err.message = "COPY is not supported by slt_runner";
        PQclear(res);
        close();
        out.connection_lost = true;
        return out;
      } else if (st == PGRES_EMPTY_QUERY) {
        // tokio-postgres reports nothing for an empty query.
      } else {
        ResultSet rs;
        rs.has_rows = st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE;
        int ncols = PQnfields(res);
        for (int c = 0; c < ncols; ++c) {
          rs.oids.push_back(PQftype(res, c));
          rs.names.emplace_back(PQfname(res, c));
        }
        int n = PQntuples(res);
        rs.rows.reserve(n);
        for (int r = 0; r < n; ++r) {
          std::vector<Cell> row;
          row.reserve(ncols);
          for (int c = 0; c < ncols; ++c) {
            if (PQgetisnull(res, r, c)) row.emplace_back(std::nullopt);
            else row.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
          }
          rs.rows.push_back(std::move(row));
        }
        // The count tokio-postgres takes from the command tag: its last word when numeric.
        std::string tag = PQcmdStatus(res);
        auto sp = tag.rfind(' ');
        std::string last = sp == std::string::npos ? tag : tag.substr(sp + 1);
        if (!last.empty() && std::all_of(last.begin(), last.end(), ::isdigit))
          rs.affected = std::strtoul(last.c_str(), nullptr, 10);
        out.sets.push_back(std::move(rs));
      }
      PQclear(res);
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
      out.connection_lost = true;
      if (out.err.message.empty()) out.err.message = PQerrorMessage(conn_);
      close();
    }
    if (out.timed_out) {
      out.ok = false;
      out.err.message = "timed out after " + std::to_string(opt_.timeout_ms) + " ms";
      return out;
    }
    out.ok = !have_error && !out.connection_lost;
    return out;
  }

 private:
  void cancel() {
    PGcancel* c = PQgetCancel(conn_);
    if (!c) return;
    char err[256];
    PQcancel(c, err, sizeof err);
    PQfreeCancel(c);
  }

  const MzOptions& opt_;
  std::string user_;
  PGconn* conn_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Value formatting (runner.rs format_datum)

enum class Mode { kStandard, kCockroach };
enum class ColType { kText, kInteger, kReal, kBool, kOid };
enum class Sort { kNo, kRow, kValue };

namespace oid {
constexpr unsigned kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25,
                   kOid = 26, kFloat4 = 700, kFloat8 = 701, kBpchar = 1042, kVarchar = 1043,
                   kInterval = 1186, kNumeric = 1700, kJsonb = 3802;
}  // namespace oid

bool is_int_oid(unsigned o) {
  return o == oid::kInt2 || o == oid::kInt4 || o == oid::kInt8 || o == oid::kOid;
}
bool is_text_oid(unsigned o) {
  return o == oid::kText || o == oid::kBpchar || o == oid::kVarchar;
}
bool is_float_oid(unsigned o) { return o == oid::kFloat4 || o == oid::kFloat8; }

std::string bool_word(const std::string& v) {
  if (v == "t") return "true";
  if (v == "f") return "false";
  return v;
}

// Rust's `f as i64`: truncation toward zero, saturating, NaN -> 0.
std::string float_as_i64(double d) {
  if (std::isnan(d)) return "0";
  if (d >= 9223372036854775807.0) return "9223372036854775807";
  if (d <= -9223372036854775808.0) return "-9223372036854775808";
  return std::to_string(static_cast<long long>(d));
}

double parse_float(const std::string& v) {
  // PostgreSQL prints Infinity/-Infinity/NaN; strtod reads all three.
  return std::strtod(v.c_str(), nullptr);
}

// Rust's `format!("{:.3}", f)`.
std::string rust_fixed3(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.3f", d);
  return buf;
}

// Rust's `format!("{}", f)`: the shortest digits that read back as the same value, written
// out without an exponent (2e40 prints as 2 followed by 40 zeros, not as its exact value).
template <typename F>
std::string rust_display(F f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  if (r.ec != std::errc()) return std::to_string(f);
  std::string sci(buf, r.ptr);  // [-]d[.ddd]e[+-]XX
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  auto e = sci.find('e');
  int exp10 = std::atoi(sci.c_str() + e + 1);
  std::string digits;
  for (size_t k = 0; k < e; ++k)
    if (sci[k] != '.') digits += sci[k];
  // value = 0.digits * 10^(exp10 + 1)
  int point = exp10 + 1;
  std::string out;
  if (point <= 0) {
    out = "0." + std::string(static_cast<size_t>(-point), '0') + digits;
  } else if (point >= static_cast<int>(digits.size())) {
    out = digits + std::string(point - digits.size(), '0');
  } else {
    out = digits.substr(0, point) + "." + digits.substr(point);
  }
  return (neg ? "-" : "") + out;
}

std::string format_float_display(unsigned o, const std::string& v) {
  if (o == oid::kFloat4) return rust_display(std::strtof(v.c_str(), nullptr));
  return rust_display(parse_float(v));
}

std::string format_float_fixed3(unsigned o, const std::string& v) {
  if (o == oid::kFloat4) return rust_fixed3(static_cast<double>(std::strtof(v.c_str(), nullptr)));
  return rust_fixed3(parse_float(v));
}

// A numeric's text ("-12.3400") rounded to `scale` fraction digits: half away from zero
// (decNumber's default context in Materialize) or toward zero (`truncate`). Negative zero loses
// its sign (munge_numeric). NaN and infinities are returned unchanged.
std::string round_numeric(const std::string& v, int scale, bool truncate) {
  if (v.empty() || (!std::isdigit(static_cast<unsigned char>(v[0])) && v[0] != '-' && v[0] != '.'))
    return v;
  bool neg = v[0] == '-';
  std::string body = neg ? v.substr(1) : v;
  if (body.find_first_not_of("0123456789.") != std::string::npos) return v;
  auto dot = body.find('.');
  std::string ip = dot == std::string::npos ? body : body.substr(0, dot);
  std::string fp = dot == std::string::npos ? "" : body.substr(dot + 1);
  if (ip.empty()) ip = "0";
  bool round_up = false;
  if (static_cast<int>(fp.size()) > scale) {
    round_up = !truncate && fp[scale] >= '5';
    fp.resize(scale);
  }
  std::string digits = ip + fp;
  if (round_up) {
    int k = static_cast<int>(digits.size()) - 1;
    while (k >= 0 && digits[k] == '9') digits[k--] = '0';
    if (k < 0) digits.insert(digits.begin(), '1');
    else ++digits[k];
  }
  size_t int_len = digits.size() - fp.size();
  std::string ipart = digits.substr(0, int_len);
  size_t nz = ipart.find_first_not_of('0');
  ipart = nz == std::string::npos ? "0" : ipart.substr(nz);
  std::string out = ipart;
  if (!fp.empty()) out += "." + digits.substr(int_len);
  bool zero = out.find_first_not_of("0.") == std::string::npos;
  return (neg && !zero ? "-" : "") + out;
}

// Materialize decodes a numeric and reduces it (cx.reduce): trailing fraction zeros go.
std::string numeric_reduce(const std::string& v) {
  auto dot = v.find('.');
  if (dot == std::string::npos || v.find_first_not_of("-0123456789.") != std::string::npos)
    return v;
  std::string out = v;
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  if (out == "-0" || out.empty() || out == "-") out = "0";
  return out;
}

// Numeric as an R value in standard mode: more than 3 fraction digits are rounded to 3.
std::string numeric_real_standard(const std::string& v0) {
  std::string v = numeric_reduce(v0);
  auto dot = v.find('.');
  if (dot == std::string::npos || v.size() - dot - 1 <= 3) return round_numeric(v, 1000, true);
  return round_numeric(v, 3, false);
}

std::string hex_decode_bytea(const std::string& v, bool* ok) {
  *ok = false;
  if (v.size() < 2 || v[0] != '\\' || v[1] != 'x' || v.size() % 2 != 0) return v;
  std::string out;
  for (size_t i = 2; i + 1 < v.size(); i += 2) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = hex(v[i]), lo = hex(v[i + 1]);
    if (hi < 0 || lo < 0) return v;
    out += static_cast<char>(hi * 16 + lo);
  }
  *ok = true;
  return out;
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    if (c < 0x80) n = 0;
    else if ((c >> 5) == 6) n = 1;
    else if ((c >> 4) == 14) n = 2;
    else if ((c >> 3) == 30) n = 3;
    else return false;
    if (i + n >= s.size() && n > 0) return false;
    for (size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n + 1;
  }
  return true;
}

// Materialize prints bytea that is not UTF-8 as Rust's Debug of the byte vector.
std::string format_bytea(const std::string& v) {
  bool ok = false;
  std::string bytes = hex_decode_bytea(v, &ok);
  if (!ok) return v;
  if (valid_utf8(bytes)) return bytes;
  std::string out = "[";
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(static_cast<unsigned char>(bytes[i]));
  }
  return out + "]";
}

// ---- jsonb: Materialize prints compact JSON with object keys in byte order.

struct JsonParser {
  std::string_view s;
  size_t i = 0;
  bool failed = false;

  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  std::string string_token() {
    size_t b = i++;
    while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
    if (i >= s.size()) {
      failed = true;
      return {};
    }
    ++i;
    return std::string(s.substr(b, i - b));
  }
  std::string value(int depth) {
    if (depth > 10000) {
      failed = true;
      return {};
    }
    ws();
    if (i >= s.size()) {
      failed = true;
      return {};
    }
    char c = s[i];
    if (c == '"') return string_token();
    if (c == '[') {
      ++i;
      std::string out = "[";
      ws();
      if (i < s.size() && s[i] == ']') {
        ++i;
        return "[]";
      }
      for (bool first = true;; first = false) {
        if (!first) out += ',';
        out += value(depth + 1);
        ws();
        if (failed || i >= s.size()) {
          failed = true;
          return {};
        }
        if (s[i] == ',') {
          ++i;
          continue;
        }
        if (s[i] == ']') {
          ++i;
          break;
        }
        failed = true;
        return {};
      }
      return out + "]";
    }
    if (c == '{') {
      ++i;
      std::map<std::string, std::string> members;  // Unescaped-enough key -> "key":value.
      ws();
      if (i < s.size() && s[i] == '}') {
        ++i;
        return "{}";
      }
      for (;;) {
        ws();
        if (i >= s.size() || s[i] != '"') {
          failed = true;
          return {};
        }
        std::string key = string_token();
        ws();
        if (i >= s.size() || s[i] != ':') {
          failed = true;
          return {};
        }
        ++i;
        std::string val = value(depth + 1);
        if (failed) return {};
        members[key.substr(1, key.size() - 2)] = key + ":" + val;
        ws();
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        if (i < s.size() && s[i] == '}') {
          ++i;
          break;
        }
        failed = true;
        return {};
      }
      std::string out = "{";
      bool first = true;
      for (const auto& [k, kv] : members) {
        if (!first) out += ',';
        first = false;
        out += kv;
      }
      return out + "}";
    }
    size_t b = i;
    while (i < s.size() && s[i] != ',' && s[i] != ']' && s[i] != '}' && s[i] != ' ' &&
           s[i] != '\n' && s[i] != '\t' && s[i] != '\r')
      ++i;
    return std::string(s.substr(b, i - b));
  }
};

std::string format_jsonb(const std::string& v) {
  JsonParser p{v};
  std::string out = p.value(0);
  p.ws();
  if (p.failed || p.i != v.size()) return v;
  return out;
}

// Materialize writes "1 month" / "2 months" / "-1 months" where PostgreSQL's style has "mon" /
// "mons"; everything else of the two interval styles agrees.
std::string format_interval(const std::string& v) {
  std::string out;
  size_t i = 0;
  while (i < v.size()) {
    size_t e = v.find(' ', i);
    std::string tok = v.substr(i, e == std::string::npos ? std::string::npos : e - i);
    if (tok == "mon") tok = "month";
    else if (tok == "mons") tok = "months";
    out += tok;
    if (e == std::string::npos) break;
    out += ' ';
    i = e + 1;
  }
  return out;
}

std::string format_datum(const std::string& v, unsigned o, ColType t, Mode mode) {
  switch (t) {
    case ColType::kBool:
      return o == oid::kBool ? bool_word(v) : v;
    case ColType::kInteger:
      if (is_int_oid(o)) return v;
      if (is_float_oid(o)) return float_as_i64(parse_float(v));
      if (is_text_oid(o)) return "0";  // "This is so wrong, but sqlite needs it."
      if (o == oid::kBool) return v == "t" ? "1" : "0";
      if (o == oid::kNumeric) return round_numeric(numeric_reduce(v), 0, mode == Mode::kStandard);
      return v;
    case ColType::kReal:
      if (is_int_oid(o)) return v;  // Rust ignores a precision for integers.
      if (is_float_oid(o))
        return mode == Mode::kStandard ? format_float_fixed3(o, v) : format_float_display(o, v);
      if (o == oid::kNumeric)
        return mode == Mode::kStandard ? numeric_real_standard(v) : numeric_reduce(v);
      return v;
    case ColType::kText:
      if (is_text_oid(o)) return v.empty() ? "(empty)" : v;
      if (o == oid::kBool) return bool_word(v);
      if (is_float_oid(o)) return format_float_fixed3(o, v);
      if (o == oid::kBytea) return format_bytea(v);
      if (o == oid::kJsonb) return format_jsonb(v);
      if (o == oid::kNumeric) return numeric_reduce(v);
      if (o == oid::kInterval) return format_interval(v);
      return v;
    case ColType::kOid:
      return v;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Parser (parser.rs)

enum class Kind { kStatement, kQuery, kSimple, kResetServer, kCopy };

struct Record {
  Kind kind = Kind::kStatement;
  int line = 0;
  std::string sql;
  // statement
  std::optional<std::string> expected_error;  // statement error / query error
  std::optional<unsigned long> rows_affected;
  // query
  std::vector<ColType> types;
  Sort sort = Sort::kNo;
  bool multiline = false;
  Mode mode = Mode::kStandard;
  std::optional<std::vector<std::string>> column_names;
  bool hashed = false;
  size_t hash_count = 0;
  std::string hash_md5;
  std::vector<std::string> values;  // expected values (query) or lines (simple)
  // simple
  std::string conn;
  std::string user;
};

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

std::string trim_ws(std::string_view s) {
  size_t b = 0, e = s.size();
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; };
  while (b < e && sp(s[b])) ++b;
  while (e > b && sp(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

std::vector<std::string> split_whitespace(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  std::string tok;
  while (in >> tok) out.push_back(tok);
  return out;
}

std::vector<std::string> split_char(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t b = 0;
  for (;;) {
    size_t e = s.find(sep, b);
    out.emplace_back(s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    if (e == std::string_view::npos) break;
    b = e + 1;
  }
  return out;
}

// Rust's str::lines(): split at \n, drop one trailing \r per line, no final empty line.
std::vector<std::string> rust_lines(std::string_view s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b < s.size()) {
    size_t e = s.find('\n', b);
    std::string_view l = s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    out.emplace_back(l);
    if (e == std::string_view::npos) break;
    b = e + 1;
  }
  return out;
}

struct ParseError {
  std::string message;
};

class Parser {
 public:
  // `engines`: the names `skipif` / `onlyif` take as this target (postgresql and the
  // --engine-alias names, so a Freshet-only record is `onlyif freshet`).
  Parser(std::string_view text, std::vector<std::string> engines) : rest_(text), engines_(std::move(engines)) {}

  int line() const { return line_; }

  // Returns false at the end of the file or at `halt`.
  bool next(Record* out) {
    for (;;) {
      if (rest_.empty()) return false;
      int line_number = line_;
      std::string first = trim_ws(take_first_line());
      if (first.empty()) continue;
      auto words = split_char(first, ' ');
      const std::string& w = words[0];
      auto word = [&](size_t k) -> std::string { return k < words.size() ? words[k] : ""; };
      if (w == "statement") {
        *out = Record{};
        out->line = line_number;
        parse_statement(words, first, out);
        return true;
      }
      if (w == "query") {
        *out = Record{};
        out->line = line_number;
        parse_query(words, first, out);
        return true;
      }
      if (w == "simple") {
        *out = Record{};
        out->line = line_number;
        parse_simple(words, out);
        return true;
      }
      if (w == "hash-threshold") continue;
      if (w == "skipif" || w == "onlyif") {
        bool is_us = std::find(engines_.begin(), engines_.end(), word(1)) != engines_.end();
        bool discard = (w == "skipif") == is_us;
        if (discard) {
          Record ignored;
          if (!next(&ignored)) return false;
          ++skipped_;
        }
        continue;
      }
      if (w == "halt") return false;
      if (w == "subtest" || w == "user" || w == "kv-batch-size") continue;
      if (w == "mode") {
        std::string m = word(1);
        if (m == "cockroach") mode_ = Mode::kCockroach;
        else if (m == "standard" || m == "sqlite") mode_ = Mode::kStandard;
        else throw ParseError{"unknown parse mode: " + m};
        continue;
      }
      if (w == "copy") {
        *out = Record{};
        out->kind = Kind::kCopy;
        out->line = line_number;
        out->sql = first;
        return true;
      }
      if (w == "reset-server") {
        *out = Record{};
        out->kind = Kind::kResetServer;
        out->line = line_number;
        return true;
      }
      throw ParseError{"unexpected start of record on line " + std::to_string(line_number) +
                       ": " + w};
    }
  }

  long skipped() const { return skipped_; }

 private:
  void consume(size_t n) {
    for (size_t k = 0; k < n; ++k)
      if (rest_[k] == '\n') ++line_;
    rest_.remove_prefix(n);
  }

  // "(#[^\n]*)?\r?(\n|$)": the text before the first '#' or line end; consumes the line.
  std::string take_first_line() {
    size_t e = rest_.find_first_of("#\n");
    std::string_view head = rest_.substr(0, e);
    if (e == std::string_view::npos) {
      std::string out(head);
      consume(rest_.size());
      return out;
    }
    std::string out(head);
    if (rest_[e] == '#') {
      size_t nl = rest_.find('\n', e);
      consume(nl == std::string_view::npos ? rest_.size() : nl + 1);
    } else {
      if (!out.empty() && out.back() == '\r') out.pop_back();
      consume(e + 1);
    }
    return out;
  }

  // Length of a line break (\n or \r\n) or end of text at position i; -1 when none.
  int newline_at(size_t i) const {
    if (i == rest_.size()) return 0;
    if (rest_[i] == '\n') return 1;
    if (rest_[i] == '\r' && i + 1 < rest_.size() && rest_[i + 1] == '\n') return 2;
    return -1;
  }

  // "(\n|\r\n|$)(\n|\r\n|$)": up to the first blank line (or the end).
  std::string split_double_line() {
    for (size_t i = 0; i <= rest_.size(); ++i) {
      int a = newline_at(i);
      if (a < 0) continue;
      int b = newline_at(i + a);
      if (b < 0) continue;
      std::string out(rest_.substr(0, i));
      consume(i + a + b);
      return out;
    }
    throw ParseError{"no end of record"};
  }

  // "\r?\n----"
  std::string split_dashes() {
    size_t p = rest_.find("\n----");
    if (p == std::string_view::npos) throw ParseError{"query without ----"};
    size_t start = (p > 0 && rest_[p - 1] == '\r') ? p - 1 : p;
    std::string out(rest_.substr(0, start));
    consume(p + 5);
    return out;
  }

  // "(\n|\r\n)EOF(\n|\r\n)"
  std::string split_eof() {
    size_t from = 0;
    for (;;) {
      size_t p = rest_.find("EOF", from);
      if (p == std::string_view::npos) throw ParseError{"multiline output without EOF"};
      size_t start = std::string_view::npos;
      if (p >= 2 && rest_[p - 1] == '\n' && rest_[p - 2] == '\r') start = p - 2;
      else if (p >= 1 && rest_[p - 1] == '\n') start = p - 1;
      size_t after = p + 3;
      int tail = -1;
      if (after < rest_.size() && rest_[after] == '\n') tail = 1;
      else if (after + 1 < rest_.size() && rest_[after] == '\r' && rest_[after + 1] == '\n')
        tail = 2;
      if (start != std::string_view::npos && tail > 0) {
        std::string out(rest_.substr(0, start));
        consume(after + tail);
        return out;
      }
      from = p + 1;
    }
  }

  static std::string expected_error(const std::string& first_line) {
    static const std::regex kRe("(statement|query) error( pgcode [a-zA-Z0-9]{5})? ?");
    std::smatch m;
    if (!std::regex_search(first_line, m, kRe)) return "";
    return first_line.substr(m.position(0) + m.length(0));
  }

  void parse_statement(const std::vector<std::string>& words, const std::string& first,
                       Record* r) {
    r->kind = Kind::kStatement;
    std::string d = words.size() > 1 ? words[1] : "";
    if (d == "count") {
      if (words.size() < 3) throw ParseError{"missing count of rows affected"};
      r->rows_affected = std::strtoul(words[2].c_str(), nullptr, 10);
    } else if (d == "error") {
      r->expected_error = expected_error(first);
    } else if (d != "ok" && d != "OK") {
      throw ParseError{"invalid statement disposition: " + first};
    }
    r->sql = split_double_line();
  }

  void parse_query(const std::vector<std::string>& words, const std::string& first, Record* r) {
    r->kind = Kind::kQuery;
    r->mode = mode_;
    if (words.size() > 1 && words[1] == "error") {
      r->expected_error = expected_error(first);
      r->sql = split_double_line();
      return;
    }
    if (words.size() > 1) {
      for (char c : words[1]) {
        switch (c) {
          case 'T': r->types.push_back(ColType::kText); break;
          case 'I': r->types.push_back(ColType::kInteger); break;
          case 'R': r->types.push_back(ColType::kReal); break;
          case 'B': r->types.push_back(ColType::kBool); break;
          case 'O': r->types.push_back(ColType::kOid); break;
          default: throw ParseError{std::string("unexpected type char ") + c};
        }
      }
    }
    bool colnames = false;
    if (words.size() > 2) {
      for (const auto& opt : split_char(words[2], ',')) {
        if (opt == "nosort") r->sort = Sort::kNo;
        else if (opt == "rowsort") r->sort = Sort::kRow;
        else if (opt == "valuesort") r->sort = Sort::kValue;
        else if (opt == "colnames") colnames = true;
        else if (opt == "multiline") r->multiline = true;
        else if (opt.rfind("partialsort", 0) == 0) {
          r->sort = Sort::kRow;  // As Materialize: partialsort is treated as rowsort.
          break;
        } else {
          throw ParseError{"unrecognized query option " + opt};
        }
      }
    }
    if (r->multiline && (colnames || r->sort != Sort::kNo))
      throw ParseError{"multiline option is incompatible with all other options"};
    r->sql = split_dashes();
    std::string out = r->multiline ? split_eof() : split_double_line();
    std::string_view os = out;
    if (!os.empty() && os[0] == '\n') os.remove_prefix(1);
    else if (os.size() >= 2 && os[0] == '\r' && os[1] == '\n') os.remove_prefix(2);
    if (colnames) {
      size_t e = os.find('\n');
      std::string_view l = os.substr(0, e);
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      std::vector<std::string> names;
      for (auto& n : split_char(l, ' '))
        if (!n.empty()) names.push_back(replace_all(n, "\u2420", " "));
      r->column_names = names;
      os = e == std::string_view::npos ? std::string_view() : os.substr(e + 1);
    }
    static const std::regex kHash(R"((\S+) values hashing to (\S+))");
    std::match_results<std::string_view::const_iterator> m;
    if (std::regex_search(os.begin(), os.end(), m, kHash)) {
      r->hashed = true;
      r->hash_count = std::strtoul(m[1].str().c_str(), nullptr, 10);
      r->hash_md5 = m[2].str();
      return;
    }
    if (r->multiline) {
      r->values = {std::string(os)};
      return;
    }
    if (!os.empty() && (os[0] == '\r' || os[0] == '\n')) return;
    auto vals = rust_lines(os);
    if (mode_ == Mode::kStandard) {
      for (auto& v : vals) v = replace_all(v, "\u23ce", "\n");
      if (r->sort == Sort::kValue) std::sort(vals.begin(), vals.end());
      r->values = std::move(vals);
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : vals) {
      std::vector<std::string> cols;
      if (r->types.size() == 1) cols.push_back(trim_ws(l));
      else cols = split_whitespace(l);
      if (r->sort != Sort::kNo && cols.size() != r->types.size())
        throw ParseError{"col len (" + std::to_string(cols.size()) +
                         ") did not match declared col len (" +
                         std::to_string(r->types.size()) + ")"};
      for (auto& c : cols) c = replace_all(replace_all(c, "\u2420", " "), "\u23ce", "\n");
      rows.push_back(std::move(cols));
    }
    if (r->sort == Sort::kRow) std::sort(rows.begin(), rows.end());
    for (auto& row : rows)
      for (auto& v : row) r->values.push_back(std::move(v));
    if (r->sort == Sort::kValue) std::sort(r->values.begin(), r->values.end());
  }

  void parse_simple(const std::vector<std::string>& words, Record* r) {
    r->kind = Kind::kSimple;
    r->mode = mode_;
    if (words.size() > 1) {
      for (const auto& opt : split_char(words[1], ',')) {
        if (opt.rfind("conn=", 0) == 0) r->conn = opt.substr(5);
        else if (opt.rfind("user=", 0) == 0) r->user = opt.substr(5);
        else if (opt.rfind("password=", 0) == 0) {
          // Freshet trusts loopback connections; the password is not needed.
        } else if (opt == "rowsort") r->sort = Sort::kRow;
        else if (opt == "multiline") r->multiline = true;
        else throw ParseError{"unrecognized simple option " + opt};
      }
    }
    if (!r->user.empty() && r->conn.empty())
      throw ParseError{"cannot set user without also setting conn"};
    r->sql = split_dashes();
    std::string out = r->multiline ? split_eof() : split_double_line();
    std::string_view os = out;
    while (!os.empty() && std::isspace(static_cast<unsigned char>(os[0]))) os.remove_prefix(1);
    if (r->multiline) {
      r->values = {std::string(os)};
      std::string complete = split_double_line();
      std::string_view cs = complete;
      while (!cs.empty() && std::isspace(static_cast<unsigned char>(cs[0]))) cs.remove_prefix(1);
      for (auto& l : rust_lines(cs)) r->values.push_back(l);
    } else {
      r->values = rust_lines(os);
      if (mode_ == Mode::kCockroach && r->sort == Sort::kRow)
        std::sort(r->values.begin(), r->values.end());
    }
  }

  std::string_view rest_;
  std::vector<std::string> engines_;
  int line_ = 1;
  Mode mode_ = Mode::kStandard;
  long skipped_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Running and classifying

enum class Outcome { kPass, kErrorText, kUnsupported, kWrongRows, kOther };
constexpr int kOutcomes = 5;
const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPass: return "pass";
    case Outcome::kErrorText: return "error-text";
    case Outcome::kUnsupported: return "unsupported";
    case Outcome::kWrongRows: return "wrong-rows";
    case Outcome::kOther: return "other";
  }
  return "?";
}

struct Verdict {
  Outcome outcome = Outcome::kPass;
  std::string detail;    // one line: why
  std::string expected;  // for the report
  std::string actual;
};

std::string md5_hex(const std::vector<std::string>& values) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  for (const auto& v : values) {
    EVP_DigestUpdate(ctx, v.data(), v.size());
    EVP_DigestUpdate(ctx, "\n", 1);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int k = 0; k < len; ++k) {
    out += kHex[digest[k] >> 4];
    out += kHex[digest[k] & 15];
  }
  return out;
}

// Materialize's expected-error patterns are Rust regexes; RE2 has the same syntax (both
// descend from RE2). A pattern RE2 cannot compile is matched as a literal substring.
bool error_matches(const std::string& pattern, const std::string& text) {
  re2::RE2 re(pattern, re2::RE2::Quiet);
  if (!re.ok()) return text.find(pattern) != std::string::npos;
  return re2::RE2::PartialMatch(text, re);
}

// Refusals that mean "not implemented" rather than "wrong": feature not supported, syntax
// error, no such function/operator (Materialize's runner counts "supported"/"overload" errors
// the same way), no such type.
bool is_unsupported(const PgError& e) {
  return e.sqlstate == "0A000" || e.sqlstate == "42601" || e.sqlstate == "42883" ||
         e.sqlstate == "42704" || e.message.find("supported") != std::string::npos;
}

// SELECT, WITH, VALUES, SHOW, EXPLAIN, TABLE: a failure of such a record changes no state.
bool is_read_only(const std::string& sql) {
  size_t b = sql.find_first_not_of(" \t\r\n(");
  if (b == std::string::npos) return true;
  std::string w;
  for (size_t k = b; k < sql.size() && std::isalpha(static_cast<unsigned char>(sql[k])); ++k)
    w += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[k])));
  return w == "SELECT" || w == "WITH" || w == "VALUES" || w == "SHOW" || w == "EXPLAIN" ||
         w == "TABLE";
}

std::string one_line(std::string s, size_t max = 300) {
  for (char& c : s)
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

std::string show_values(const std::vector<std::string>& v, size_t max_lines = 30) {
  std::string out;
  for (size_t k = 0; k < v.size() && k < max_lines; ++k) out += "    " + v[k] + "\n";
  if (v.size() > max_lines) out += "    ... (" + std::to_string(v.size() - max_lines) + " more)\n";
  if (v.empty()) out = "    (no rows)\n";
  return out;
}

class MzRunner {
 public:
  explicit MzRunner(const MzOptions& opt) : opt_(opt) {
    if (!opt_.records_out.empty()) records_out_.open(opt_.records_out, std::ios::app);
  }

  struct FileCounts {
    long n[kOutcomes] = {0, 0, 0, 0, 0};
    long skipped = 0;
    long passed() const { return n[0]; }
    long failed() const { return n[1] + n[2] + n[3] + n[4]; }
  };

  FileCounts run_file(const std::string& path) {
    FileCounts fc;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::cout << path << ": cannot open\n";
      fc.n[static_cast<int>(Outcome::kOther)]++;
      return fc;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    // Parse everything first: a file that does not parse fails as a whole, like Materialize's.
    std::vector<Record> records;
    std::vector<std::string> engines = opt_.engine_aliases;
    engines.push_back(opt_.engine);
    Parser parser(text, std::move(engines));
    try {
      Record r;
      while (parser.next(&r)) records.push_back(std::move(r));
    } catch (const ParseError& e) {
      std::cout << path << ":" << parser.line() << ": parse error: " << e.message << "\n";
      fc.n[static_cast<int>(Outcome::kOther)]++;
      return fc;
    }
    fc.skipped = parser.skipped();

    conns_.clear();
    main_ = std::make_unique<Conn>(opt_, opt_.user);
    std::string err;
    bool connected = main_->open(&err);
    int shown = 0;
    int consecutive_timeouts = 0;
    bool earlier_failure = false;
    for (const Record& r : records) {
      if (r.kind == Kind::kResetServer) {
        reset_server();
        continue;
      }
      Verdict v;
      signature_ = "-";
      if (!connected || !main_->is_open()) connected = main_->open(&err);
      if (!connected) {
        v = {Outcome::kOther, "server unreachable: " + one_line(err), "", ""};
      } else if (consecutive_timeouts >= 3) {
        v = {Outcome::kOther, "not run: three records in a row timed out", "", ""};
      } else {
        v = run_record(r);
        consecutive_timeouts = v.detail.rfind("timeout", 0) == 0 ? consecutive_timeouts + 1 : 0;
      }
      if (v.outcome == Outcome::kWrongRows && earlier_failure)
        v.detail = "[after an earlier failure] " + v.detail;
      fc.n[static_cast<int>(v.outcome)]++;
      if (v.outcome != Outcome::kPass) {
        // A failed record that may have changed (or failed to change) the database state.
        if (!r.expected_error && !is_read_only(r.sql)) earlier_failure = true;
        report(path, r, v, &shown);
      }
      if (records_out_.is_open()) {
        records_out_ << path << "\t" << r.line << "\t" << outcome_name(v.outcome) << "\t"
                     << signature_ << "\t" << one_line(v.detail) << "\t" << one_line(r.sql, 200)
                     << "\n";
      }
    }
    conns_.clear();
    main_.reset();
    return fc;
  }

 private:
  Verdict run_record(const Record& r) {
    switch (r.kind) {
      case Kind::kStatement: return run_statement(r);
      case Kind::kQuery: return run_query(r);
      case Kind::kSimple: return run_simple(r);
      case Kind::kCopy: return {Outcome::kOther, "copy records are not supported by slt_runner", "", ""};
      case Kind::kResetServer: break;
    }
    return {};
  }

  static Verdict failed_exec(const Exec& e, const char* what) {
    if (e.timed_out) return {Outcome::kOther, std::string("timeout: ") + e.err.message, "", ""};
    if (e.connection_lost)
      return {Outcome::kOther, std::string("connection lost: ") + e.err.message, "", ""};
    Outcome o = is_unsupported(e.err) ? Outcome::kUnsupported : Outcome::kOther;
    return {o, std::string(what) + " " + e.err.sqlstate + ": " + e.err.message, "", ""};
  }

  Verdict run_statement(const Record& r) {
    static const std::regex kFakeIndex("^(CREATE UNIQUE INDEX|REINDEX)");
    if (std::regex_search(r.sql, kFakeIndex)) return {};  // As Materialize: not run.
    Exec e = main_->exec(r.sql, true);
    signature_ = e.ok ? "ok " + std::to_string(e.sets.empty() ? 0 : e.sets.back().affected)
                      : "error " + e.err.sqlstate;
    if (e.ok) {
      if (r.expected_error)
        return {Outcome::kOther, "accepted, expected error: " + *r.expected_error, "", ""};
      unsigned long affected = e.sets.empty() ? 0 : e.sets.back().affected;
      if (r.rows_affected && *r.rows_affected != affected)
        return {Outcome::kWrongRows,
                "rows affected " + std::to_string(affected) + ", expected " +
                    std::to_string(*r.rows_affected),
                "", ""};
      return {};
    }
    if (r.expected_error && !e.timed_out && !e.connection_lost) {
      if (error_matches(*r.expected_error, e.err.text())) return {};
      return {Outcome::kErrorText,
              "error text differs: expected /" + *r.expected_error + "/, got " + e.err.sqlstate +
                  ": " + e.err.message,
              "", ""};
    }
    return failed_exec(e, "statement failed:");
  }

  Verdict run_query(const Record& r) {
    Exec e = main_->exec(r.sql, true);
    signature_ = e.ok ? "rows" : "error " + e.err.sqlstate;
    if (!e.ok) {
      if (r.expected_error && !e.timed_out && !e.connection_lost) {
        if (error_matches(*r.expected_error, e.err.text())) return {};
        return {Outcome::kErrorText,
                "error text differs: expected /" + *r.expected_error + "/, got " +
                    e.err.sqlstate + ": " + e.err.message,
                "", ""};
      }
      return failed_exec(e, "query failed:");
    }
    if (r.expected_error)
      return {Outcome::kOther, "accepted, expected error: " + *r.expected_error, "", ""};
    static const ResultSet kEmpty;
    const ResultSet& rs = e.sets.empty() ? kEmpty : e.sets.back();
    std::vector<std::vector<std::string>> rows;
    for (const auto& raw : rs.rows) {
      if (raw.size() != r.types.size())
        return {Outcome::kWrongRows,
                "wrong column count: expected " + std::to_string(r.types.size()) + ", got " +
                    std::to_string(raw.size()),
                "", ""};
      std::vector<std::string> row;
      for (size_t c = 0; c < raw.size(); ++c)
        row.push_back(raw[c] ? format_datum(*raw[c], rs.oids[c], r.types[c], r.mode) : "NULL");
      rows.push_back(std::move(row));
    }
    if (r.sort == Sort::kRow) std::sort(rows.begin(), rows.end());
    std::vector<std::string> values;
    for (auto& row : rows)
      for (auto& v : row) values.push_back(std::move(v));
    if (r.sort == Sort::kValue) std::sort(values.begin(), values.end());
    signature_ = "rows " + md5_hex(values);
    if (r.column_names && !rs.rows.empty() && *r.column_names != rs.names) {
      std::string got, want;
      for (const auto& n : rs.names) got += n + " ";
      for (const auto& n : *r.column_names) want += n + " ";
      return {Outcome::kOther, "column names differ: expected " + want + "got " + got, "", ""};
    }
    if (r.hashed) {
      std::string h = md5_hex(values);
      if (values.size() == r.hash_count && h == r.hash_md5) return {};
      return {Outcome::kWrongRows, "result hash differs",
              "    " + std::to_string(r.hash_count) + " values hashing to " + r.hash_md5 + "\n",
              "    " + std::to_string(values.size()) + " values hashing to " + h + "\n" +
                  show_values(values)};
    }
    if (values == r.values) return {};
    std::string first_diff;
    for (size_t k = 0; k < std::max(values.size(), r.values.size()); ++k) {
      std::string a = k < values.size() ? values[k] : "<none>";
      std::string b = k < r.values.size() ? r.values[k] : "<none>";
      if (a != b) {
        first_diff = "value " + std::to_string(k) + ": expected '" + b + "', got '" + a + "'";
        break;
      }
    }
    return {Outcome::kWrongRows, "rows differ: " + first_diff, show_values(r.values),
            show_values(values)};
  }

  Conn* conn_for(const Record& r, std::string* err) {
    if (r.conn.empty()) return main_.get();
    auto it = conns_.find(r.conn);
    if (it == conns_.end()) {
      auto c = std::make_unique<Conn>(opt_, r.user.empty() ? opt_.user : r.user);
      if (!c->open(err)) return nullptr;
      it = conns_.emplace(r.conn, std::move(c)).first;
    }
    return it->second.get();
  }

  Verdict run_simple(const Record& r) {
    std::string err;
    Conn* c = conn_for(r, &err);
    std::vector<std::string> actual;
    bool actual_error = false;
    Exec e;
    if (!c) {
      actual_error = true;
      actual = rust_lines("db error: FATAL: " + err);
    } else {
      e = c->exec(r.sql, false);
      if (e.timed_out || e.connection_lost) return failed_exec(e, "simple failed:");
      if (!e.ok) {
        actual_error = true;
        actual = rust_lines(e.err.text());
      } else {
        for (const auto& rs : e.sets) {
          for (const auto& row : rs.rows) {
            std::string line;
            for (size_t k = 0; k < row.size(); ++k) {
              if (k) line += ",";
              line += row[k] ? *row[k] : "NULL";
            }
            actual.push_back(line);
          }
          actual.push_back("COMPLETE " + std::to_string(rs.has_rows ? rs.rows.size() : rs.affected));
        }
        if (r.sort == Sort::kRow) std::sort(actual.begin(), actual.end());
      }
    }
    if (r.multiline && !actual.empty()) {
      // Materialize compares the output before EOF as one value, then the COMPLETE lines.
      std::vector<std::string> joined;
      std::string body;
      size_t k = 0;
      for (; k < actual.size() && actual[k].rfind("COMPLETE ", 0) != 0; ++k)
        body += (k ? "\n" : "") + actual[k];
      joined.push_back(body);
      for (; k < actual.size(); ++k) joined.push_back(actual[k]);
      actual = joined;
    }
    signature_ = "simple " + md5_hex(actual);
    if (actual == r.values) return {};
    bool expected_error = !r.values.empty() && r.values[0].rfind("db error:", 0) == 0;
    if (actual_error && expected_error)
      return {Outcome::kErrorText, "error text differs: got " + one_line(actual[0]),
              show_values(r.values), show_values(actual)};
    if (actual_error) {
      if (!c) return {Outcome::kOther, "cannot connect as " + r.user + ": " + one_line(err), "", ""};
      return failed_exec(e, "simple failed:");
    }
    if (expected_error)
      return {Outcome::kOther, "accepted, expected " + one_line(r.values[0]), "", ""};
    return {Outcome::kWrongRows, "simple output differs", show_values(r.values),
            show_values(actual)};
  }

  // Materialize restarts its server with nothing in it. Here: every other connection is
  // closed and the user's tables and views are dropped.
  void reset_server() {
    conns_.clear();
    std::string err;
    if (!opt_.reset_command.empty()) {
      main_->close();
      int rc = std::system(opt_.reset_command.c_str());
      if (rc != 0) std::cout << "reset-server: the reset command failed (status " << rc << ")\n";
      main_->open(&err);
      return;
    }
    if (!main_->is_open() && !main_->open(&err)) return;
    main_->exec("ROLLBACK", false);
    Exec e = main_->exec(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'mz_catalog', "
        "'mz_internal')",
        false);
    if (!e.ok || e.sets.empty()) return;
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& row : e.sets.back().rows) {
        if (!row[0] || !row[1] || !row[2]) continue;
        bool is_view = row[2]->find("VIEW") != std::string::npos;
        if ((pass == 0) != is_view) continue;
        main_->exec(std::string(is_view ? "DROP VIEW IF EXISTS \"" : "DROP TABLE IF EXISTS \"") +
                        *row[0] + "\".\"" + *row[1] + "\" CASCADE",
                    false);
      }
    }
  }

  void report(const std::string& path, const Record& r, const Verdict& v, int* shown) {
    if (*shown >= opt_.failures_shown_max && !opt_.verbose) return;
    ++*shown;
    std::cout << "FAIL " << path << ":" << r.line << ": [" << outcome_name(v.outcome) << "] "
              << v.detail << "\n";
    std::string sql = r.sql.size() > 1500 ? r.sql.substr(0, 1500) + " ..." : r.sql;
    std::cout << "  sql:\n    " << replace_all(sql, "\n", "\n    ") << "\n";
    if (!v.expected.empty()) std::cout << "  expected:\n" << v.expected;
    if (!v.actual.empty()) std::cout << "  actual:\n" << v.actual;
  }

  const MzOptions& opt_;
  std::unique_ptr<Conn> main_;
  std::map<std::string, std::unique_ptr<Conn>> conns_;
  std::ofstream records_out_;
  // What the last record returned, to compare runs against two servers: "rows <md5 of the
  // formatted values>", "ok <rows affected>", "error <SQLSTATE>", "simple <md5 of the lines>".
  std::string signature_;
};

}  // namespace

int run_materialize(const MzOptions& opt) {
  std::cout.setf(std::ios::unitbuf);
  MzRunner runner(opt);
  long total[kOutcomes] = {0, 0, 0, 0, 0};
  long skipped = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& f : opt.files) {
    auto f0 = std::chrono::steady_clock::now();
    auto fc = runner.run_file(f);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - f0)
                  .count();
    std::cout << f << ": " << fc.passed() << " passed, " << fc.failed() << " failed, "
              << fc.skipped << " skipped (" << ms << " ms)\n";
    std::cout << "  classes " << f << ":";
    for (int k = 0; k < kOutcomes; ++k)
      std::cout << " " << outcome_name(static_cast<Outcome>(k)) << "=" << fc.n[k];
    std::cout << "\n";
    for (int k = 0; k < kOutcomes; ++k) total[k] += fc.n[k];
    skipped += fc.skipped;
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0)
                .count();
  long failed = total[1] + total[2] + total[3] + total[4];
  std::cout << "classes:";
  for (int k = 0; k < kOutcomes; ++k)
    std::cout << " " << outcome_name(static_cast<Outcome>(k)) << "=" << total[k];
  std::cout << "\n";
  std::cout << "total: " << skipped << " skipped, " << ms << " ms\n";
  std::cout << total[0] << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace freshet::slt
