#pragma once
// What a COPY statement asks of the connection that runs it: the direction and the data
// format (PostgreSQL's COPY options). The server module reads these from the statement
// (server/copy.cpp); pgwire/copy.hpp parses and prints the data in that format.

#include <string>
#include <vector>

namespace freshet::server {

enum class CopyFormat { kText, kCsv, kBinary };

// PostgreSQL's COPY options (https://www.postgresql.org/docs/15/sql-copy.html), resolved:
// defaults filled in per format, column names turned into per-column flags.
struct CopyOptions {
  CopyFormat format = CopyFormat::kText;
  char delimiter = '\t';              // csv: ','
  std::string null_string = "\\N";    // csv: ""
  bool header = false;                // text and csv: the first line names the columns
  char quote = '"';                   // csv only
  char escape = '"';                  // csv only; defaults to quote
  bool force_quote_all = false;       // csv TO: FORCE_QUOTE *
  std::vector<bool> force_quote;      // csv TO: per column (empty: none)
  std::vector<bool> force_not_null;   // csv FROM: per column
  std::vector<bool> force_null;       // csv FROM: per column
};

struct CopySpec {
  bool from = false;       // COPY ... FROM STDIN; else COPY ... TO STDOUT
  std::string relation;    // the table's name for error context ("COPY t, line 3, ...")
  CopyOptions options;
};

}  // namespace freshet::server
