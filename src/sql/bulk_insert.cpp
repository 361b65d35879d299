// The parse of a bulk INSERT of literal rows without libpg_query's protobuf round trip.
//
// libpg_query hands its tree over as protobuf: it serializes the tree and we decode it again.
// For `INSERT INTO t VALUES (1, 'a', 2.5), (2, 'b', NULL), ...` with thousands of rows, that
// round trip is most of the statement's cost (about half of a 1,000-row INSERT's time; the
// grammar itself is 2%). So for a statement of exactly that shape, libpg_query parses the
// statement up to the end of its first row, and the remaining rows are scanned here into the
// same nodes PostgreSQL's grammar makes for them (A_Const: an Integer for an integer that fits
// int4, a Float holding the text of any other number, a String, a Boolean, NULL; a leading
// minus folded into the constant as the grammar's doNegate does). The binder then sees the
// tree it would have seen, so the semantics are the normal path's. Anything else in the rows
// (an expression, a cast, E'' strings, DEFAULT, comments, RETURNING, ON CONFLICT, rows of
// different lengths) falls back to the normal parse.

#include <cctype>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/sql_dialect.hpp"
#include "sql/parser.hpp"

namespace freshet::sql {

namespace {

// Statements shorter than this take the normal path: the round trip is cheap for them.
constexpr size_t kMinBytes = 1024;

struct Value {
  enum Kind : uint8_t { kInt, kFloat, kString, kBool, kNull } kind = kNull;
  int32_t ival = 0;
  bool bval = false;
  // kFloat: the number's text (with its sign); kString: the unescaped value. A view into the
  // statement (raw), or `unescaped` for a string with doubled quotes (owned).
  std::string_view raw;
  std::string unescaped;
  bool owned = false;
  int32_t location = 0;
  std::string_view text() const { return owned ? std::string_view(unescaped) : raw; }
};

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool eat(char c) {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  static bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
  static bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9') || c == '$'; }
  // A keyword, case-insensitively, not followed by an identifier character.
  bool keyword(std::string_view kw) {
    skip_ws();
    if (s_.size() - pos_ < kw.size()) return false;
    for (size_t i = 0; i < kw.size(); ++i) {
      char c = s_[pos_ + i];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (c != kw[i]) return false;
    }
    if (pos_ + kw.size() < s_.size() && ident_char(s_[pos_ + kw.size()])) return false;
    pos_ += kw.size();
    return true;
  }
  // An identifier (plain ASCII or double-quoted); its text is not needed.
  bool identifier() {
    skip_ws();
    if (pos_ >= s_.size()) return false;
    if (s_[pos_] == '"') {
      for (size_t i = pos_ + 1; i < s_.size(); ++i) {
        if (s_[i] != '"') continue;
        if (i + 1 < s_.size() && s_[i + 1] == '"') {
          ++i;
          continue;
        }
        pos_ = i + 1;
        return true;
      }
      return false;
    }
    if (!ident_start(s_[pos_])) return false;
    while (pos_ < s_.size() && ident_char(s_[pos_])) ++pos_;
    return true;
  }
  // What may follow a value: its row's ',' or ')', after blanks.
  bool value_ends() {
    size_t p = pos_;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t' || s_[p] == '\n' || s_[p] == '\r')) ++p;
    return p < s_.size() && (s_[p] == ',' || s_[p] == ')');
  }
  bool value(Value& v) {
    skip_ws();
    if (pos_ >= s_.size()) return false;
    v = Value{};
    v.location = static_cast<int32_t>(pos_);
    char c = s_[pos_];
    if (c == '\'') {
      const size_t start = pos_ + 1;
      bool doubled = false;
      size_t i = start;
      while (true) {
        if (i >= s_.size()) return false;
        if (s_[i] == '\'') {
          if (i + 1 < s_.size() && s_[i + 1] == '\'') {
            doubled = true;
            i += 2;
            continue;
          }
          break;
        }
        if (s_[i] == '\0') return false;
        ++i;
      }
      pos_ = i + 1;
      v.kind = Value::kString;
      v.raw = s_.substr(start, i - start);
      if (doubled) {  // '' stands for one quote
        for (size_t j = 0; j < v.raw.size(); ++j) {
          v.unescaped.push_back(v.raw[j]);
          if (v.raw[j] == '\'') ++j;
        }
        v.owned = true;
      }
      return value_ends();
    }
    bool negative = false;
    if (c == '-') {
      if (pos_ + 1 >= s_.size() || !(std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])) || s_[pos_ + 1] == '.')) return false;
      negative = true;
      ++pos_;
      c = s_[pos_];
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      size_t start = pos_;
      size_t digits = 0;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_, ++digits;
      bool is_float = false;
      if (pos_ < s_.size() && s_[pos_] == '.') {
        if (pos_ + 1 < s_.size() && s_[pos_ + 1] == '.') return false;  // "1..2"
        is_float = true;
        ++pos_;
        while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_, ++digits;
      }
      if (digits == 0) return false;
      if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
        size_t p = pos_ + 1;
        if (p < s_.size() && (s_[p] == '+' || s_[p] == '-')) ++p;
        if (p >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[p]))) return false;
        while (p < s_.size() && std::isdigit(static_cast<unsigned char>(s_[p]))) ++p;
        pos_ = p;
        is_float = true;
      }
      std::string_view num = s_.substr(start, pos_ - start);
      if (!value_ends()) return false;  // "12abc", "1.5::int", ...
      if (!is_float) {
        // The lexer's process_integer_literal: an int4 when it fits, else the text as a Float.
        uint64_t x = 0;
        bool fits = num.size() <= 10;
        for (char d : num) x = x * 10 + static_cast<uint64_t>(d - '0');
        fits = fits && x <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max());
        if (fits) {
          v.kind = Value::kInt;
          v.ival = negative ? -static_cast<int32_t>(x) : static_cast<int32_t>(x);
          return true;
        }
      }
      v.kind = Value::kFloat;
      v.raw = negative ? s_.substr(start - 1, pos_ - start + 1) : num;  // the '-' is right before
      return true;
    }
    if (negative) return false;
    if (keyword("NULL")) {
      v.kind = Value::kNull;
      return value_ends();
    }
    if (keyword("TRUE") || keyword("FALSE")) {
      v.kind = Value::kBool;
      v.bval = s_[static_cast<size_t>(v.location)] == 't' || s_[static_cast<size_t>(v.location)] == 'T';
      return value_ends();
    }
    return false;
  }
  bool row(std::vector<Value>& out) {
    if (!eat('(')) return false;
    while (true) {
      Value v;
      if (!value(v)) return false;
      out.push_back(std::move(v));
      if (eat(')')) return true;
      if (!eat(',')) return false;
    }
  }
  size_t pos() const { return pos_; }
  bool at_end() {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ';') ++pos_;
    skip_ws();
    return pos_ == s_.size();
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// The nodes of the rows after the first are carved from one malloc'd block (a few nodes per
// value, thousands of mallocs and frees a statement otherwise): the first thing carved, row 1's
// node, starts the block, and free_bulk_rows frees the block through it.
constexpr size_t kAlign = alignof(std::max_align_t);
constexpr size_t aligned(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

class Block {
 public:
  explicit Block(size_t bytes) : p_(static_cast<char*>(std::malloc(bytes))), end_(p_ + bytes) {
    if (p_ == nullptr) throw std::bad_alloc();
  }
  template <typename T>
  T* alloc() {
    return reinterpret_cast<T*>(take(sizeof(T)));
  }
  template <typename T>
  T* alloc_array(size_t n) {
    return reinterpret_cast<T*>(take(sizeof(T) * n));
  }
  char* dup(std::string_view s) {
    char* p = take(s.size() + 1);
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
  }

 private:
  char* take(size_t n) {
    n = aligned(n);
    FRESHET_ASSERT(static_cast<size_t>(end_ - p_) >= n);
    char* p = p_;
    p_ += n;
    return p;
  }
  char* p_;
  char* end_;
};

// The bytes const_node carves for v.
size_t const_node_bytes(const Value& v) {
  size_t n = aligned(sizeof(PgQuery__Node)) + aligned(sizeof(PgQuery__AConst));
  switch (v.kind) {
    case Value::kNull: break;
    case Value::kInt: n += aligned(sizeof(PgQuery__Integer)); break;
    case Value::kFloat: n += aligned(sizeof(PgQuery__Float)) + aligned(v.text().size() + 1); break;
    case Value::kString: n += aligned(sizeof(PgQuery__String)) + aligned(v.text().size() + 1); break;
    case Value::kBool: n += aligned(sizeof(PgQuery__Boolean)); break;
  }
  return n;
}

PgQuery__Node* const_node(const Value& v, Block& block) {
  auto alloc = [&]<typename T>(T*) { return block.template alloc<T>(); };
  auto dup = [&](std::string_view t) { return block.dup(t); };
  auto* c = alloc(static_cast<PgQuery__AConst*>(nullptr));
  pg_query__a__const__init(c);
  c->location = v.location;
  switch (v.kind) {
    case Value::kNull:
      c->isnull = 1;
      break;
    case Value::kInt: {
      auto* i = alloc(static_cast<PgQuery__Integer*>(nullptr));
      pg_query__integer__init(i);
      i->ival = v.ival;
      c->val_case = PG_QUERY__A__CONST__VAL_IVAL;
      c->ival = i;
      break;
    }
    case Value::kFloat: {
      auto* f = alloc(static_cast<PgQuery__Float*>(nullptr));
      pg_query__float__init(f);
      f->fval = dup(v.text());
      c->val_case = PG_QUERY__A__CONST__VAL_FVAL;
      c->fval = f;
      break;
    }
    case Value::kString: {
      auto* s = alloc(static_cast<PgQuery__String*>(nullptr));
      pg_query__string__init(s);
      s->sval = dup(v.text());
      c->val_case = PG_QUERY__A__CONST__VAL_SVAL;
      c->sval = s;
      break;
    }
    case Value::kBool: {
      auto* b = alloc(static_cast<PgQuery__Boolean*>(nullptr));
      pg_query__boolean__init(b);
      b->boolval = v.bval ? 1 : 0;
      c->val_case = PG_QUERY__A__CONST__VAL_BOOLVAL;
      c->boolval = b;
      break;
    }
  }
  auto* n = alloc(static_cast<PgQuery__Node*>(nullptr));
  pg_query__node__init(n);
  n->node_case = PG_QUERY__NODE__NODE_A_CONST;
  n->a_const = c;
  return n;
}

// Whether `a` is the A_Const the grammar made for `v` (the first row, parsed by libpg_query,
// checks the scanner's reading of the values).
bool same_const(const PgQuery__Node* n, const Value& v) {
  if (n == nullptr || n->node_case != PG_QUERY__NODE__NODE_A_CONST) return false;
  const PgQuery__AConst* c = n->a_const;
  switch (v.kind) {
    case Value::kNull:
      return c->isnull;
    case Value::kInt:
      return !c->isnull && c->val_case == PG_QUERY__A__CONST__VAL_IVAL && c->ival->ival == v.ival;
    case Value::kFloat:
      return !c->isnull && c->val_case == PG_QUERY__A__CONST__VAL_FVAL && c->fval->fval != nullptr && v.text() == c->fval->fval;
    case Value::kString:
      return !c->isnull && c->val_case == PG_QUERY__A__CONST__VAL_SVAL && c->sval->sval != nullptr && v.text() == c->sval->sval;
    case Value::kBool:
      return !c->isnull && c->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL && (c->boolval->boolval != 0) == v.bval;
  }
  return false;
}

}  // namespace

