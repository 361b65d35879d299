#pragma once
// COPY in the server module (private to it): reading a CopyStmt's options, and the two
// Executions a COPY statement gives the front end (session.hpp, Execution::copy()). The
// statement executor (sequencer/copy.cpp, Executor::run_copy) resolves the table or query and
// supplies the load; the data formats themselves are pgwire/copy.hpp's.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <pg_query/pg_query.pb-c.h>

#include "server/session.hpp"

namespace freshet::server {

// The options of `COPY ... [WITH] (FORMAT csv, HEADER, DELIMITER ',', NULL '', QUOTE '"',
// ESCAPE '\', FORCE_QUOTE (a) | *, FORCE_NOT_NULL (a), FORCE_NULL (a), ENCODING 'UTF8')` and
// the old spellings (`WITH CSV HEADER`, `BINARY`), checked as PostgreSQL's ProcessCopyOptions
// does: 42601 for an unknown or repeated option, 0A000 for one the format or direction does
// not take, 22023 for a bad value. columns: the data's column names (FORCE_* lists).
CopySpec copy_spec(const PgQuery__CopyStmt& s, const std::vector<std::string>& columns, std::string relation);

// COPY FROM STDIN into a table: refuses files and PROGRAM (0A000, as for a non-superuser in
// PostgreSQL) and WHERE.
void check_copy_source(const PgQuery__CopyStmt& s);

// COPY TO STDOUT: the rows of inner, counted; tag "COPY n".
std::unique_ptr<Execution> make_copy_to(std::unique_ptr<Execution> inner, CopySpec spec);

// COPY FROM STDIN: rows are kept (up to memory_budget_bytes: 53200 past it) and handed to load
// at the end, which writes them as one transaction and returns the count. on_error runs when
// copy_in or the load fails (the session aborts its transaction block). cancelled (the
// session's flag: a CancelRequest during COPY IN) is looked at with every batch and before the
// load: 57014, nothing loaded.
using CopyLoad = std::function<uint64_t(std::vector<Row>& rows)>;
std::unique_ptr<Execution> make_copy_from(std::vector<Column> columns, CopySpec spec, uint64_t memory_budget_bytes,
                                          CopyLoad load, std::function<void()> on_error,
                                          const std::atomic<bool>* cancelled);

// "name" with quotes doubled, for building query text from catalog names.
std::string quote_identifier(const std::string& name);

}  // namespace freshet::server
