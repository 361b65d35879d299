#pragma once
// COPY data formats (https://www.postgresql.org/docs/15/sql-copy.html, "File Formats"):
// text (tab-separated, backslash escapes, \N for NULL), csv (RFC 4180 with PostgreSQL's
// QUOTE / ESCAPE / NULL / FORCE_* options) and binary (the PGCOPY header, per tuple a field
// count and length-prefixed values in the types' binary send/recv form, binary_format.hpp).
//
// CopyParser turns the bytes of COPY FROM STDIN's CopyData messages into rows, incrementally:
// a message may end anywhere (inside a line, a quoted field, a binary value). CopyEncoder
// prints rows for COPY TO STDOUT. No I/O; unit-tested (copy_test.cpp) and fuzzed
// (fuzz_copy.cpp). Not thread-safe; one per COPY.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/arena.hpp"
#include "common/datum.hpp"
#include "common/row.hpp"
#include "common/types.hpp"
#include "server/copy_spec.hpp"

namespace freshet::pgwire {

// Text input of one value (the session's parse_parameter: reg* names through the catalog).
using CopyValueParser = std::function<Datum(std::string_view text, Type t, Arena& arena)>;
// Text output of one value (the session's format_value).
using CopyValueFormatter = std::function<void(const Datum& d, Type t, std::string& out)>;

struct CopyColumn {
  std::string name;
  Type type;
};

class CopyParser {
 public:
  // parse may be empty: parse_datum is used then.
  CopyParser(server::CopySpec spec, std::vector<CopyColumn> columns, CopyValueParser parse = {});

  // Parses what data completes; appends one Row (of the columns' types, in order) per input
  // row to out. Throws SqlError: 22P04 for malformed data, the type's SQLSTATE (22P02, 22003,
  // 22P03 ...) for a bad value, each with a CONTEXT naming the line (PostgreSQL's
  // "COPY t, line 3, column b: \"x\""). After a throw the parser must not be used again.
  void feed(std::string_view data, std::vector<Row>& out);
  // The end of the data (CopyDone): a last line without its newline is a row; a binary copy
  // must have ended with its trailer. Throws like feed().
  void finish(std::vector<Row>& out);

  // Input rows parsed so far (not counting the header line).
  uint64_t rows() const { return rows_; }
  // The current line number (1-based), as PostgreSQL counts it for CONTEXT: binary copies
  // count tuples.
  uint64_t line() const { return line_; }

 private:
  void parse_lines(bool at_end, std::vector<Row>& out);
  // One complete text/csv line (without its line terminator).
  void text_line(std::string_view line, std::vector<Row>& out);
  void csv_line(std::string_view line, std::vector<Row>& out);
  // Binary: parses what complete header and tuples there are.
  void parse_binary(std::vector<Row>& out);
  void emit_row(std::vector<Row>& out);
  Datum value(std::string_view text, size_t col);
  std::string context(std::string_view line) const;
  std::string column_context(size_t col, std::string_view value) const;
  [[noreturn]] void fail(const char* sqlstate, std::string message, std::string_view line);

  server::CopySpec spec_;
  std::vector<CopyColumn> columns_;
  CopyValueParser parse_;
  Arena arena_;
  std::vector<Datum> datums_;
  std::vector<std::pair<std::string, bool>> fields_;  // csv/text: (unescaped value, is NULL)
  std::string buf_;       // input not yet consumed
  size_t consumed_ = 0;   // bytes of buf_ already parsed
  size_t scan_ = 0;       // csv: how far the current line has been scanned for its end
  bool in_quote_ = false; // csv: the scan is inside a quoted field
  bool header_pending_ = false;
  bool binary_header_done_ = false;
  bool ended_ = false;    // the end-of-data marker (\. or the binary trailer) was seen
  uint64_t rows_ = 0;
  uint64_t line_ = 0;
};

class CopyEncoder {
 public:
  // format may be empty: format_datum is used then.
  CopyEncoder(server::CopyOptions options, std::vector<CopyColumn> columns, CopyValueFormatter format = {});
  // What comes before the first row: the binary signature and header, or a header line.
  void begin(std::string& out) const;
  // One row; d.size() == columns. Throws SqlError 0A000 for a type without a binary form.
  void row(const std::vector<Datum>& d, std::string& out);
  // What comes after the last row: the binary trailer (nothing for text and csv).
  void end(std::string& out) const;

 private:
  void text_value(std::string_view v, std::string& out) const;
  void csv_value(std::string_view v, bool force, std::string& out) const;
  server::CopyOptions options_;
  std::vector<CopyColumn> columns_;
  CopyValueFormatter format_;
  std::string scratch_;
};

// The 11-byte signature that starts a binary COPY file.
inline constexpr std::string_view kPgCopySignature{"PGCOPY\n\377\r\n\0", 11};

}  // namespace freshet::pgwire