void ParseTree::free_bulk_rows(PgQuery__SelectStmt* sel) {
  // Rows 1.. were carved from one block, which row 1's node starts (parse_bulk_insert).
  if (sel->n_values_lists > 1) std::free(sel->values_lists[1]);
  if (sel->n_values_lists > 1) sel->n_values_lists = 1;
}

std::shared_ptr<ParseTree> ParseTree::parse_bulk_insert(std::string_view sql) {
  if (sql.size() < kMinBytes || sql.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) return nullptr;
  Scanner sc(sql);
  // INSERT INTO name[.name] [(col, ...)] VALUES
  if (!sc.keyword("INSERT") || !sc.keyword("INTO") || !sc.identifier()) return nullptr;
  if (sc.eat('.') && !sc.identifier()) return nullptr;
  if (sc.eat('(')) {
    do {
      if (!sc.identifier()) return nullptr;
    } while (sc.eat(','));
    if (!sc.eat(')')) return nullptr;
  }
  if (!sc.keyword("VALUES")) return nullptr;
  std::vector<std::vector<Value>> rows(1);
  if (!sc.row(rows[0])) return nullptr;
  const size_t first_end = sc.pos();
  const size_t width = rows[0].size();
  while (sc.eat(',')) {
    rows.emplace_back();
    if (!sc.row(rows.back()) || rows.back().size() != width) return nullptr;
  }
  const size_t stmt_end = sc.pos();
  if (rows.size() < 2 || !sc.at_end()) return nullptr;

  // The statement up to its first row, through the grammar.
  std::shared_ptr<ParseTree> tree;
  try {
    tree = parse_protobuf_tree(std::string(sql.substr(0, first_end)));
  } catch (const std::exception&) {
    return nullptr;  // the normal path reports the error with its position
  }
  if (tree->size() != 1 || tree->result_->stmts[0]->stmt_location != 0) return nullptr;
  PgQuery__Node* stmt = tree->result_->stmts[0]->stmt;
  if (stmt->node_case != PG_QUERY__NODE__NODE_INSERT_STMT) return nullptr;
  PgQuery__InsertStmt* ins = stmt->insert_stmt;
  if (ins->select_stmt == nullptr || ins->select_stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) return nullptr;
  PgQuery__SelectStmt* sel = ins->select_stmt->select_stmt;
  if (sel->n_values_lists != 1 || sel->values_lists[0]->node_case != PG_QUERY__NODE__NODE_LIST) return nullptr;
  const PgQuery__List* first = sel->values_lists[0]->list;
  if (first->n_items != width) return nullptr;
  for (size_t i = 0; i < width; ++i)
    if (!same_const(first->items[i], rows[0][i])) return nullptr;

  // The other rows, as the grammar would have made them, in one block (Block): each row its
  // node (row 1's starts the block), its list and items, then its values' nodes.
  size_t bytes = 0;
  for (size_t r = 1; r < rows.size(); ++r) {
    bytes += aligned(sizeof(PgQuery__Node)) + aligned(sizeof(PgQuery__List)) + aligned(sizeof(PgQuery__Node*) * width);
    for (const Value& v : rows[r]) bytes += const_node_bytes(v);
  }
  auto** lists = static_cast<PgQuery__Node**>(std::malloc(sizeof(PgQuery__Node*) * rows.size()));
  if (lists == nullptr) throw std::bad_alloc();
  Block block(bytes);  // no allocation fails from here on: nothing to undo halfway
  lists[0] = sel->values_lists[0];
  std::free(sel->values_lists);
  sel->values_lists = lists;
  for (size_t r = 1; r < rows.size(); ++r) {
    auto* n = block.alloc<PgQuery__Node>();
    auto* l = block.alloc<PgQuery__List>();
    auto** items = block.alloc_array<PgQuery__Node*>(width);
    pg_query__node__init(n);
    pg_query__list__init(l);
    n->node_case = PG_QUERY__NODE__NODE_LIST;
    n->list = l;
    l->items = items;
    for (size_t i = 0; i < width; ++i) items[i] = const_node(rows[r][i], block);
    l->n_items = width;
    lists[r] = n;
  }
  sel->n_values_lists = rows.size();
  tree->bulk_values_ = sel;  // from here on the destructor frees the added rows
  tree->sql_ = std::string(sql);
  tree->result_->stmts[0]->stmt_len = static_cast<int32_t>(stmt_end);
  return tree;
  tree->sql_ = std::string(sql);
  tree->result_->stmts[0]->stmt_len = static_cast<int32_t>(stmt_end);
  return tree;
}

