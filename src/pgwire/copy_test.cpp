#include "pgwire/copy.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "common/format.hpp"

namespace freshet::pgwire {
namespace {

using server::CopyFormat;

std::vector<CopyColumn> int_text() { return {{"a", Type(TypeId::kInt4)}, {"b", Type(TypeId::kText)}}; }

server::CopySpec spec(CopyFormat f) {
  server::CopySpec s;
  s.from = true;
  s.relation = "t";
  s.options.format = f;
  if (f == CopyFormat::kCsv) {
    s.options.delimiter = ',';
    s.options.null_string = "";
  }
  return s;
}

// Rows as "a|b" strings with NULL for nulls, fed in pieces of `chunk` bytes.
std::vector<std::string> parse(const server::CopySpec& s, std::string_view data, size_t chunk = 0,
                               std::vector<CopyColumn> cols = int_text()) {
  CopyParser p(s, cols);
  std::vector<Row> rows;
  if (chunk == 0) chunk = data.size() + 1;
  for (size_t i = 0; i < data.size(); i += chunk) p.feed(data.substr(i, chunk), rows);
  p.finish(rows);
  std::vector<std::string> out;
  for (const auto& r : rows) {
    auto d = r.unpack();
    std::string line;
    for (size_t c = 0; c < d.size(); ++c) {
      if (c) line += "|";
      line += d[c].is_null() ? "NULL" : format_datum(d[c], cols[c].type);
    }
    out.push_back(line);
  }
  return out;
}

SqlError parse_error(const server::CopySpec& s, std::string_view data, size_t chunk = 0) {
  try {
    parse(s, data, chunk);
  } catch (const SqlError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << data;
  return SqlError("00000", "");
}

TEST(CopyParser, TextRowsEscapesAndNull) {
  auto s = spec(CopyFormat::kText);
  std::string data = "1\thello\n2\t\\N\n3\ta\\tb\\nc\\\\d\\x41\\101\n4\t\n";
  std::vector<std::string> want = {"1|hello", "2|NULL", "3|a\tb\nc\\dAA", "4|"};
  for (size_t chunk : {0, 1, 2, 3, 7}) EXPECT_EQ(parse(s, data, chunk), want) << chunk;
  // The last line without its newline, \r\n line ends, the end marker.
  EXPECT_EQ(parse(s, "1\tx\r\n2\ty"), (std::vector<std::string>{"1|x", "2|y"}));
  EXPECT_EQ(parse(s, "1\tx\n\\.\nignored"), (std::vector<std::string>{"1|x"}));
  // An escaped newline is data.
  EXPECT_EQ(parse(s, "1\ta\\\nb\n"), (std::vector<std::string>{"1|a\nb"}));
}

TEST(CopyParser, TextErrorsNameTheLine) {
  auto s = spec(CopyFormat::kText);
  SqlError e = parse_error(s, "1\ta\n2\tb\nx\tc\n");
  EXPECT_EQ(e.sqlstate(), sqlstate::kInvalidTextRepresentation);
  EXPECT_EQ(e.context(), "COPY t, line 3, column a: \"x\"");
  e = parse_error(s, "1\n");
  EXPECT_EQ(e.sqlstate(), sqlstate::kBadCopyFileFormat);
  EXPECT_EQ(e.message(), "missing data for column \"b\"");
  EXPECT_EQ(e.context(), "COPY t, line 1: \"1\"");
  e = parse_error(s, "1\ta\tb\n");
  EXPECT_EQ(e.message(), "extra data after last expected column");
  e = parse_error(s, "\\.x\n");
  EXPECT_EQ(e.message(), "end-of-copy marker corrupt");
  e = parse_error(s, "99999999999\ta\n", 3);
  EXPECT_EQ(e.sqlstate(), sqlstate::kNumericValueOutOfRange);
}

TEST(CopyParser, CsvQuotingNullsAndHeader) {
  auto s = spec(CopyFormat::kCsv);
  s.options.header = true;
  std::string data = "a,b\n1,plain\n2,\"quoted, with comma\"\n3,\"multi\nline \"\"q\"\"\"\n4,\n5,\"\"\n";
  std::vector<std::string> want = {"1|plain", "2|quoted, with comma", "3|multi\nline \"q\"", "4|NULL", "5|"};
  for (size_t chunk : {0, 1, 2, 5}) EXPECT_EQ(parse(s, data, chunk), want) << chunk;
  // Another escape character, FORCE_NOT_NULL and FORCE_NULL.
  s.options.header = false;
  s.options.escape = '\\';
  EXPECT_EQ(parse(s, "1,\"a\\\"b\\\\c\"\n"), (std::vector<std::string>{"1|a\"b\\c"}));
  s.options.escape = '"';
  s.options.force_not_null = {false, true};
  EXPECT_EQ(parse(s, "1,\n"), (std::vector<std::string>{"1|"}));
  s.options.force_not_null = {};
  s.options.force_null = {false, true};
  EXPECT_EQ(parse(s, "1,\"\"\n"), (std::vector<std::string>{"1|NULL"}));
  SqlError e = parse_error(spec(CopyFormat::kCsv), "1,\"open\n");
  EXPECT_EQ(e.message(), "unterminated CSV quoted field");
  EXPECT_EQ(e.sqlstate(), sqlstate::kBadCopyFileFormat);
}

std::string be32(int32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[static_cast<size_t>(i)] = static_cast<char>((static_cast<uint32_t>(v) >> (24 - 8 * i)) & 0xff);
  return s;
}

TEST(CopyParser, BinaryRoundTrip) {
  server::CopyOptions o;
  o.format = CopyFormat::kBinary;
  CopyEncoder enc(o, int_text());
  std::string data;
  enc.begin(data);
  Arena arena;
  enc.row({Datum::from_int(7), Datum::from_string("seven")}, data);
  enc.row({Datum::from_int(-1), Datum::null()}, data);
  enc.end(data);
  auto s = spec(CopyFormat::kBinary);
  for (size_t chunk : {0, 1, 3}) EXPECT_EQ(parse(s, data, chunk), (std::vector<std::string>{"7|seven", "-1|NULL"})) << chunk;
  // Missing trailer, bad signature, wrong field count, bad int4 length, data after the trailer.
  EXPECT_EQ(parse_error(s, data.substr(0, data.size() - 2)).message(), "unexpected EOF in COPY data");
  EXPECT_EQ(parse_error(s, "PGCOPX\n\377\r\n\0" + std::string(8, '\0')).message(), "COPY file signature not recognized");
  std::string head = data.substr(0, 19);
  SqlError e = parse_error(s, head + std::string("\0\3", 2));
  EXPECT_EQ(e.message(), "row field count is 3, expected 2");
  e = parse_error(s, head + std::string("\0\2", 2) + be32(2) + "ab" + be32(-1) + "\xff\xff");
  EXPECT_EQ(e.sqlstate(), sqlstate::kInvalidBinaryRepresentation);
  EXPECT_EQ(e.context(), "COPY t, line 1, column a");
  EXPECT_EQ(parse_error(s, data + "x").message(), "received copy data after EOF marker");
}

TEST(CopyEncoder, TextAndCsv) {
  server::CopyOptions o;
  CopyEncoder text(o, int_text());
  std::string out;
  text.row({Datum::from_int(1), Datum::from_string("a\tb\\c\nd")}, out);
  text.row({Datum::from_int(2), Datum::null()}, out);
  EXPECT_EQ(out, "1\ta\\tb\\\\c\\nd\n2\t\\N\n");
  // And back.
  EXPECT_EQ(parse(spec(CopyFormat::kText), out), (std::vector<std::string>{"1|a\tb\\c\nd", "2|NULL"}));

  o.format = CopyFormat::kCsv;
  o.delimiter = ',';
  o.null_string = "";
  o.header = true;
  CopyEncoder csv(o, int_text());
  out.clear();
  csv.begin(out);
  csv.row({Datum::from_int(1), Datum::from_string("x,\"y\"")}, out);
  csv.row({Datum::from_int(2), Datum::from_string("")}, out);
  csv.row({Datum::from_int(3), Datum::null()}, out);
  EXPECT_EQ(out, "a,b\n1,\"x,\"\"y\"\"\"\n2,\"\"\n3,\n");
  auto s = spec(CopyFormat::kCsv);
  s.options.header = true;
  EXPECT_EQ(parse(s, out), (std::vector<std::string>{"1|x,\"y\"", "2|", "3|NULL"}));
  o.header = false;
  o.force_quote_all = true;
  CopyEncoder forced(o, int_text());
  out.clear();
  forced.row({Datum::from_int(1), Datum::from_string("z")}, out);
  EXPECT_EQ(out, "\"1\",\"z\"\n");
}

}  // namespace
}  // namespace freshet::pgwire
