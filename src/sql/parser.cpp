#include "sql/parser.hpp"
#include "sql/mz_syntax.hpp"

#include <pthread.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "common/error.hpp"
#include "common/sql_dialect.hpp"
#include "common/stack_guard.hpp"
#include "common/sql_dialect.hpp"

namespace freshet::sql {

namespace {

// The deepest nesting of messages in a packed protobuf message of type `desc`, found without
// recursion (an explicit stack of descriptors): decoding it (protobuf-c recurses once per
// level) must not run out of stack. Stops counting past `limit`; SIZE_MAX when malformed.
size_t packed_depth(const ProtobufCMessageDescriptor* desc, const uint8_t* data, size_t len, size_t limit) {
  struct Frame {
    const ProtobufCMessageDescriptor* desc;
    size_t end;
  };
  std::vector<Frame> stack{{desc, len}};
  size_t pos = 0, deepest = 1;
  auto varint = [&](uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= len) return false;
      uint8_t b = data[pos++];
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  };
  while (!stack.empty()) {
    if (pos >= stack.back().end) {
      stack.pop_back();
      continue;
    }
    uint64_t tag, v;
    if (!varint(tag)) return SIZE_MAX;
    switch (tag & 7) {
      case 0:
        if (!varint(v)) return SIZE_MAX;
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        if (!varint(v) || v > stack.back().end - pos) return SIZE_MAX;
        size_t end = pos + static_cast<size_t>(v);
        const ProtobufCFieldDescriptor* f =
            protobuf_c_message_descriptor_get_field(stack.back().desc, static_cast<unsigned>(tag >> 3));
        if (f != nullptr && f->type == PROTOBUF_C_TYPE_MESSAGE) {
          stack.push_back({static_cast<const ProtobufCMessageDescriptor*>(f->descriptor), end});
          deepest = std::max(deepest, stack.size());
          if (deepest > limit) return deepest;
        } else {
          pos = end;
        }
        break;
      }
      default:
        return SIZE_MAX;
    }
    if (pos > stack.back().end) return SIZE_MAX;
  }
  return deepest;
}

// Stack that decoding and freeing one level of a packed parse tree may take (protobuf-c's
// unpack and free_unpacked recurse through each message), with room to spare.
constexpr size_t kStackPerLevelBytes = 1024;

// pg_query_parse_protobuf recurses through the tree as it serializes it; a statement can
// only nest as deep as it has tokens, so a long one is parsed on a thread whose stack fits
// its length (reserved, not committed: only what the recursion touches is used).
constexpr size_t kInlineParseMaxBytes = 16 * 1024;
constexpr size_t kParseStackPerByte = 256;  // a level needs at least two bytes ("1+")
constexpr size_t kParseStackMaxBytes = size_t{1} << 30;

PgQueryProtobufParseResult parse_protobuf(const std::string& sql) {
  if (sql.size() <= kInlineParseMaxBytes) return pg_query_parse_protobuf(sql.c_str());
  struct Job {
    const std::string* sql;
    PgQueryProtobufParseResult result;
  } job{&sql, {}};
  pthread_attr_t attr;
  pthread_t th;
  size_t stack = std::min(kParseStackMaxBytes, sql.size() * kParseStackPerByte + (size_t{8} << 20));
  bool started = pthread_attr_init(&attr) == 0 && pthread_attr_setstacksize(&attr, stack) == 0 &&
                 pthread_create(
                     &th, &attr,
                     [](void* p) -> void* {
                       auto* j = static_cast<Job*>(p);
                       j->result = pg_query_parse_protobuf(j->sql->c_str());
                       return nullptr;
                     },
                     &job) == 0;
  pthread_attr_destroy(&attr);
  // No thread (address space or thread limits): parse here, as before this guard existed;
  // only a pathologically nested statement of this size could then exhaust the stack.
  if (!started) return pg_query_parse_protobuf(sql.c_str());
  pthread_join(th, nullptr);
  return job.result;
}

}  // namespace