// ---- one-row INSERTs from a template ----------------------------------------------------------
//
// A client that inserts one row per statement sends the same text up to VALUES every time and
// other constants in its row. The grammar and libpg_query's protobuf round trip cost about a
// fifth of such a statement's server CPU (bench/README.md, "Concurrency"). The first such
// statement a thread parses goes through the grammar, and its tree, without the row's items, is
// kept as protobuf bytes under the statement's text up to VALUES; a later one with the same
// text there is that tree decoded again with its own row's constants made by the scanner above
// (as for a bulk INSERT's later rows). The text up to VALUES decides the grammar's reading of
// it (a row of constants after it is always valid and read the same way), so the tree is the
// grammar's (src/sql/parser_test.cpp compares them byte for byte).

namespace {

constexpr size_t kTemplateMaxBytes = 4096;   // longer statements take the grammar
constexpr size_t kTemplatesPerThread = 8;

struct InsertTemplate {
  std::string prefix;  // the statement's text up to and including VALUES
  std::string packed;  // its tree without its row's items
};
thread_local std::vector<InsertTemplate> t_templates;
thread_local size_t t_next_template = 0;

struct LiteralInsert {
  size_t prefix_end = 0;  // just after VALUES
  std::vector<Value> row;
  size_t semicolon = std::string_view::npos;  // the statement's ';', when it has one
};

// `INSERT INTO name[.name] [(col, ...)] VALUES (v, ...) [;]`, every v a constant the scanner
// reads; nullopt for anything else.
std::optional<LiteralInsert> scan_literal_insert(std::string_view sql) {
  if (sql.size() > kTemplateMaxBytes) return std::nullopt;
  // Text that parse_protobuf_tree rewrites before the grammar sees it is left to it.
  if (sql.find("::") != std::string_view::npos || (materialize_dialect() && has_word_ci(sql, "interval"))) return std::nullopt;
  Scanner sc(sql);
  if (!sc.keyword("INSERT") || !sc.keyword("INTO") || !sc.identifier()) return std::nullopt;
  if (sc.eat('.') && !sc.identifier()) return std::nullopt;
  if (sc.eat('(')) {
    do {
      if (!sc.identifier()) return std::nullopt;
    } while (sc.eat(','));
    if (!sc.eat(')')) return std::nullopt;
  }
  if (!sc.keyword("VALUES")) return std::nullopt;
  LiteralInsert li;
  li.prefix_end = sc.pos();
  if (!sc.row(li.row)) return std::nullopt;
  sc.skip_ws();
  if (sc.pos() < sql.size() && sql[sc.pos()] == ';') li.semicolon = sc.pos();
  if (!sc.at_end()) return std::nullopt;
  return li;
}

// The one row's list of a tree of that shape, or null.
PgQuery__List* literal_row(PgQuery__ParseResult* r) {
  if (r == nullptr || r->n_stmts != 1 || r->stmts[0]->stmt == nullptr) return nullptr;
  const PgQuery__Node* stmt = r->stmts[0]->stmt;
  if (stmt->node_case != PG_QUERY__NODE__NODE_INSERT_STMT) return nullptr;
  const PgQuery__InsertStmt* ins = stmt->insert_stmt;
  if (ins->with_clause != nullptr || ins->on_conflict_clause != nullptr || ins->n_returning_list != 0) return nullptr;
  if (ins->select_stmt == nullptr || ins->select_stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) return nullptr;
  const PgQuery__SelectStmt* sel = ins->select_stmt->select_stmt;
  if (sel->n_values_lists != 1 || sel->values_lists[0]->node_case != PG_QUERY__NODE__NODE_LIST) return nullptr;
  return sel->values_lists[0]->list;
}

}  // namespace

