#include "pgwire/copy.hpp"

#include <cstring>

#include "common/error.hpp"
#include "common/format.hpp"
#include "pgwire/binary_format.hpp"

namespace freshet::pgwire {

namespace {

using server::CopyFormat;

// A line (or binary tuple) still incomplete past this is refused: PostgreSQL's MaxAllocSize.
constexpr size_t kMaxLineBytes = size_t{1} << 30;

// PostgreSQL's limit_printout_length: values in CONTEXT lines are cut at 100 bytes.
std::string printable(std::string_view v) {
  constexpr size_t kMax = 100;
  if (v.size() <= kMax) return std::string(v);
  size_t n = kMax;
  while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;  // whole UTF-8 characters
  return std::string(v.substr(0, n)) + "...";
}

uint32_t read_u32(const char* p) {
  return (uint32_t{static_cast<uint8_t>(p[0])} << 24) | (uint32_t{static_cast<uint8_t>(p[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(p[2])} << 8) | uint32_t{static_cast<uint8_t>(p[3])};
}
int16_t read_i16(const char* p) {
  return static_cast<int16_t>((uint16_t{static_cast<uint8_t>(p[0])} << 8) | uint16_t{static_cast<uint8_t>(p[1])});
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// ---- CopyParser ---------------------------------------------------------------------------------

CopyParser::CopyParser(server::CopySpec spec, std::vector<CopyColumn> columns, CopyValueParser parse)
    : spec_(std::move(spec)), columns_(std::move(columns)), parse_(std::move(parse)) {
  header_pending_ = spec_.options.header && spec_.options.format != CopyFormat::kBinary;
  datums_.reserve(columns_.size());
}

std::string CopyParser::context(std::string_view line) const {
  std::string c = "COPY " + spec_.relation + ", line " + std::to_string(line_);
  if (spec_.options.format != CopyFormat::kBinary) c += ": \"" + printable(line) + "\"";
  return c;
}

std::string CopyParser::column_context(size_t col, std::string_view value) const {
  std::string c = "COPY " + spec_.relation + ", line " + std::to_string(line_) + ", column " + columns_[col].name;
  if (spec_.options.format != CopyFormat::kBinary) c += ": \"" + printable(value) + "\"";
  return c;
}

void CopyParser::fail(const char* sqlstate, std::string message, std::string_view line) {
  throw SqlError(sqlstate, std::move(message)).with_context(context(line));
}

void CopyParser::feed(std::string_view data, std::vector<Row>& out) {
  if (ended_) {
    // PostgreSQL ignores text after \. but refuses data after the binary trailer.
    if (spec_.options.format == CopyFormat::kBinary && !data.empty())
      throw SqlError(sqlstate::kBadCopyFileFormat, "received copy data after EOF marker")
          .with_context("COPY " + spec_.relation + ", line " + std::to_string(line_));
    return;
  }
  buf_.append(data);
  if (spec_.options.format == CopyFormat::kBinary) parse_binary(out);
  else parse_lines(false, out);
  // Drop what was parsed (amortized: only when it is most of the buffer).
  if (consumed_ > 0 && consumed_ * 2 >= buf_.size()) {
    buf_.erase(0, consumed_);
    if (scan_ >= consumed_) scan_ -= consumed_;
    else scan_ = 0;
    consumed_ = 0;
  }
  if (buf_.size() - consumed_ > kMaxLineBytes)
    throw SqlError(sqlstate::kProgramLimitExceeded, "COPY line is too long (over 1 GB)")
        .with_context("COPY " + spec_.relation + ", line " + std::to_string(line_ + 1));
}

void CopyParser::finish(std::vector<Row>& out) {
  if (ended_) return;
  if (spec_.options.format == CopyFormat::kBinary) {
    parse_binary(out);
    if (!ended_) {
      if (!binary_header_done_ && buf_.size() - consumed_ == 0 && line_ == 0)
        throw SqlError(sqlstate::kBadCopyFileFormat, "invalid COPY file header (missing signature)")
            .with_context("COPY " + spec_.relation + ", line 0");
      throw SqlError(sqlstate::kBadCopyFileFormat, "unexpected EOF in COPY data")
          .with_context("COPY " + spec_.relation + ", line " + std::to_string(line_ + 1));
    }
    return;
  }
  parse_lines(true, out);
}

void CopyParser::parse_lines(bool at_end, std::vector<Row>& out) {
  const bool csv = spec_.options.format == CopyFormat::kCsv;
  const char quote = spec_.options.quote, escape = spec_.options.escape;
  while (!ended_ && consumed_ < buf_.size()) {
    size_t i = std::max(scan_, consumed_);
    size_t end = std::string::npos;
    bool need_more = false;
    while (i < buf_.size()) {
      char c = buf_[i];
      if (csv) {
        if (in_quote_) {
          if (c == escape && escape != quote) {
            if (i + 1 >= buf_.size()) {
              need_more = !at_end;
              break;
            }
            if (buf_[i + 1] == quote || buf_[i + 1] == escape) {
              i += 2;
              continue;
            }
          } else if (c == quote) {
            in_quote_ = false;
          }
          ++i;
          continue;
        }
        if (c == quote) {
          in_quote_ = true;
          ++i;
          continue;
        }
      } else if (c == '\\') {
        // A backslash escapes the next character, a newline included.
        if (i + 1 >= buf_.size()) {
          need_more = !at_end;
          break;
        }
        i += 2;
        continue;
      }
      if (c == '\n') {
        end = i;
        break;
      }
      ++i;
    }
    if (end == std::string::npos) {
      scan_ = std::min(i, buf_.size());
      if (need_more || !at_end) return;
      if (csv && in_quote_) {
        ++line_;
        fail(sqlstate::kBadCopyFileFormat, "unterminated CSV quoted field",
             std::string_view(buf_).substr(consumed_));
      }
      end = buf_.size();  // the last line, without its newline
    }
    std::string_view line(buf_.data() + consumed_, end - consumed_);
    consumed_ = end < buf_.size() ? end + 1 : end;
    scan_ = consumed_;
    in_quote_ = false;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_;
    if (header_pending_) {
      header_pending_ = false;
      continue;
    }
    if (line.size() >= 2 && line[0] == '\\' && line[1] == '.') {
      if (line.size() != 2) fail(sqlstate::kBadCopyFileFormat, "end-of-copy marker corrupt", line);
      ended_ = true;
      return;
    }
    if (csv) csv_line(line, out);
    else text_line(line, out);
  }
}

void CopyParser::text_line(std::string_view line, std::vector<Row>& out) {
  const char delim = spec_.options.delimiter;
  const std::string& null_string = spec_.options.null_string;
  fields_.clear();
  size_t i = 0;
  if (columns_.empty()) {
    if (!line.empty()) fail(sqlstate::kBadCopyFileFormat, "extra data after last expected column", line);
    emit_row(out);
    return;
  }
  while (true) {
    size_t start = i;
    std::string value;
    while (i < line.size() && line[i] != delim) {
      char c = line[i];
      if (c != '\\' || i + 1 >= line.size()) {
        value.push_back(c);
        ++i;
        continue;
      }
      char e = line[i + 1];
      i += 2;
      switch (e) {
        case 'b': value.push_back('\b'); break;
        case 'f': value.push_back('\f'); break;
        case 'n': value.push_back('\n'); break;
        case 'r': value.push_back('\r'); break;
        case 't': value.push_back('\t'); break;
        case 'v': value.push_back('\v'); break;
        case 'x': {
          int h = i < line.size() ? hex_value(line[i]) : -1;
          if (h < 0) {
            value.push_back('x');
            break;
          }
          ++i;
          int h2 = i < line.size() ? hex_value(line[i]) : -1;
          if (h2 >= 0) {
            h = h * 16 + h2;
            ++i;
          }
          value.push_back(static_cast<char>(h));
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            int v = e - '0';
            for (int k = 0; k < 2 && i < line.size() && line[i] >= '0' && line[i] <= '7'; ++k) v = v * 8 + (line[i++] - '0');
            value.push_back(static_cast<char>(v & 0xff));
          } else {
            value.push_back(e);  // \\, \<delimiter> and any other character stand for themselves
          }
      }
    }
    std::string_view raw = line.substr(start, i - start);
    bool is_null = raw == null_string;
    if (fields_.size() >= columns_.size()) fail(sqlstate::kBadCopyFileFormat, "extra data after last expected column", line);
    fields_.emplace_back(std::move(value), is_null);
    if (i >= line.size()) break;
    ++i;  // the delimiter
  }
  if (fields_.size() < columns_.size())
    fail(sqlstate::kBadCopyFileFormat, "missing data for column \"" + columns_[fields_.size()].name + "\"", line);
  for (size_t c = 0; c < columns_.size(); ++c)
    datums_.push_back(fields_[c].second ? Datum::null() : value(fields_[c].first, c));
  emit_row(out);
}

void CopyParser::csv_line(std::string_view line, std::vector<Row>& out) {
  const auto& o = spec_.options;
  fields_.clear();
  if (columns_.empty()) {
    if (!line.empty()) fail(sqlstate::kBadCopyFileFormat, "extra data after last expected column", line);
    emit_row(out);
    return;
  }
  size_t i = 0;
  while (true) {
    std::string value;
    bool saw_quote = false;
    bool in_quote = false;
    while (i < line.size()) {
      char c = line[i];
      if (in_quote) {
        if (c == o.escape && i + 1 < line.size() && (line[i + 1] == o.quote || line[i + 1] == o.escape) &&
            !(o.escape == o.quote && line[i + 1] != o.quote)) {
          value.push_back(line[i + 1]);
          i += 2;
          continue;
        }
        if (c == o.quote) {
          in_quote = false;
          ++i;
          continue;
        }
        value.push_back(c);
        ++i;
        continue;
      }
      if (c == o.delimiter) break;
      if (c == o.quote) {
        in_quote = true;
        saw_quote = true;
        ++i;
        continue;
      }
      value.push_back(c);
      ++i;
    }
    if (in_quote) fail(sqlstate::kBadCopyFileFormat, "unterminated CSV quoted field", line);
    size_t col = fields_.size();
    if (col >= columns_.size()) fail(sqlstate::kBadCopyFileFormat, "extra data after last expected column", line);
    bool is_null = false;
    if (value == o.null_string) {
      if (!saw_quote) is_null = !(col < o.force_not_null.size() && o.force_not_null[col]);
      else is_null = col < o.force_null.size() && o.force_null[col];
    }
    fields_.emplace_back(std::move(value), is_null);
    if (i >= line.size()) break;
    ++i;  // the delimiter
  }
  if (fields_.size() < columns_.size())
    fail(sqlstate::kBadCopyFileFormat, "missing data for column \"" + columns_[fields_.size()].name + "\"", line);
  for (size_t c = 0; c < columns_.size(); ++c)
    datums_.push_back(fields_[c].second ? Datum::null() : value(fields_[c].first, c));
  emit_row(out);
}

Datum CopyParser::value(std::string_view text, size_t col) {
  try {
    return parse_ ? parse_(text, columns_[col].type, arena_) : parse_datum(text, columns_[col].type, arena_);
  } catch (const SqlError& e) {
    SqlError with = e;
    with.with_context(column_context(col, text));
    throw with;
  }
}

void CopyParser::emit_row(std::vector<Row>& out) {
  out.push_back(Row::pack(datums_));
  datums_.clear();
  arena_.reset();
  ++rows_;
}

void CopyParser::parse_binary(std::vector<Row>& out) {
  const size_t n = buf_.size();
  if (!binary_header_done_) {
    if (n - consumed_ < kPgCopySignature.size() + 8) {
      if (std::string_view(buf_).substr(consumed_, kPgCopySignature.size()) !=
          kPgCopySignature.substr(0, std::min(kPgCopySignature.size(), n - consumed_)))
        throw SqlError(sqlstate::kBadCopyFileFormat, "COPY file signature not recognized").with_context("COPY " + spec_.relation + ", line 0");
      return;
    }
    const char* p = buf_.data() + consumed_;
    if (std::string_view(p, kPgCopySignature.size()) != kPgCopySignature)
      throw SqlError(sqlstate::kBadCopyFileFormat, "COPY file signature not recognized").with_context("COPY " + spec_.relation + ", line 0");
    uint32_t flags = read_u32(p + 11);
    if ((flags >> 16) != 0)
      throw SqlError(sqlstate::kBadCopyFileFormat, "unrecognized critical flags in COPY file header").with_context("COPY " + spec_.relation + ", line 0");
    uint32_t ext = read_u32(p + 15);
    if (ext > kMaxLineBytes)
      throw SqlError(sqlstate::kBadCopyFileFormat, "invalid COPY file header (wrong length)").with_context("COPY " + spec_.relation + ", line 0");
    if (n - consumed_ < 19 + size_t{ext}) return;
    consumed_ += 19 + ext;
    binary_header_done_ = true;
  }
  while (!ended_ && n - consumed_ >= 2) {
    const char* p = buf_.data() + consumed_;
    int16_t count = read_i16(p);
    if (count == -1) {
      consumed_ += 2;
      ended_ = true;
      if (consumed_ != n)
        throw SqlError(sqlstate::kBadCopyFileFormat, "received copy data after EOF marker")
            .with_context("COPY " + spec_.relation + ", line " + std::to_string(line_));
      return;
    }
    if (count != static_cast<int16_t>(columns_.size()))
      throw SqlError(sqlstate::kBadCopyFileFormat,
                     "row field count is " + std::to_string(count) + ", expected " + std::to_string(columns_.size()))
          .with_context("COPY " + spec_.relation + ", line " + std::to_string(line_ + 1));
    // A complete tuple first: every field's length and bytes.
    size_t pos = 2;
    bool complete = true;
    for (int16_t f = 0; f < count; ++f) {
      if (n - consumed_ - pos < 4) {
        complete = false;
        break;
      }
      auto len = static_cast<int32_t>(read_u32(p + pos));
      pos += 4;
      if (len == -1) continue;
      if (len < -1 || static_cast<size_t>(len) > kMaxLineBytes)
        throw SqlError(sqlstate::kBadCopyFileFormat, "invalid field size")
            .with_context("COPY " + spec_.relation + ", line " + std::to_string(line_ + 1) + ", column " + columns_[static_cast<size_t>(f)].name);
      if (n - consumed_ - pos < static_cast<size_t>(len)) {
        complete = false;
        break;
      }
      pos += static_cast<size_t>(len);
    }
    if (!complete) return;
    ++line_;
    pos = 2;
    for (size_t c = 0; c < columns_.size(); ++c) {
      auto len = static_cast<int32_t>(read_u32(p + pos));
      pos += 4;
      if (len == -1) {
        datums_.push_back(Datum::null());
        continue;
      }
      std::string_view bytes(p + pos, static_cast<size_t>(len));
      pos += static_cast<size_t>(len);
      try {
        datums_.push_back(decode_binary(bytes, columns_[c].type, arena_));
      } catch (const SqlError& e) {
        SqlError with = e;
        with.with_context(column_context(c, {}));
        throw with;
      }
    }
    // decode_binary may borrow bytes from the buffer: pack before it moves.
    emit_row(out);
    consumed_ += pos;
  }
}

// ---- CopyEncoder --------------------------------------------------------------------------------

CopyEncoder::CopyEncoder(server::CopyOptions options, std::vector<CopyColumn> columns, CopyValueFormatter format)
    : options_(std::move(options)), columns_(std::move(columns)), format_(std::move(format)) {}

void CopyEncoder::begin(std::string& out) const {
  if (options_.format == CopyFormat::kBinary) {
    out.append(kPgCopySignature);
    out.append(8, '\0');  // flags, header extension length
    return;
  }
  if (!options_.header) return;
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (c) out.push_back(options_.delimiter);
    if (options_.format == CopyFormat::kCsv) csv_value(columns_[c].name, false, out);
    else text_value(columns_[c].name, out);
  }
  out.push_back('\n');
}

void CopyEncoder::end(std::string& out) const {
  if (options_.format == CopyFormat::kBinary) {
    out.push_back('\xff');
    out.push_back('\xff');
  }
}

void CopyEncoder::row(const std::vector<Datum>& d, std::string& out) {
  if (options_.format == CopyFormat::kBinary) {
    out.push_back(static_cast<char>((columns_.size() >> 8) & 0xff));
    out.push_back(static_cast<char>(columns_.size() & 0xff));
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (d[c].is_null()) {
        out.append(4, '\xff');
        continue;
      }
      size_t at = out.size();
      out.append(4, '\0');
      encode_binary(d[c], columns_[c].type, out);
      auto len = static_cast<uint32_t>(out.size() - at - 4);
      out[at] = static_cast<char>(len >> 24);
      out[at + 1] = static_cast<char>((len >> 16) & 0xff);
      out[at + 2] = static_cast<char>((len >> 8) & 0xff);
      out[at + 3] = static_cast<char>(len & 0xff);
    }
    return;
  }
  const bool csv = options_.format == CopyFormat::kCsv;
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (c) out.push_back(options_.delimiter);
    if (d[c].is_null()) {
      out.append(options_.null_string);
      continue;
    }
    scratch_.clear();
    if (format_) format_(d[c], columns_[c].type, scratch_);
    else format_datum(d[c], columns_[c].type, scratch_);
    if (csv) {
      bool force = options_.force_quote_all || (c < options_.force_quote.size() && options_.force_quote[c]);
      // A lone column "\." would read back as the end-of-data marker.
      if (columns_.size() == 1 && scratch_ == "\\.") force = true;
      csv_value(scratch_, force, out);
    } else {
      text_value(scratch_, out);
    }
  }
  out.push_back('\n');
}

void CopyEncoder::text_value(std::string_view v, std::string& out) const {
  for (char c : v) {
    switch (c) {
      case '\\': out.append("\\\\"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\v': out.append("\\v"); break;
      default:
        if (c == options_.delimiter) out.push_back('\\');
        out.push_back(c);
    }
  }
}

void CopyEncoder::csv_value(std::string_view v, bool force, std::string& out) const {
  bool quote = force || v == options_.null_string;
  for (size_t i = 0; !quote && i < v.size(); ++i) {
    char c = v[i];
    quote = c == options_.delimiter || c == options_.quote || c == '\n' || c == '\r';
  }
  if (!quote) {
    out.append(v);
    return;
  }
  out.push_back(options_.quote);
  for (char c : v) {
    if (c == options_.quote || c == options_.escape) out.push_back(options_.escape);
    out.push_back(c);
  }
  out.push_back(options_.quote);
}

}  // namespace freshet::pgwire