std::shared_ptr<ParseTree> ParseTree::parse(std::string_view sql) {
  if (auto tree = parse_bulk_insert(sql)) return tree;
  if (auto tree = parse_literal_insert(sql)) return tree;
  auto tree = parse_protobuf_tree(sql);
  remember_literal_insert(sql, *tree);
  return tree;
}

namespace {

// The byte offset of the 1-based character position pos (PostgreSQL counts characters).
size_t byte_offset_of_char(const std::string& s, int pos) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte
    if (++chars == static_cast<size_t>(pos)) return i;
  }
  return std::string::npos;
}

// Materialize (and PostgreSQL 16) allow a subquery or VALUES in FROM without an alias; PostgreSQL
// 15's grammar refuses it with 42601 at the subquery's '('. Adds the alias `"?subqueryN?"` (a name
// no one writes, so it cannot capture a reference) after the ')' matching the '(' at byte
// offset open, found with libpg_query's scanner so that parentheses inside strings, quoted
// names and comments do not count. False when open is not a '(' or has no match.
bool add_subquery_alias(std::string& sql, size_t open, int n) {
  if (open >= sql.size() || sql[open] != '(') return false;
  PgQueryScanResult r = pg_query_scan(sql.c_str());
  if (r.error) {
    pg_query_free_scan_result(r);
    return false;
  }
  PgQuery__ScanResult* scan = pg_query__scan_result__unpack(nullptr, r.pbuf.len, reinterpret_cast<const uint8_t*>(r.pbuf.data));
  pg_query_free_scan_result(r);
  if (scan == nullptr) return false;
  size_t close = std::string::npos;
  int depth = 0;
  for (size_t i = 0; i < scan->n_tokens; ++i) {
    const auto* t = scan->tokens[i];
    if (t->start < 0 || static_cast<size_t>(t->start) < open || t->end - t->start != 1) continue;
    char c = sql[static_cast<size_t>(t->start)];
    if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0) {
      close = static_cast<size_t>(t->start);
      break;
    }
  }
  pg_query__scan_result__free_unpacked(scan, nullptr);
  if (close == std::string::npos) return false;
  sql.insert(close + 1, " AS \"?subquery" + std::to_string(n) + "?\"");
  return true;
}

}  // namespace

namespace {
// libpg_query reports the grammar's errors without their SQLSTATE; most are syntax errors
// (42601), these few are raised by gram.y with another code (PostgreSQL 15's gram.y).
const char* grammar_error_sqlstate(std::string_view msg) {
  if (msg == "precision for type float must be at least 1 bit" ||
      msg == "precision for type float must be less than 54 bits")
    return sqlstate::kInvalidParameterValue;
  return sqlstate::kSyntaxError;
}
// Materialize's grammar reads `INSERT INTO t (` as the start of a column list, so a
// parenthesized query there is a syntax error (its returning.slt:76); PostgreSQL reads the
// query. The tree does not keep the parentheses: the text after the table name is looked at.
void mz_refuse_parenthesized_insert_query(const PgQuery__ParseResult& r, const std::string& sql) {
  for (size_t i = 0; i < r.n_stmts; ++i) {
    const PgQuery__Node* n = r.stmts[i]->stmt;
    if (n == nullptr || n->node_case != PG_QUERY__NODE__NODE_INSERT_STMT) continue;
    const auto* s = n->insert_stmt;
    if (s->n_cols != 0 || s->select_stmt == nullptr || s->relation == nullptr || s->relation->alias != nullptr ||
        s->relation->location < 0)
      continue;
    size_t p = static_cast<size_t>(s->relation->location);
    while (p < sql.size()) {  // the name: words, dots and "quoted" parts
      unsigned char c = static_cast<unsigned char>(sql[p]);
      if (c == '"') {
        for (++p; p < sql.size() && sql[p] != '"'; ++p) {
        }
        if (p < sql.size()) ++p;
      } else if (std::isalnum(c) || c == '_' || c == '.' || c == '$' || c >= 0x80) {
        ++p;
      } else {
        break;
      }
    }
    while (p < sql.size() && std::isspace(static_cast<unsigned char>(sql[p]))) ++p;
    if (p < sql.size() && sql[p] == '(')
      throw SqlError(sqlstate::kSyntaxError, "Expected right parenthesis, found a query", static_cast<int>(p) + 1);
  }
}

}  // namespace