void ParseTree::remember_literal_insert(std::string_view sql, ParseTree& tree) {
  if (tree.bulk_values_ != nullptr || tree.template_items_ != nullptr || tree.sql_ != sql) return;
  auto li = scan_literal_insert(sql);
  if (!li) return;
  PgQuery__List* list = literal_row(tree.result_);
  if (list == nullptr || list->n_items != li->row.size()) return;
  for (size_t i = 0; i < list->n_items; ++i)
    if (!same_const(list->items[i], li->row[i])) return;  // the scanner read it otherwise: no template
  std::string_view prefix = sql.substr(0, li->prefix_end);
  const size_t n = list->n_items;
  PgQuery__Node** items = list->items;
  list->n_items = 0;
  list->items = nullptr;
  std::string packed = tree.packed();
  list->n_items = n;
  list->items = items;
  for (auto& t : t_templates)
    if (t.prefix == prefix) {
      t.packed = std::move(packed);
      return;
    }
  if (t_templates.size() < kTemplatesPerThread) {
    t_templates.push_back({std::string(prefix), std::move(packed)});
  } else {
    t_templates[t_next_template] = {std::string(prefix), std::move(packed)};
    t_next_template = (t_next_template + 1) % kTemplatesPerThread;
  }
}

std::shared_ptr<ParseTree> ParseTree::parse_literal_insert(std::string_view sql) {
  if (t_templates.empty()) return nullptr;
  auto li = scan_literal_insert(sql);
  if (!li) return nullptr;
  std::string_view prefix = sql.substr(0, li->prefix_end);
  const InsertTemplate* tmpl = nullptr;
  for (const auto& t : t_templates)
    if (t.prefix == prefix) tmpl = &t;
  if (tmpl == nullptr) return nullptr;
  std::shared_ptr<ParseTree> tree(new ParseTree());
  tree->result_ = pg_query__parse_result__unpack(nullptr, tmpl->packed.size(), reinterpret_cast<const uint8_t*>(tmpl->packed.data()));
  PgQuery__List* list = literal_row(tree->result_);
  if (list == nullptr || list->n_items != 0) return nullptr;
  // The items array starts the block, so that freeing it frees the nodes too (the destructor).
  const size_t width = li->row.size();
  size_t bytes = aligned(sizeof(PgQuery__Node*) * width);
  for (const Value& v : li->row) bytes += const_node_bytes(v);
  Block block(bytes);
  auto** items = block.alloc_array<PgQuery__Node*>(width);
  for (size_t i = 0; i < width; ++i) items[i] = const_node(li->row[i], block);
  list->items = items;
  list->n_items = width;
  tree->template_items_ = list;
  // As the grammar: the length up to the ';' that ends the statement, 0 when none does.
  PgQuery__RawStmt* raw = tree->result_->stmts[0];
  raw->stmt_len = li->semicolon == std::string_view::npos ? 0 : static_cast<int32_t>(li->semicolon) - raw->stmt_location;
  tree->sql_ = std::string(sql);
  return tree;
}

}  // namespace freshet::sql
