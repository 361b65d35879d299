// DECLARE, FETCH, MOVE.
#include "server/sequencer/executor.hpp"

namespace freshet::server {

std::unique_ptr<Execution> Executor::run_declare(const PgQuery__DeclareCursorStmt* s) {
  constexpr int32_t kBinary = 0x1, kNoScroll = 0x4, kHold = 0x20;  // PostgreSQL's CURSOR_OPT_*
  std::string name = s->portalname ? s->portalname : "";
  bool hold = (s->options & kHold) != 0;
  if (st_.txn != TransactionStatus::kInBlock && !hold)
    throw SqlError(sqlstate::kNoActiveSqlTransaction, "DECLARE CURSOR can only be used in transaction blocks");
  if (s->options & kBinary) throw SqlError(sqlstate::kFeatureNotSupported, "binary cursors are not supported");
  if (st_.cursors.contains(name)) throw SqlError(sqlstate::kDuplicateCursor, "cursor \"" + name + "\" already exists");
  if (!s->query || s->query->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
    throw SqlError(sqlstate::kFeatureNotSupported, "DECLARE CURSOR supports SELECT and SUBSCRIBE");
  // The result of the snapshot at DECLARE, kept: FETCH pages through it.
  std::unique_ptr<Execution> rows = run(s->query);
  st_.cursors.declare_rows(name, *rows, (s->options & kNoScroll) == 0, hold, st_.txn == TransactionStatus::kInBlock);
  note_declared(name);
  return done("DECLARE CURSOR");
}

std::unique_ptr<Execution> Executor::run_fetch(const PgQuery__FetchStmt* s) {
  std::string name = s->portalname ? s->portalname : "";
  CursorSet::Cursor& c = st_.cursors.get(name);
  using D = CursorSet::Direction;
  D d = D::kForward;
  switch (s->direction) {
    case PG_QUERY__FETCH_DIRECTION__FETCH_BACKWARD: d = D::kBackward; break;
    case PG_QUERY__FETCH_DIRECTION__FETCH_ABSOLUTE: d = D::kAbsolute; break;
    case PG_QUERY__FETCH_DIRECTION__FETCH_RELATIVE: d = D::kRelative; break;
    default: break;
  }
  int64_t count = s->how_many;
  if (c.stream) {
    if (d != D::kForward || count < 0) throw SqlError(sqlstate::kObjectNotInPrerequisiteState, "cursor can only scan forward");
    std::vector<Row> rows;
    size_t max = count == CursorSet::kAll ? 0 : static_cast<size_t>(count);
    if (s->ismove) throw SqlError(sqlstate::kFeatureNotSupported, "MOVE is not supported on a SUBSCRIBE cursor");
    if (max == 0 && count != CursorSet::kAll) return std::make_unique<MaterializedExecution>(c.columns, std::move(rows), "FETCH 0");
    c.stream->fetch(rows, max);
    std::string tag = "FETCH " + std::to_string(rows.size());
    return std::make_unique<MaterializedExecution>(c.columns, std::move(rows), tag);
  }
  std::vector<Row> rows;
  uint64_t n = st_.cursors.fetch(c, d, count, s->ismove ? nullptr : &rows);
  if (s->ismove) return done("MOVE " + std::to_string(n));
  return std::make_unique<MaterializedExecution>(c.columns, std::move(rows), "FETCH " + std::to_string(n));
}

}  // namespace freshet::server