bool has_word_ci(std::string_view s, std::string_view w) {
  for (size_t i = 0; i + w.size() <= s.size(); ++i) {
    size_t k = 0;
    while (k < w.size() && (s[i + k] | 0x20) == w[k]) ++k;
    if (k == w.size()) return true;
  }
  return false;
}

std::shared_ptr<ParseTree> ParseTree::parse_protobuf_tree(std::string_view sql) {
  std::shared_ptr<ParseTree> tree(new ParseTree());
  tree->sql_ = std::string(sql);
  // Materialize's `x::int list` (mz_syntax.hpp): the grammar would take `list` as an alias.
  if (tree->sql_.find("::") != std::string::npos) {
    auto lower_has_list = [](std::string_view s) {
      for (size_t i = 0; i + 4 <= s.size(); ++i)
        if ((s[i] | 0x20) == 'l' && (s[i + 1] | 0x20) == 'i' && (s[i + 2] | 0x20) == 's' && (s[i + 3] | 0x20) == 't') return true;
      return false;
    };
    if (lower_has_list(tree->sql_))
      if (auto alt = rewrite_mz_list_types(tree->sql_)) tree->sql_ = std::move(*alt);
  }
  if (materialize_dialect() && has_word_ci(tree->sql_, "interval"))
    if (auto alt = rewrite_mz_interval_units(tree->sql_)) tree->sql_ = std::move(*alt);
  PgQueryProtobufParseResult r = parse_protobuf(tree->sql_);
  // A subquery or VALUES in FROM without an alias: name it and parse again (each parse reports
  // only the first one; at most kMaxUnaliased of them).
  constexpr int kMaxUnaliased = 256;
  for (int n = 1; r.error && n <= kMaxUnaliased; ++n) {
    std::string_view m = r.error->message ? r.error->message : "";
    if (m != "subquery in FROM must have an alias" && m != "VALUES in FROM must have an alias") break;
    std::string fixed = tree->sql_;
    if (!add_subquery_alias(fixed, byte_offset_of_char(fixed, r.error->cursorpos), n)) break;
    pg_query_free_protobuf_parse_result(r);
    tree->sql_ = std::move(fixed);
    r = parse_protobuf(tree->sql_);
  }
  if (r.error) {
    std::string msg = r.error->message ? r.error->message : "syntax error";
    int pos = r.error->cursorpos;
    pg_query_free_protobuf_parse_result(r);
    // Materialize's window syntax (mz_syntax.hpp), tried only when the grammar refused.
    if (auto alt = rewrite_mz_syntax(sql)) {
      try {
        return parse_protobuf_tree(*alt);
      } catch (const SqlError&) {
      }
    }
    throw SqlError(grammar_error_sqlstate(msg), msg, pos);
  }
  // Refuse a tree too deep to decode, bind and free on this thread's stack (54001).
  size_t limit = stack_remaining_bytes() / kStackPerLevelBytes;
  size_t depth = packed_depth(&pg_query__parse_result__descriptor, reinterpret_cast<const uint8_t*>(r.parse_tree.data),
                              r.parse_tree.len, limit);
  if (depth > limit) {
    pg_query_free_protobuf_parse_result(r);
    throw SqlError(sqlstate::kStatementTooComplex, "statement too complex: stack depth limit exceeded")
        .with_hint("Simplify the statement: fewer nested expressions or subqueries.");
  }
  tree->result_ = pg_query__parse_result__unpack(nullptr, r.parse_tree.len,
                                                 reinterpret_cast<const uint8_t*>(r.parse_tree.data));
  pg_query_free_protobuf_parse_result(r);
  if (tree->result_ == nullptr) throw SqlError(sqlstate::kInternalError, "could not decode parse tree");
  if (materialize_dialect()) mz_refuse_parenthesized_insert_query(*tree->result_, tree->sql_);
  return tree;
}

