#pragma once
// The Materialize dialect of sqllogictest (`slt_runner --dialect materialize`).
//
// Materialize's test/sqllogictest/*.slt files extend SQLite's format: `mode cockroach|standard`,
// `query <types> [nosort|rowsort|valuesort|partialsort(..)][,colnames][,multiline]`, `simple
// [conn=..,user=..,rowsort,multiline]` blocks whose output is the simple-query protocol's rows
// and `COMPLETE n` lines, `statement count n`, `query error <regex>`, `reset-server`. Values are
// formatted the way Materialize's own runner (src/sqllogictest/src/runner.rs) formats them, from
// the column's type OID and its text value. See tools/slt/README.md for the rules and for how
// each record is classified.
//
// Single-threaded; one main connection plus one per `conn=` name.

#include <string>
#include <vector>

namespace freshet::slt {

struct MzOptions {
  std::string host = "127.0.0.1";
  std::string port = "6875";
  std::string user = "freshet";
  std::string db = "freshet";
  std::string engine = "postgresql";
  std::vector<std::string> engine_aliases;
  int timeout_ms = 30000;
  int failures_shown_max = 5;
  bool verbose = false;
  // Appends one line per record to this file:
  // `file<TAB>line<TAB>class<TAB>result signature<TAB>detail<TAB>sql`.
  std::string records_out;
  // `reset-server` runs this shell command (when set) to replace the server by a fresh one on
  // the same port, as Materialize's runner starts a new server with an empty catalog; without
  // it, reset-server drops the user's tables and views only.
  std::string reset_command;
  std::vector<std::string> files;
};

// Runs every file; prints per-file counts and the per-class totals. Exit status 0 iff every
// record passed.
int run_materialize(const MzOptions& opt);

}  // namespace freshet::slt
