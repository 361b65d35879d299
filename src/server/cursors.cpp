#include "server/cursors.hpp"

#include "common/error.hpp"

namespace freshet::server {

CursorSet::Cursor* CursorSet::find(const std::string& name) {
  auto it = cursors_.find(name);
  return it == cursors_.end() ? nullptr : &it->second;
}

CursorSet::Cursor& CursorSet::get(const std::string& name) {
  Cursor* c = find(name);
  if (!c) throw SqlError(sqlstate::kInvalidCursorName, "cursor \"" + name + "\" does not exist");
  return *c;
}

void CursorSet::declare_stream(const std::string& name, std::unique_ptr<Execution> exec, bool in_block) {
  Cursor c;
  c.columns = exec->columns();
  c.stream = std::move(exec);
  c.scroll = false;
  c.declared_in_block = in_block;
  cursors_[name] = std::move(c);
}

void CursorSet::declare_rows(const std::string& name, Execution& exec, bool scroll, bool hold, bool in_block) {
  Cursor c;
  c.columns = exec.columns();
  while (exec.fetch(c.rows, 0)) {
  }
  c.scroll = scroll;
  c.hold = hold;
  c.declared_in_block = in_block;
  cursors_[name] = std::move(c);
}

uint64_t CursorSet::fetch(Cursor& c, Direction d, int64_t count, std::vector<Row>* out) {
  const auto n = static_cast<int64_t>(c.rows.size());
  auto pos = static_cast<int64_t>(c.pos);
  auto backward = [&] {
    if (!c.scroll)
      throw SqlError(sqlstate::kObjectNotInPrerequisiteState, "cursor can only scan forward")
          .with_hint("Declare it with SCROLL option to enable backward scan.");
  };
  auto take = [&](int64_t k) {
    if (out) out->push_back(c.rows[static_cast<size_t>(k - 1)]);
  };
  uint64_t got = 0;
  // FORWARD 0 and BACKWARD 0 re-fetch the current row, as RELATIVE 0.
  if ((d == Direction::kForward || d == Direction::kBackward) && count == 0) {
    d = Direction::kRelative;
  }
  if (d == Direction::kForward && count < 0) {
    d = Direction::kBackward;
    count = count == INT64_MIN ? kAll : -count;
  } else if (d == Direction::kBackward && count < 0) {
    d = Direction::kForward;
    count = count == INT64_MIN ? kAll : -count;
  }
  switch (d) {
    case Direction::kForward: {
      while (count > 0 && pos <= n) {
        ++pos;
        if (pos > n) break;
        take(pos);
        ++got;
        --count;
      }
      break;
    }
    case Direction::kBackward: {
      backward();
      while (count > 0 && pos >= 1) {
        --pos;
        if (pos < 1) break;
        take(pos);
        ++got;
        --count;
      }
      break;
    }
    case Direction::kAbsolute:
    case Direction::kRelative: {
      int64_t target;
      if (d == Direction::kAbsolute) target = count >= 0 ? count : n + 1 + count;
      else target = pos + count;
      if (target < pos) backward();
      if (target < 1) {
        pos = 0;
      } else if (target > n) {
        pos = n + 1;
      } else {
        pos = target;
        take(pos);
        got = 1;
      }
      break;
    }
  }
  c.pos = static_cast<size_t>(pos);
  return got;
}

void CursorSet::close(const std::string& name) {
  if (cursors_.erase(name) == 0) throw SqlError(sqlstate::kInvalidCursorName, "cursor \"" + name + "\" does not exist");
}

void CursorSet::end_transaction(bool commit) {
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    Cursor& c = it->second;
    bool keep = c.hold && (commit || !c.declared_in_block);
    if (!keep) {
      it = cursors_.erase(it);
      continue;
    }
    c.declared_in_block = false;
    ++it;
  }
}

}  // namespace freshet::server
