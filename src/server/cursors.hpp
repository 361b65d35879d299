#pragma once
// The cursors of one session (private to the server module): DECLARE ... CURSOR FOR SELECT
// (materialized at DECLARE: the rows of its snapshot, scrollable unless NO SCROLL) and
// DECLARE ... CURSOR FOR SUBSCRIBE (a running subscription, forward only); FETCH, MOVE,
// CLOSE, and their lifetime across transactions as PostgreSQL has it: a cursor without
// HOLD closes at the end of its transaction; WITH HOLD survives COMMIT (and later
// ROLLBACKs), but not the ROLLBACK of the transaction that declared it.
//
// Thread: owned by the session's connection thread, like Session::State.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "server/session.hpp"

namespace freshet::server {

class CursorSet {
 public:
  struct Cursor {
    std::vector<Column> columns;
    std::unique_ptr<Execution> stream;  // SUBSCRIBE: fetched as it runs
    std::vector<Row> rows;              // SELECT: the result, and the position in it
    // PostgreSQL's position: 0 before the first row, k on row k, rows.size() + 1 after the last.
    size_t pos = 0;
    bool scroll = true;
    bool hold = false;
    bool declared_in_block = false;
    // pg_cursors: the query string that declared it, and that statement's start time
    // (microseconds since 2000-01-01, timestamptz).
    std::string statement;
    int64_t creation_time_us = 0;
  };
  enum class Direction { kForward, kBackward, kAbsolute, kRelative };
  static constexpr int64_t kAll = INT64_MAX;  // FETCH ALL / FORWARD ALL / BACKWARD ALL

  bool contains(const std::string& name) const { return cursors_.count(name) != 0; }
  // null when there is no such cursor.
  Cursor* find(const std::string& name);
  // Throws 34000 when there is no such cursor.
  Cursor& get(const std::string& name);

  // REQUIRES: !contains(name) (the caller answers 42P03).
  void declare_stream(const std::string& name, std::unique_ptr<Execution> exec, bool in_block);
  // Runs exec to its end and keeps its rows. Throws what exec's fetch throws.
  void declare_rows(const std::string& name, Execution& exec, bool scroll, bool hold, bool in_block);

  // FETCH (out set) or MOVE (out null) on a SELECT cursor: the rows passed over, in the order
  // fetched; returns their count. A NO SCROLL cursor refuses to move backward (55000).
  uint64_t fetch(Cursor& c, Direction d, int64_t count, std::vector<Row>* out);

  void close(const std::string& name);  // 34000 when unknown
  void close_all() { cursors_.clear(); }
  // Every open cursor by name (pg_cursors).
  const std::map<std::string, Cursor>& all() const { return cursors_; }
  // COMMIT (commit) or ROLLBACK / an aborted block (!commit).
  void end_transaction(bool commit);

 private:
  std::map<std::string, Cursor> cursors_;
};

}  // namespace freshet::server