ParseTree::~ParseTree() {
  if (bulk_values_) free_bulk_rows(bulk_values_);
  if (template_items_) {
    std::free(template_items_->items);  // the block: the items array starts it
    template_items_->items = nullptr;
    template_items_->n_items = 0;
  }
  if (result_) pg_query__parse_result__free_unpacked(result_, nullptr);
}

std::string ParseTree::packed() const {
  std::string buf(pg_query__parse_result__get_packed_size(result_), '\0');
  pg_query__parse_result__pack(result_, reinterpret_cast<uint8_t*>(buf.data()));
  return buf;
}

std::string ParseTree::statement_text(size_t i) const {
  const auto* raw = result_->stmts[i];
  size_t start = static_cast<size_t>(raw->stmt_location);
  size_t len = raw->stmt_len == 0 ? sql_.size() - start : static_cast<size_t>(raw->stmt_len);
  // libpg_query counts bytes; keep within bounds defensively.
  if (start > sql_.size()) start = sql_.size();
  if (start + len > sql_.size()) len = sql_.size() - start;
  std::string s = sql_.substr(start, len);
  size_t b = s.find_first_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b);
}

}  // namespace freshet::sql

namespace freshet::sql {

std::string deparse_statement(const PgQuery__Node* stmt) {
  PgQuery__RawStmt raw = PG_QUERY__RAW_STMT__INIT;
  raw.stmt = const_cast<PgQuery__Node*>(stmt);
  PgQuery__RawStmt* raws[1] = {&raw};
  PgQuery__ParseResult pr = PG_QUERY__PARSE_RESULT__INIT;
  pr.version = PG_VERSION_NUM;
  pr.n_stmts = 1;
  pr.stmts = raws;
  size_t len = pg_query__parse_result__get_packed_size(&pr);
  std::string buf(len, '\0');
  pg_query__parse_result__pack(&pr, reinterpret_cast<uint8_t*>(buf.data()));
  PgQueryProtobuf pb;
  pb.len = len;
  pb.data = buf.data();
  PgQueryDeparseResult r = pg_query_deparse_protobuf(pb);
  if (r.error) {
    std::string msg = r.error->message ? r.error->message : "deparse failed";
    pg_query_free_deparse_result(r);
    throw SqlError(sqlstate::kInternalError, "could not render statement: " + msg);
  }
  std::string out = r.query ? r.query : "";
  pg_query_free_deparse_result(r);
  return out;
}

std::string deparse_expr(const PgQuery__Node* expr) {
  PgQuery__ResTarget rt = PG_QUERY__RES_TARGET__INIT;
  rt.val = const_cast<PgQuery__Node*>(expr);
  PgQuery__Node rt_node = PG_QUERY__NODE__INIT;
  rt_node.node_case = PG_QUERY__NODE__NODE_RES_TARGET;
  rt_node.res_target = &rt;
  PgQuery__Node* targets[1] = {&rt_node};
  PgQuery__SelectStmt sel = PG_QUERY__SELECT_STMT__INIT;
  sel.n_target_list = 1;
  sel.target_list = targets;
  sel.op = PG_QUERY__SET_OPERATION__SETOP_NONE;
  sel.limit_option = PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_DEFAULT;
  PgQuery__Node node = PG_QUERY__NODE__INIT;
  node.node_case = PG_QUERY__NODE__NODE_SELECT_STMT;
  node.select_stmt = &sel;
  std::string s = deparse_statement(&node);
  // "SELECT <expr>"
  if (s.rfind("SELECT ", 0) == 0) s = s.substr(7);
  return s;
}

}  // namespace freshet::sql
