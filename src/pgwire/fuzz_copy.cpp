// Fuzz target for the COPY data parsers (copy.hpp): the first byte picks the format (text,
// csv, binary) and options (header, another delimiter, quote and escape), the second how the
// data is cut into CopyData pieces; the rest is the data. Every input must end in rows or a
// SqlError, never a crash, an assertion or a sanitizer report. Rows that parse are printed
// back in the same format and parsed again: printing that must give the same bytes
// (parse → print → parse → print is stable). README.md says how to run it under libFuzzer.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "pgwire/copy.hpp"

namespace {

using namespace freshet;
using namespace freshet::pgwire;

const std::vector<CopyColumn>& columns() {
  static const std::vector<CopyColumn> cols = {
      {"i", Type(TypeId::kInt4)},    {"t", Type(TypeId::kText)},   {"n", Type(TypeId::kNumeric)},
      {"d", Type(TypeId::kDate)},    {"b", Type(TypeId::kBytea)},  {"f", Type(TypeId::kFloat8)},
      {"ok", Type(TypeId::kBool)},   {"ts", Type(TypeId::kTimestampTz)}};
  return cols;
}

server::CopySpec spec_for(uint8_t sel, size_t ncols) {
  server::CopySpec s;
  s.from = true;
  s.relation = "fuzz";
  auto& o = s.options;
  switch (sel % 3) {
    case 0: o.format = server::CopyFormat::kText; break;
    case 1:
      o.format = server::CopyFormat::kCsv;
      o.delimiter = ',';
      o.null_string = "";
      break;
    default: o.format = server::CopyFormat::kBinary; break;
  }
  if (o.format != server::CopyFormat::kBinary) {
    o.header = (sel & 0x04) != 0;
    if (sel & 0x08) o.delimiter = '|';
  }
  if (o.format == server::CopyFormat::kCsv) {
    if (sel & 0x10) o.escape = '\\';
    if (sel & 0x20) o.quote = '\'';
    if (o.escape == '"' || (sel & 0x10) == 0) o.escape = o.quote;
    if (sel & 0x40) o.force_null.assign(ncols, true);
    if (sel & 0x80) o.force_not_null.assign(ncols, true);
  }
  return s;
}

// Parses data in pieces of `chunk` bytes (0: at once). Throws SqlError.
std::vector<Row> parse(const server::CopySpec& spec, const std::vector<CopyColumn>& cols, std::string_view data,
                       size_t chunk) {
  CopyParser p(spec, cols);
  std::vector<Row> rows;
  if (chunk == 0) chunk = data.size() + 1;
  for (size_t i = 0; i < data.size(); i += chunk) p.feed(data.substr(i, chunk), rows);
  p.finish(rows);
  return rows;
}

std::string print(const server::CopySpec& spec, const std::vector<CopyColumn>& cols, const std::vector<Row>& rows) {
  server::CopyOptions o = spec.options;
  o.force_quote_all = false;
  CopyEncoder enc(o, cols);
  std::string out;
  enc.begin(out);
  for (const Row& r : rows) enc.row(r.unpack(), out);
  enc.end(out);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t sel = data[0];
  const size_t chunk = data[1] % 8 == 0 ? 0 : data[1] % 8;
  const size_t ncols = 1 + data[2] % columns().size();
  std::vector<CopyColumn> cols(columns().begin(), columns().begin() + static_cast<std::ptrdiff_t>(ncols));
  server::CopySpec spec = spec_for(sel, ncols);
  std::string_view input(reinterpret_cast<const char*>(data + 3), size - 3);
  std::vector<Row> rows;
  try {
    rows = parse(spec, cols, input, chunk);
  } catch (const SqlError&) {
    return 0;  // malformed input: an error is the right answer
  }
  // What parsed prints and parses back; printing that again gives the same bytes. FORCE_NULL
  // and FORCE_NOT_NULL only change how input is read, not what is printed: drop them.
  spec.options.force_null.clear();
  spec.options.force_not_null.clear();
  std::string once;
  try {
    once = print(spec, cols, rows);
  } catch (const SqlError&) {
    return 0;  // a value without an output form (a numeric infinity in binary)
  }
  std::vector<Row> again = parse(spec, cols, once, 0);
  FRESHET_ASSERT(again.size() == rows.size());
  std::string twice = print(spec, cols, again);
  FRESHET_ASSERT(twice == once);
  return 0;
}
