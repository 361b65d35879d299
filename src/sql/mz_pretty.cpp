#include "sql/mz_pretty.hpp"

#include <algorithm>
#include <climits>
#include <cctype>
#include <cstring>
#include <memory>
#include <set>

#include "common/error.hpp"
#include "common/stack_guard.hpp"
#include "sql/parser.hpp"

namespace freshet::sql::mz {

namespace {

// ---------------------------------------------------------------------------------------------
// The document model of the Rust `pretty` crate (the subset mz_sql_pretty uses): text, `line`
// (a newline, or a space when its group is flat), `line_` (a newline, or nothing), nest,
// group and concatenation, and its renderer (`best`: a group is flat when it fits, up to the
// first possible newline after it, within the width).
struct Doc;
using D = std::shared_ptr<const Doc>;
struct Doc {
  enum class Kind : unsigned char { kNil, kText, kLine, kLineEmpty, kConcat, kNest, kGroup };
  Kind kind = Kind::kNil;
  std::string text;
  int indent = 0;
  std::vector<D> kids;
};

D text(std::string s) {
  auto d = std::make_shared<Doc>();
  d->kind = Doc::Kind::kText;
  d->text = std::move(s);
  return d;
}
D line() {
  auto d = std::make_shared<Doc>();
  d->kind = Doc::Kind::kLine;
  return d;
}
D line_() {
  auto d = std::make_shared<Doc>();
  d->kind = Doc::Kind::kLineEmpty;
  return d;
}
D concat(std::vector<D> v) {
  auto d = std::make_shared<Doc>();
  d->kind = Doc::Kind::kConcat;
  d->kids = std::move(v);
  return d;
}
D nest_by(int indent, D x) {
  auto d = std::make_shared<Doc>();
  d->kind = Doc::Kind::kNest;
  d->indent = indent;
  d->kids = {std::move(x)};
  return d;
}
D group(D x) {
  auto d = std::make_shared<Doc>();
  d->kind = Doc::Kind::kGroup;
  d->kids = {std::move(x)};
  return d;
}
D intersperse(const std::vector<D>& v, const D& sep) {
  std::vector<D> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out.push_back(sep);
    out.push_back(v[i]);
  }
  return concat(std::move(out));
}

enum class Mode : unsigned char { kBreak, kFlat };
struct Cmd {
  size_t indent;
  Mode mode;
  const Doc* doc;
};

class Renderer {
 public:
  explicit Renderer(size_t width) : width_(width) {}

  std::string render(const Doc& root) {
    bcmds_.push_back({0, Mode::kBreak, &root});
    while (!bcmds_.empty()) {
      Cmd c = bcmds_.back();
      bcmds_.pop_back();
      switch (c.doc->kind) {
        case Doc::Kind::kNil: break;
        case Doc::Kind::kConcat:
          for (size_t i = c.doc->kids.size(); i-- > 0;) bcmds_.push_back({c.indent, c.mode, c.doc->kids[i].get()});
          break;
        case Doc::Kind::kGroup: {
          Mode m = c.mode;
          if (m == Mode::kBreak && fits(c.doc->kids[0].get())) m = Mode::kFlat;
          bcmds_.push_back({c.indent, m, c.doc->kids[0].get()});
          break;
        }
        case Doc::Kind::kNest:
          bcmds_.push_back({c.indent + static_cast<size_t>(c.doc->indent), c.mode, c.doc->kids[0].get()});
          break;
        case Doc::Kind::kLine:
        case Doc::Kind::kLineEmpty:
          if (c.mode == Mode::kBreak) {
            out_ += '\n';
            out_.append(c.indent, ' ');
            pos_ = c.indent;
          } else if (c.doc->kind == Doc::Kind::kLine) {
            out_ += ' ';
            pos_ += 1;
          }
          break;
        case Doc::Kind::kText:
          out_ += c.doc->text;
          pos_ += c.doc->text.size();
          break;
      }
    }
    return std::move(out_);
  }

 private:
  // The pretty crate's `fitting`: `next` flat, then what follows it in the modes it will be
  // printed in taken as broken, until the first newline; false once past the width.
  bool fits(const Doc* next) {
    size_t pos = pos_;
    size_t bidx = bcmds_.size();
    std::vector<const Doc*> f{next};
    Mode mode = Mode::kFlat;
    for (;;) {
      const Doc* d;
      if (f.empty()) {
        if (bidx == 0) return true;
        --bidx;
        mode = Mode::kBreak;
        d = bcmds_[bidx].doc;
      } else {
        d = f.back();
        f.pop_back();
      }
      switch (d->kind) {
        case Doc::Kind::kNil: break;
        case Doc::Kind::kConcat:
          for (size_t i = d->kids.size(); i-- > 0;) f.push_back(d->kids[i].get());
          break;
        case Doc::Kind::kNest:
        case Doc::Kind::kGroup: f.push_back(d->kids[0].get()); break;
        case Doc::Kind::kLine:
          if (mode == Mode::kBreak) return true;
          pos += 1;
          if (pos > width_) return false;
          break;
        case Doc::Kind::kLineEmpty:
          if (mode == Mode::kBreak) return true;
          break;
        case Doc::Kind::kText:
          pos += d->text.size();
          if (pos > width_) return false;
          break;
      }
    }
  }

  size_t width_;
  size_t pos_ = 0;
  std::vector<Cmd> bcmds_;
  std::string out_;
};

std::string render(const D& d, size_t width) { return Renderer(width).render(*d); }
// The flat text of a document: Materialize's AstDisplay of the same node, for the nodes whose
// display and document agree (the callers that differ build their text themselves).
std::string flat(const D& d) { return render(group(d), static_cast<size_t>(-1) / 2); }

// mz_sql_pretty's util.rs.
constexpr int kTab = 4;
D intersperse_line_nest(const std::vector<D>& v) { return group(nest_by(kTab, intersperse(v, line()))); }
D nest(D a, D b) { return intersperse_line_nest({std::move(a), std::move(b)}); }
D nest_title(std::string title, D v) { return nest(text(std::move(title)), std::move(v)); }
D comma_separated(const std::vector<D>& v) { return group(intersperse(v, concat({text(","), line()}))); }
D title_comma_separate(std::string title, const std::vector<D>& v) {
  if (v.empty()) return text(std::move(title));
  return nest(text(std::move(title)), comma_separated(v));
}
D bracket_doc(D left, D d, D right, const D& ln) {
  return group(concat({std::move(left), nest_by(kTab, concat({ln, std::move(d)})), ln, std::move(right)}));
}
D bracket(std::string left, D d, std::string right) { return bracket_doc(text(std::move(left)), std::move(d), text(std::move(right)), line_()); }

// ---------------------------------------------------------------------------------------------

struct Unsupported {};

std::string_view str(const char* s) { return s ? std::string_view(s) : std::string_view(); }
bool ieq_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

std::string string_node(const PgQuery__Node* n) {
  if (n == nullptr || n->node_case != PG_QUERY__NODE__NODE_STRING) throw Unsupported{};
  return std::string(str(n->string->sval));
}

std::string quote_string(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// Materialize's functions outside pg_catalog (src/sql/src/func.rs MZ_CATALOG_BUILTINS and
// MZ_INTERNAL_BUILTINS); an unqualified function is resolved through mz_catalog first, as its
// search path puts mz_catalog before pg_catalog.
const std::set<std::string, std::less<>>& mz_catalog_functions() {
  static const std::set<std::string, std::less<>> s = {
      "constant_time_eq", "csv_extract", "concat_agg", "crc32", "datediff", "has_cluster_privilege",
      "has_connection_privilege", "has_role", "has_secret_privilege", "has_system_privilege", "has_type_privilege",
      "kafka_murmur2", "list_agg", "list_append", "list_cat", "list_n_layers", "list_length", "list_length_max",
      "list_prepend", "list_remove", "map_agg", "map_build", "map_length", "mz_environment_id", "mz_is_superuser",
      "mz_logical_timestamp", "mz_now", "mz_uptime", "mz_version", "mz_version_num", "pretty_sql", "regexp_extract",
      "repeat_row_non_negative", "seahash", "starts_with", "timezone_offset",
      "try_parse_monotonic_iso8601_timestamp", "unnest"};
  return s;
}
const std::set<std::string, std::less<>>& mz_internal_functions() {
  static const std::set<std::string, std::less<>> s = {
      "aclitem_grantor", "aclitem_grantee", "aclitem_privileges", "is_rbac_enabled", "make_mz_aclitem",
      "mz_acl_item_contains_privilege", "mz_aclexplode", "mz_aclitem_grantor", "mz_aclitem_grantee",
      "mz_aclitem_privileges", "mz_connection_oid", "mz_format_privileges", "mz_name_rank", "mz_resolve_object_name",
      "mz_minimal_name_qualification", "mz_global_id_to_name", "mz_normalize_object_name", "mz_normalize_schema_name",
      "mz_render_typmod", "mz_role_oid_memberships", "mz_database_oid", "mz_schema_oid", "mz_role_oid",
      "mz_secret_oid", "mz_session_id", "mz_type_name", "mz_validate_privileges", "mz_validate_role_privilege",
      "parse_catalog_create_sql", "parse_catalog_id", "parse_catalog_privileges", "redact_sql"};
  return s;
}

// Binding strength, for the parentheses PostgreSQL's tree no longer has (Materialize's
// parser's precedence; higher binds tighter).
enum Prec : int { kOr = 1, kAnd, kNot, kIs, kCmp, kLike, kOther, kAdd, kMul, kExp, kUnary, kCast, kAtom };

int op_prec(std::string_view op, bool binary) {
  if (!binary) return kUnary;
  if (op == "=" || op == "<" || op == ">" || op == "<=" || op == ">=" || op == "<>" || op == "!=") return kCmp;
  if (op == "+" || op == "-") return kAdd;
  if (op == "*" || op == "/" || op == "%") return kMul;
  if (op == "^") return kExp;
  return kOther;
}

// The first and last token positions in a subtree: the least and greatest `location` of its
// nodes (descriptor-driven, so every node kind is covered).
void location_range(const ProtobufCMessage* m, int& lo, int& hi) {
  if (m == nullptr) return;
  check_stack_depth();
  const ProtobufCMessageDescriptor* d = m->descriptor;
  const char* base = reinterpret_cast<const char*>(m);
  for (unsigned i = 0; i < d->n_fields; ++i) {
    const ProtobufCFieldDescriptor& fd = d->fields[i];
    if ((fd.flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *reinterpret_cast<const uint32_t*>(base + fd.quantifier_offset) != fd.id) continue;
    if (fd.type == PROTOBUF_C_TYPE_INT32 && fd.label != PROTOBUF_C_LABEL_REPEATED && std::strcmp(fd.name, "location") == 0) {
      const int v = *reinterpret_cast<const int32_t*>(base + fd.offset);
      if (v >= 0) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    } else if (fd.type == PROTOBUF_C_TYPE_MESSAGE) {
      if (fd.label == PROTOBUF_C_LABEL_REPEATED) {
        const size_t n = *reinterpret_cast<const size_t*>(base + fd.quantifier_offset);
        const auto* const* arr = *reinterpret_cast<const ProtobufCMessage* const* const*>(base + fd.offset);
        for (size_t k = 0; k < n; ++k) location_range(arr[k], lo, hi);
      } else {
        location_range(*reinterpret_cast<const ProtobufCMessage* const*>(base + fd.offset), lo, hi);
      }
    }
  }
}

class Printer {
 public:
  Printer(std::string_view source, const RelationResolver& resolve) : src_(source), resolve_(resolve) {}

  // ---- queries (doc.rs doc_query / doc_set_expr / doc_select) ----
  D query(const PgQuery__Node* n) {
    if (n == nullptr || n->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) throw Unsupported{};
    return query(n->select_stmt);
  }

  D query(const PgQuery__SelectStmt* s) {
    check_stack_depth();
    if (s->into_clause || s->n_locking_clause || s->n_window_clause) throw Unsupported{};
    std::vector<D> docs;
    size_t ctes_pushed = 0;
    if (s->with_clause) {
      if (s->with_clause->recursive) throw Unsupported{};
      std::vector<D> ctes;
      for (size_t i = 0; i < s->with_clause->n_ctes; ++i) {
        const auto* cn = s->with_clause->ctes[i];
        if (cn->node_case != PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR) throw Unsupported{};
        const auto* cte = cn->common_table_expr;
        if (cte->search_clause || cte->cycle_clause || cte->ctematerialized != PG_QUERY__CTEMATERIALIZE__CTEMaterializeDefault)
          throw Unsupported{};
        std::string alias = ident(str(cte->ctename));
        if (cte->n_aliascolnames) {
          std::string cols;
          for (size_t k = 0; k < cte->n_aliascolnames; ++k) cols += (k ? ", " : "") + ident(string_node(cte->aliascolnames[k]));
          alias += " (" + cols + ")";
        }
        // A CTE sees the ones before it.
        D body = bracket("(", query(cte->ctequery), ")");
        ctes.push_back(concat({text(alias + " AS"), line(), body}));
        ctes_.push_back(std::string(str(cte->ctename)));
        ++ctes_pushed;
      }
      docs.push_back(title_comma_separate("WITH", ctes));
    }
    docs.push_back(set_expr(s, true));
    if (s->n_sort_clause) {
      std::vector<D> items;
      for (size_t i = 0; i < s->n_sort_clause; ++i) items.push_back(order_by_expr(s->sort_clause[i]));
      docs.push_back(title_comma_separate("ORDER BY", items));
    }
    std::vector<D> offset;
    if (s->limit_offset) offset.push_back(concat({nest_title("OFFSET", expr(s->limit_offset))}));
    const PgQuery__Node* limit = s->limit_count;
    if (limit && limit->node_case == PG_QUERY__NODE__NODE_A_CONST && limit->a_const->isnull) limit = nullptr;  // LIMIT ALL
    if (limit) {
      if (s->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES) {
        docs.insert(docs.end(), offset.begin(), offset.end());
        docs.push_back(concat({text("FETCH FIRST "), expr(limit), text(" ROWS WITH TIES")}));
      } else {
        docs.push_back(nest_title("LIMIT", expr(limit)));
        docs.insert(docs.end(), offset.begin(), offset.end());
      }
    } else {
      docs.insert(docs.end(), offset.begin(), offset.end());
    }
    ctes_.resize(ctes_.size() - ctes_pushed);
    return group(intersperse(docs, line()));
  }

  // A SelectStmt as a SetExpr: `top` for the query's own body (its ORDER BY/LIMIT/WITH are the
  // query's); below a set operation, a branch with its own is a parenthesized query.
  D set_expr(const PgQuery__SelectStmt* s, bool top) {
    if (!top && (s->with_clause || s->n_sort_clause || s->limit_count || s->limit_offset)) return group(bracket("(", query(s), ")"));
    switch (s->op) {
      case PG_QUERY__SET_OPERATION__SETOP_NONE:
        if (s->n_values_lists) return group(values(s));
        return group(select(s));
      case PG_QUERY__SET_OPERATION__SETOP_UNION:
      case PG_QUERY__SET_OPERATION__SETOP_INTERSECT:
      case PG_QUERY__SET_OPERATION__SETOP_EXCEPT: {
        const char* name = s->op == PG_QUERY__SET_OPERATION__SETOP_UNION       ? "UNION"
                           : s->op == PG_QUERY__SET_OPERATION__SETOP_INTERSECT ? "INTERSECT"
                                                                                : "EXCEPT";
        auto prec = [](const PgQuery__SelectStmt* x) {
          return x->op == PG_QUERY__SET_OPERATION__SETOP_NONE ? 3 : x->op == PG_QUERY__SET_OPERATION__SETOP_INTERSECT ? 2 : 1;
        };
        const int p = prec(s);
        D left = prec(s->larg) < p ? group(bracket("(", query(s->larg), ")")) : set_expr(s->larg, false);
        D right = prec(s->rarg) <= p ? group(bracket("(", query(s->rarg), ")")) : set_expr(s->rarg, false);
        return group(concat({left, line(),
                             group(nest_by(kTab, concat({text(std::string(name) + (s->all ? " ALL" : "")), line(), right})))}));
      }
      default: throw Unsupported{};
    }
  }

  D values(const PgQuery__SelectStmt* s) {
    std::vector<D> rows;
    for (size_t i = 0; i < s->n_values_lists; ++i) {
      const auto* l = s->values_lists[i];
      if (l->node_case != PG_QUERY__NODE__NODE_LIST) throw Unsupported{};
      std::vector<D> items;
      // A one-value row's parentheses are the row's, not the value's.
      for (size_t k = 0; k < l->list->n_items; ++k) items.push_back(expr(l->list->items[k], -1, l->list->n_items == 1 ? 1 : 0));
      rows.push_back(bracket("(", comma_separated(items), ")"));
    }
    return group(nest_by(kTab, concat({text("VALUES"), line(), comma_separated(rows)})));
  }

  D select(const PgQuery__SelectStmt* s) {
    if (s->group_distinct) throw Unsupported{};
    std::vector<D> docs;
    D sel = text("SELECT");
    if (s->n_distinct_clause) {
      if (s->n_distinct_clause == 1 && s->distinct_clause[0]->node_case == PG_QUERY__NODE__NODE__NOT_SET) {
        sel = nest(sel, text("DISTINCT"));
      } else {
        std::vector<D> on;
        for (size_t i = 0; i < s->n_distinct_clause; ++i) on.push_back(expr(s->distinct_clause[i]));
        sel = nest(sel, bracket("DISTINCT ON (", comma_separated(on), ")"));
      }
    }
    std::vector<D> items;
    for (size_t i = 0; i < s->n_target_list; ++i) items.push_back(select_item(s->target_list[i]));
    docs.push_back(nest(sel, comma_separated(items)));
    if (s->n_from_clause) {
      std::vector<D> from;
      for (size_t i = 0; i < s->n_from_clause; ++i) from.push_back(table_with_joins(s->from_clause[i]));
      docs.push_back(title_comma_separate("FROM", from));
    }
    if (s->where_clause) docs.push_back(nest_title("WHERE", expr(s->where_clause)));
    if (s->n_group_clause) {
      std::vector<D> g;
      for (size_t i = 0; i < s->n_group_clause; ++i) {
        if (s->group_clause[i]->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) throw Unsupported{};
        g.push_back(expr(s->group_clause[i]));
      }
      docs.push_back(title_comma_separate("GROUP BY", g));
    }
    if (s->having_clause) docs.push_back(nest_title("HAVING", expr(s->having_clause)));
    return group(intersperse(docs, line()));
  }

  D select_item(const PgQuery__Node* n) {
    if (n->node_case != PG_QUERY__NODE__NODE_RES_TARGET) throw Unsupported{};
    const auto* rt = n->res_target;
    if (rt->n_indirection) throw Unsupported{};
    const auto* v = rt->val;
    if (v && v->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && v->column_ref->n_fields == 1 &&
        v->column_ref->fields[0]->node_case == PG_QUERY__NODE__NODE_A_STAR)
      return text("*");
    D d = expr(v);
    if (!str(rt->name).empty()) d = nest(d, concat({text("AS "), text(ident(str(rt->name)))}));
    return d;
  }

  D order_by_expr(const PgQuery__Node* n) {
    if (n->node_case != PG_QUERY__NODE__NODE_SORT_BY) throw Unsupported{};
    const auto* sb = n->sort_by;
    if (sb->n_use_op) throw Unsupported{};
    D d = expr(sb->node);
    if (sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_ASC) d = nest(d, text("ASC"));
    else if (sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC) d = nest(d, text("DESC"));
    else if (sb->sortby_dir != PG_QUERY__SORT_BY_DIR__SORTBY_DEFAULT) throw Unsupported{};
    if (sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST) d = nest(d, text("NULLS LAST"));
    else if (sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST) d = nest(d, text("NULLS FIRST"));
    return d;
  }

  // ---- FROM (doc_table_with_joins / doc_join / doc_table_factor) ----
  D table_with_joins(const PgQuery__Node* n) {
    std::vector<const PgQuery__JoinExpr*> joins;
    const PgQuery__Node* rel = n;
    while (rel->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR && rel->join_expr->alias == nullptr) {
      joins.push_back(rel->join_expr);
      rel = rel->join_expr->larg;
    }
    std::vector<D> docs{table_factor(rel)};
    for (size_t i = joins.size(); i-- > 0;) docs.push_back(join(joins[i]));
    return intersperse_line_nest(docs);
  }

  D join(const PgQuery__JoinExpr* j) {
    const char* name = nullptr;
    switch (j->jointype) {
      case PG_QUERY__JOIN_TYPE__JOIN_INNER: name = "JOIN"; break;
      case PG_QUERY__JOIN_TYPE__JOIN_LEFT: name = "LEFT JOIN"; break;
      case PG_QUERY__JOIN_TYPE__JOIN_RIGHT: name = "RIGHT JOIN"; break;
      case PG_QUERY__JOIN_TYPE__JOIN_FULL: name = "FULL JOIN"; break;
      default: throw Unsupported{};
    }
    D rel = table_factor(j->rarg);
    if (j->is_natural) return text(" NATURAL " + std::string(name) + " " + flat(rel));  // doc_display of the Join
    if (j->quals == nullptr && j->n_using_clause == 0) {
      if (j->jointype != PG_QUERY__JOIN_TYPE__JOIN_INNER) throw Unsupported{};
      return text(" CROSS JOIN " + flat(rel));  // doc_display of the Join, leading space included
    }
    D constraint;
    if (j->quals) {
      constraint = nest_title("ON", expr(j->quals));
    } else {
      std::vector<D> cols;
      for (size_t i = 0; i < j->n_using_clause; ++i) cols.push_back(text(ident(string_node(j->using_clause[i]))));
      constraint = bracket("USING(", comma_separated(cols), ")");
      if (j->join_using_alias) constraint = nest(constraint, nest_title("AS", text(ident(str(j->join_using_alias->aliasname)))));
    }
    return intersperse_line_nest({text(name), rel, constraint});
  }

  std::string alias(const PgQuery__Alias* a) {
    std::string s = ident(str(a->aliasname));
    if (a->n_colnames) {
      std::string cols;
      for (size_t i = 0; i < a->n_colnames; ++i) cols += (i ? ", " : "") + ident(string_node(a->colnames[i]));
      s += " (" + cols + ")";
    }
    return s;
  }

  D table_factor(const PgQuery__Node* n) {
    check_stack_depth();
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_RANGE_VAR: {
        const auto* rv = n->range_var;
        // A database name is the current one (Freshet refuses others when the view is
        // created); the resolver prints the full name.
        if (!rv->inh) throw Unsupported{};
        std::string name;
        if (str(rv->schemaname).empty() &&
            std::find(ctes_.begin(), ctes_.end(), std::string(str(rv->relname))) != ctes_.end()) {
          name = ident(str(rv->relname));
        } else {
          auto r = resolve_(str(rv->schemaname), str(rv->relname));
          if (!r) throw Unsupported{};
          name = *r;
        }
        D d = text(name);
        if (rv->alias) d = nest(d, text("AS " + alias(rv->alias)));
        return d;
      }
      case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
        const auto* rs = n->range_subselect;
        std::vector<D> docs{bracket(rs->lateral ? "LATERAL (" : "(", query(rs->subquery), ")")};
        if (rs->alias) docs.push_back(text("AS " + alias(rs->alias)));
        return intersperse_line_nest(docs);
      }
      case PG_QUERY__NODE__NODE_JOIN_EXPR: {
        // A parenthesized join (NestedJoin).
        const auto* j = n->join_expr;
        PgQuery__Node inner = *n;
        PgQuery__JoinExpr copy = *j;
        copy.alias = nullptr;
        inner.join_expr = &copy;
        D d = bracket("(", table_with_joins(&inner), ")");
        if (j->alias) d = nest(d, text("AS " + alias(j->alias)));
        return d;
      }
      default: throw Unsupported{};
    }
  }

  // ---- expressions (doc_expr; every result grouped, as there) ----
  // `parent` is the location of the node this one is an operand of (-1: none); `owned` how
  // many parentheses right around it belong to the syntax around it (a VALUES row's).
  D expr(const PgQuery__Node* n, int parent = -1, int owned = 0) {
    D d = group(expr_inner(n));
    for (int k = written_parens(n, parent, owned); k > 0; --k) d = group(bracket("(", d, ")"));
    return d;
  }

  // An operand that binds at least `need`: in the parentheses written around it
  // (Materialize's Expr::Nested), or in parentheses where precedence needs them.
  D operand(const PgQuery__Node* n, int need, int parent) {
    if (written_parens(n, parent, 0) > 0 || prec(n) >= need) return expr(n, parent);
    return group(bracket("(", expr(n, parent), ")"));
  }

  // The parentheses the source text has right around n, which PostgreSQL's tree no longer
  // shows: '(' just before n's first token, its ')' after n's last token, no comma at its
  // level, not a call's or a construct's parentheses (the word before it is not a keyword
  // after which an expression starts), and the parent operator outside them.
  int written_parens(const PgQuery__Node* n, int parent, int owned) {
    int lo = INT32_MAX, hi = -1;
    location_range(reinterpret_cast<const ProtobufCMessage*>(n), lo, hi);
    if (hi < 0 || static_cast<size_t>(hi) >= src_.size()) return 0;
    int count = 0;
    size_t start = static_cast<size_t>(lo);
    size_t last_close = std::string_view::npos;
    for (;;) {
      size_t p = start;
      while (p > 0 && std::isspace(static_cast<unsigned char>(src_[p - 1]))) --p;
      if (p == 0 || src_[p - 1] != '(') break;
      --p;
      bool comma = false;
      const size_t q = match_paren(p, comma);
      if (q == std::string_view::npos || comma || q <= static_cast<size_t>(hi)) break;
      if (last_close != std::string_view::npos) {
        // An outer pair must close right after the inner one.
        size_t r = last_close + 1;
        while (r < q && std::isspace(static_cast<unsigned char>(src_[r]))) ++r;
        if (r != q) break;
      }
      if (parent >= 0 && static_cast<size_t>(parent) > p && static_cast<size_t>(parent) < q) break;
      if (!opens_expression(p)) break;
      if (owned > 0) {
        --owned;
      } else {
        ++count;
      }
      start = p;
      last_close = q;
    }
    return count;
  }

  // Whether a '(' at p starts a parenthesized expression: what comes before it is an
  // operator, a comma, another '(' or a keyword after which an expression starts, not a
  // function's name or IN, VALUES, ARRAY, ROW, OVER ...
  bool opens_expression(size_t p) const {
    size_t e = p;
    while (e > 0 && std::isspace(static_cast<unsigned char>(src_[e - 1]))) --e;
    if (e == 0) return true;
    const char c = src_[e - 1];
    if (c == '"' || c == ')' || c == ']' || c == '\'') return false;
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$')) return true;
    size_t b = e;
    while (b > 0 && (std::isalnum(static_cast<unsigned char>(src_[b - 1])) || src_[b - 1] == '_' || src_[b - 1] == '$')) --b;
    std::string word(src_.substr(b, e - b));
    for (auto& ch : word) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    static const std::set<std::string, std::less<>> k = {"select", "where", "and",  "or",   "not",    "when",  "then",
                                                         "else",   "having", "by",  "between", "case", "like", "ilike",
                                                         "limit",  "offset", "from", "for", "escape", "on",   "is"};
    if (!k.count(word)) return false;
    if (word == "on") {
      // DISTINCT ON (...) is a list's parentheses.
      size_t w = b;
      while (w > 0 && std::isspace(static_cast<unsigned char>(src_[w - 1]))) --w;
      return !(w >= 8 && ieq_prefix(src_.substr(w - 8, 8), "distinct"));
    }
    return true;
  }

  // The ')' matching the '(' at p, skipping quoted text and comments; `comma`: a comma at its
  // level. npos when there is none.
  size_t match_paren(size_t p, bool& comma) const {
    int depth = 0;
    for (size_t i = p; i < src_.size(); ++i) {
      const char c = src_[i];
      if (c == '\'' || c == '"') {
        for (++i; i < src_.size(); ++i) {
          if (src_[i] == c) {
            if (i + 1 < src_.size() && src_[i + 1] == c) {
              ++i;
              continue;
            }
            break;
          }
        }
      } else if (c == '-' && i + 1 < src_.size() && src_[i + 1] == '-') {
        while (i < src_.size() && src_[i] != '\n') ++i;
      } else if (c == '/' && i + 1 < src_.size() && src_[i + 1] == '*') {
        size_t end = src_.find("*/", i + 2);
        if (end == std::string_view::npos) return std::string_view::npos;
        i = end + 1;
      } else if (c == '(' || c == '[') {
        ++depth;
      } else if (c == ')' || c == ']') {
        if (--depth == 0) return c == ')' ? i : std::string_view::npos;
      } else if (c == ',' && depth == 1) {
        comma = true;
      }
    }
    return std::string_view::npos;
  }

  int prec(const PgQuery__Node* n) {
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_BOOL_EXPR:
        return n->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR  ? kAnd
               : n->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR ? kOr
               : not_in(n)                                                 ? kLike
                                                                           : kNot;
      case PG_QUERY__NODE__NODE_NULL_TEST:
      case PG_QUERY__NODE__NODE_BOOLEAN_TEST: return kIs;
      case PG_QUERY__NODE__NODE_A_EXPR: {
        const auto* e = n->a_expr;
        switch (e->kind) {
          case PG_QUERY__A__EXPR__KIND__AEXPR_OP: {
            std::string op = e->n_name ? string_node(e->name[e->n_name - 1]) : "";
            if (operator_form(e)) return kOther;
            return op_prec(op, e->lexpr != nullptr);
          }
          case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
          case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT: return kIs;
          case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF: return kAtom;
          case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
          case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL: return kCmp;
          default: return kLike;
        }
      }
      case PG_QUERY__NODE__NODE_SUB_LINK:
        return n->sub_link->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK ||
                       n->sub_link->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK
                   ? kLike
                   : kAtom;
      case PG_QUERY__NODE__NODE_A_CONST: {
        const auto* c = n->a_const;
        bool negative = (c->val_case == PG_QUERY__A__CONST__VAL_IVAL && c->ival->ival < 0) ||
                        (c->val_case == PG_QUERY__A__CONST__VAL_FVAL && str(c->fval->fval).substr(0, 1) == "-");
        return negative ? kUnary : kAtom;
      }
      case PG_QUERY__NODE__NODE_TYPE_CAST: return kCast;
      default: return kAtom;
    }
  }

  // `x OPERATOR(op) y` as written: the grammar's node for it is the plain operator's, but its
  // location is where OPERATOR starts.
  bool operator_form(const PgQuery__AExpr* e) const {
    if (e->n_name > 1) return true;
    return e->location >= 0 && static_cast<size_t>(e->location) < src_.size() &&
           ieq_prefix(src_.substr(static_cast<size_t>(e->location)), "operator");
  }

  // NOT (x IN (subquery)) written `x NOT IN (subquery)`: the NOT at the IN's position.
  bool not_in(const PgQuery__Node* n) const {
    const auto* b = n->bool_expr;
    if (b->boolop != PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR || b->n_args != 1 || b->args[0]->node_case != PG_QUERY__NODE__NODE_SUB_LINK)
      return false;
    const auto* sl = b->args[0]->sub_link;
    return sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK && sl->n_oper_name == 0 && sl->location == b->location;
  }

  std::vector<D> exprs(PgQuery__Node* const* v, size_t n) {
    std::vector<D> out;
    for (size_t i = 0; i < n; ++i) out.push_back(expr(v[i]));
    return out;
  }

  D expr_inner(const PgQuery__Node* n) {
    check_stack_depth();
    if (n == nullptr) throw Unsupported{};
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_COLUMN_REF: {
        const auto* c = n->column_ref;
        std::string s;
        for (size_t i = 0; i < c->n_fields; ++i) {
          if (i) s += ".";
          if (c->fields[i]->node_case == PG_QUERY__NODE__NODE_A_STAR) s += "*";
          else s += ident(string_node(c->fields[i]));
        }
        return text(s);
      }
      case PG_QUERY__NODE__NODE_PARAM_REF: return text("$" + std::to_string(n->param_ref->number));
      case PG_QUERY__NODE__NODE_A_CONST: return text(constant(n->a_const));
      case PG_QUERY__NODE__NODE_TYPE_CAST: return cast(n->type_cast);
      case PG_QUERY__NODE__NODE_A_EXPR: return a_expr(n->a_expr);
      case PG_QUERY__NODE__NODE_BOOL_EXPR: {
        const auto* b = n->bool_expr;
        if (b->boolop == PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR) {
          if (not_in(n)) {
            const auto* sl = b->args[0]->sub_link;
            return intersperse({operand(sl->testexpr, kLike + 1, sl->location), text("NOT IN ("), query(sl->subselect), text(")")}, line());
          }
          return concat({text("NOT"), line(), operand(b->args[0], kNot, b->location)});
        }
        const bool is_and = b->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR;
        const int p = is_and ? kAnd : kOr;
        // Left-associative, as Materialize's parser builds `a AND b AND c`.
        D acc = operand(b->args[0], p, b->location);
        for (size_t i = 1; i < b->n_args; ++i)
          acc = group(bracket_doc(acc, text(is_and ? "AND" : "OR"), operand(b->args[i], p + 1, b->location), line()));
        return acc;
      }
      case PG_QUERY__NODE__NODE_NULL_TEST: {
        const auto* t = n->null_test;
        bool negated = t->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL;
        return bracket_doc(operand(t->arg, kIs + 1, t->location), text(negated ? "IS NOT" : "IS"), text("NULL"), line());
      }
      case PG_QUERY__NODE__NODE_BOOLEAN_TEST: {
        const auto* t = n->boolean_test;
        const char* what = nullptr;
        bool negated = false;
        switch (t->booltesttype) {
          case PG_QUERY__BOOL_TEST_TYPE__IS_TRUE: what = "TRUE"; break;
          case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_TRUE: what = "TRUE"; negated = true; break;
          case PG_QUERY__BOOL_TEST_TYPE__IS_FALSE: what = "FALSE"; break;
          case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_FALSE: what = "FALSE"; negated = true; break;
          case PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN: what = "UNKNOWN"; break;
          case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_UNKNOWN: what = "UNKNOWN"; negated = true; break;
          default: throw Unsupported{};
        }
        return bracket_doc(operand(t->arg, kIs + 1, t->location), text(negated ? "IS NOT" : "IS"), text(what), line());
      }
      case PG_QUERY__NODE__NODE_FUNC_CALL: return function(n->func_call);
      case PG_QUERY__NODE__NODE_SUB_LINK: {
        const auto* sl = n->sub_link;
        switch (sl->sub_link_type) {
          case PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK: return bracket("EXISTS (", query(sl->subselect), ")");
          case PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK: return bracket("(", query(sl->subselect), ")");
          case PG_QUERY__SUB_LINK_TYPE__ARRAY_SUBLINK: return bracket("ARRAY(", query(sl->subselect), ")");
          case PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK:
          case PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK: {
            if (sl->n_oper_name == 0 && sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK)
              return intersperse({operand(sl->testexpr, kLike + 1, sl->location), text("IN ("), query(sl->subselect), text(")")}, line());
            if (sl->n_oper_name != 1) throw Unsupported{};
            // AnySubquery / AllSubquery: doc_display, the flat text.
            std::string s = flat(operand(sl->testexpr, kCmp + 1, sl->location)) + " " + string_node(sl->oper_name[0]) +
                            (sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK ? " ANY (" : " ALL (") +
                            flat(query(sl->subselect)) + ")";
            return text(s);
          }
          default: throw Unsupported{};
        }
      }
      case PG_QUERY__NODE__NODE_CASE_EXPR: {
        const auto* c = n->case_expr;
        std::vector<D> docs;
        if (c->arg) docs.push_back(expr(c->arg));
        for (size_t i = 0; i < c->n_args; ++i) {
          if (c->args[i]->node_case != PG_QUERY__NODE__NODE_CASE_WHEN) throw Unsupported{};
          const auto* w = c->args[i]->case_when;
          docs.push_back(nest(nest_title("WHEN", expr(w->expr)), nest_title("THEN", expr(w->result))));
        }
        if (c->defresult) docs.push_back(nest_title("ELSE", expr(c->defresult)));
        return bracket_doc(text("CASE"), intersperse_line_nest(docs), text("END"), line());
      }
      case PG_QUERY__NODE__NODE_COALESCE_EXPR:
        return bracket("COALESCE(", comma_separated(exprs(n->coalesce_expr->args, n->coalesce_expr->n_args)), ")");
      case PG_QUERY__NODE__NODE_MIN_MAX_EXPR: {
        const auto* m = n->min_max_expr;
        return bracket(m->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST ? "GREATEST(" : "LEAST(", comma_separated(exprs(m->args, m->n_args)),
                       ")");
      }
      case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
        return bracket("ARRAY[", comma_separated(exprs(n->a_array_expr->elements, n->a_array_expr->n_elements)), "]");
      case PG_QUERY__NODE__NODE_ROW_EXPR:
        if (n->row_expr->n_colnames) throw Unsupported{};
        return bracket("ROW(", comma_separated(exprs(n->row_expr->args, n->row_expr->n_args)), ")");
      default: throw Unsupported{};
    }
  }

  std::string constant(const PgQuery__AConst* c) {
    if (c->isnull) return "NULL";
    switch (c->val_case) {
      case PG_QUERY__A__CONST__VAL_IVAL: return std::to_string(c->ival->ival);
      case PG_QUERY__A__CONST__VAL_FVAL: return std::string(str(c->fval->fval));
      case PG_QUERY__A__CONST__VAL_BOOLVAL: return c->boolval->boolval ? "true" : "false";
      case PG_QUERY__A__CONST__VAL_SVAL: return quote_string(str(c->sval->sval));
      default: throw Unsupported{};
    }
  }

  D cast(const PgQuery__TypeCast* tc) {
    std::vector<std::string> names, mods;
    const auto* tn = tc->type_name;
    if (tn == nullptr || tn->setof || tn->pct_type) throw Unsupported{};
    for (size_t i = 0; i < tn->n_names; ++i) names.push_back(string_node(tn->names[i]));
    for (size_t i = 0; i < tn->n_typmods; ++i) {
      const auto* m = tn->typmods[i];
      if (m->node_case != PG_QUERY__NODE__NODE_A_CONST || m->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL) throw Unsupported{};
      mods.push_back(std::to_string(m->a_const->ival->ival));
    }
    // `INTERVAL '1 day'` is Materialize's interval literal, printed so; `TYPE 'text'` and
    // `'text'::TYPE` are its casts. The type comes before the string in the first.
    const bool literal_first = tn->location >= 0 && tc->arg && tc->arg->node_case == PG_QUERY__NODE__NODE_A_CONST &&
                               tc->arg->a_const->location > tn->location;
    if (literal_first && names.size() == 2 && names[1] == "interval" && mods.empty() && !tn->n_array_bounds &&
        tc->arg->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL)
      return text("INTERVAL " + quote_string(str(tc->arg->a_const->sval->sval)));
    if (names.size() == 2 && names[1] == "interval" && !mods.empty()) throw Unsupported{};  // a qualifier
    auto t = type_name(names, mods, tn->n_array_bounds);
    if (!t) throw Unsupported{};
    return concat({operand(tc->arg, kCast, tc->location), text("::" + *t)});
  }

  D a_expr(const PgQuery__AExpr* e) {
    auto op_name = [&]() {
      if (e->n_name == 0) throw Unsupported{};
      return string_node(e->name[e->n_name - 1]);
    };
    switch (e->kind) {
      case PG_QUERY__A__EXPR__KIND__AEXPR_OP: {
        std::string op = op_name();
        std::string shown = op;
        if (operator_form(e)) {
          shown = "OPERATOR(";
          for (size_t i = 0; i + 1 < e->n_name; ++i) shown += ident(string_node(e->name[i])) + ".";
          shown += op + ")";
        }
        if (e->lexpr == nullptr) return concat({text(shown + " "), operand(e->rexpr, kUnary, e->location)});
        const int p = operator_form(e) ? kOther : op_prec(op, true);
        return concat({operand(e->lexpr, p, e->location), line(), text(shown + " "), nest_by(kTab, operand(e->rexpr, p + 1, e->location))});
      }
      case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
      case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL: {
        // AnyExpr / AllExpr: doc_display, the flat text.
        std::string s = flat(operand(e->lexpr, kCmp + 1, e->location)) + " " + op_name() +
                        (e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY ? " ANY (" : " ALL (") + flat(expr(e->rexpr)) + ")";
        return text(s);
      }
      case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
      case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT:
        return bracket_doc(operand(e->lexpr, kIs + 1, e->location), text(e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT ? "IS" : "IS NOT"),
                           text("DISTINCT FROM " + flat(operand(e->rexpr, kIs + 1, e->location))), line());
      case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF:
        return bracket("NULLIF (", comma_separated({expr(e->lexpr), expr(e->rexpr)}), ")");
      case PG_QUERY__A__EXPR__KIND__AEXPR_IN: {
        if (e->rexpr == nullptr || e->rexpr->node_case != PG_QUERY__NODE__NODE_LIST) throw Unsupported{};
        const bool negated = op_name() == "<>";
        return intersperse({operand(e->lexpr, kLike + 1, e->location), text(negated ? "NOT IN (" : "IN ("),
                            comma_separated(exprs(e->rexpr->list->items, e->rexpr->list->n_items)), text(")")},
                           line());
      }
      case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
      case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE: {
        std::string op = op_name();
        const bool negated = op[0] == '!';
        if (e->rexpr && e->rexpr->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) throw Unsupported{};  // ESCAPE
        std::string s = flat(operand(e->lexpr, kLike + 1, e->location)) + (negated ? " NOT " : " ") +
                        (e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE ? "ILIKE " : "LIKE ") + flat(operand(e->rexpr, kLike + 1, e->location));
        return text(s);
      }
      case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
      case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN: {
        if (e->rexpr == nullptr || e->rexpr->node_case != PG_QUERY__NODE__NODE_LIST || e->rexpr->list->n_items != 2) throw Unsupported{};
        const auto* l = e->rexpr->list;
        return intersperse({operand(e->lexpr, kLike + 1, e->location),
                            text(e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN ? "BETWEEN" : "NOT BETWEEN"),
                            group(intersperse({operand(l->items[0], kLike + 1, e->location), text("AND"), operand(l->items[1], kLike + 1, e->location)}, line()))},
                           line());
      }
      default: throw Unsupported{};
    }
  }

  // Materialize's WindowSpec display: ` OVER (PARTITION BY ... ORDER BY ... ROWS ...)`.
  std::string window(const PgQuery__WindowDef* w) {
    if (!str(w->name).empty() || !str(w->refname).empty()) throw Unsupported{};  // named windows
    std::string s = " OVER (";
    const char* delim = "";
    if (w->n_partition_clause) {
      delim = " ";
      s += "PARTITION BY ";
      for (size_t i = 0; i < w->n_partition_clause; ++i) s += (i ? ", " : "") + flat(expr(w->partition_clause[i]));
    }
    if (w->n_order_clause) {
      s += delim;
      delim = " ";
      s += "ORDER BY ";
      for (size_t i = 0; i < w->n_order_clause; ++i) s += (i ? ", " : "") + flat(order_by_expr(w->order_clause[i]));
    }
    // PostgreSQL's FRAMEOPTION_* bits (nodes/parsenodes.h).
    const int o = w->frame_options;
    if (o & 0x00001) {
      if (o & (0x08000 | 0x10000 | 0x20000)) throw Unsupported{};  // EXCLUDE
      const char* units = (o & 0x00004) ? "ROWS" : (o & 0x00008) ? "GROUPS" : "RANGE";
      auto offset = [&](const PgQuery__Node* n) {
        if (n == nullptr || n->node_case != PG_QUERY__NODE__NODE_A_CONST || n->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL ||
            n->a_const->ival->ival < 0)
          throw Unsupported{};
        return std::to_string(n->a_const->ival->ival);
      };
      auto start = [&]() -> std::string {
        if (o & 0x00020) return "UNBOUNDED PRECEDING";
        if (o & 0x00080) return "UNBOUNDED FOLLOWING";
        if (o & 0x00200) return "CURRENT ROW";
        if (o & 0x00800) return offset(w->start_offset) + " PRECEDING";
        if (o & 0x02000) return offset(w->start_offset) + " FOLLOWING";
        throw Unsupported{};
      };
      auto end = [&]() -> std::string {
        if (o & 0x00040) return "UNBOUNDED PRECEDING";
        if (o & 0x00100) return "UNBOUNDED FOLLOWING";
        if (o & 0x00400) return "CURRENT ROW";
        if (o & 0x01000) return offset(w->end_offset) + " PRECEDING";
        if (o & 0x04000) return offset(w->end_offset) + " FOLLOWING";
        throw Unsupported{};
      };
      s += delim;
      s += units;
      if (o & 0x00010) s += " BETWEEN " + start() + " AND " + end();
      else s += " " + start();
    }
    return s + ")";
  }

  D function(const PgQuery__FuncCall* f) {
    if (f->agg_within_group || f->func_variadic) throw Unsupported{};
    std::vector<std::string> parts;
    for (size_t i = 0; i < f->n_funcname; ++i) parts.push_back(string_node(f->funcname[i]));
    if (parts.empty() || parts.size() > 2) throw Unsupported{};
    std::vector<const PgQuery__Node*> arg_nodes(f->args, f->args + f->n_args);
    if (f->funcformat == PG_QUERY__COERCION_FORM__COERCE_SQL_SYNTAX) {
      // Materialize's parser makes the same calls of EXTRACT(f FROM x), SUBSTRING(s FROM a
      // FOR b) and TRIM([side] [c] FROM s) as PostgreSQL's grammar (its parse_extract_expr,
      // parse_substring_expr, parse_trim_expr), printed as calls; POSITION(a IN b) is
      // position(a, b) there, position(b, a) here. Other SQL-syntax forms are not rendered.
      const std::string fn = parts.back();
      if (parts.size() != 2 || parts[0] != "pg_catalog" ||
          !(fn == "extract" || fn == "substring" || fn == "btrim" || fn == "ltrim" || fn == "rtrim" || fn == "position"))
        throw Unsupported{};
      if (fn == "position" && arg_nodes.size() == 2) std::swap(arg_nodes[0], arg_nodes[1]);
    }
    std::string name;
    if (parts.size() == 1) {
      const std::string& fn = parts[0];
      const char* schema = mz_catalog_functions().count(fn)    ? "mz_catalog"
                           : mz_internal_functions().count(fn) ? "mz_internal"
                                                               : "pg_catalog";
      name = std::string(schema) + "." + ident(fn);
    } else {
      name = ident(parts[0]) + "." + ident(parts[1]);
    }
    for (const auto* a : arg_nodes)
      if (a->node_case == PG_QUERY__NODE__NODE_NAMED_ARG_EXPR) throw Unsupported{};
    if (f->agg_star) {
      std::string s = name + "(*)";
      if (f->agg_filter) s += " FILTER (WHERE " + flat(expr(f->agg_filter)) + ")";
      if (f->over) s += window(f->over);
      return text(s);
    }
    std::vector<D> args;
    for (const auto* a : arg_nodes) args.push_back(expr(a));
    if (args.empty() || f->agg_filter || f->over || f->n_agg_order) {
      // Nullary, or with FILTER, OVER or ORDER BY: Materialize's display, on one line.
      std::string s = name + "(" + (f->agg_distinct ? "DISTINCT " : "");
      for (size_t i = 0; i < args.size(); ++i) s += (i ? ", " : "") + flat(args[i]);
      for (size_t i = 0; i < f->n_agg_order; ++i) s += (i ? ", " : " ORDER BY ") + flat(order_by_expr(f->agg_order[i]));
      s += ")";
      if (f->agg_filter) s += " FILTER (WHERE " + flat(expr(f->agg_filter)) + ")";
      if (f->over) s += window(f->over);
      return text(s);
    }
    return bracket(name + "(" + (f->agg_distinct ? "DISTINCT " : ""), comma_separated(args), ")");
  }

 private:
  std::string_view src_;
  const RelationResolver& resolve_;
  std::vector<std::string> ctes_;  // the WITH names in scope
};

// Materialize's sometimes-reserved keywords (src/sql-lexer/src/keywords.rs
// is_sometimes_reserved): an identifier spelled like one is quoted.
bool sometimes_reserved(std::string_view s) {
  static const std::set<std::string, std::less<>> k = {
      "with",    "select", "from",   "where", "group",     "having", "qualify", "window", "order", "limit",
      "offset",  "fetch",  "options", "returning", "union", "except", "intersect", "on",    "join",  "inner",
      "cross",   "full",   "left",   "right", "natural",   "using",  "set",     "outer",  "year",  "month",
      "day",     "hour",   "minute", "second", "true",     "false",  "null",    "array",  "case",  "cast",
      "not"};
  return k.count(s) > 0;
}

}  // namespace

std::string ident(std::string_view name) {
  bool bare = !name.empty() && (std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char c : name)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_')) bare = false;
  if (bare && !sometimes_reserved(name)) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::optional<std::string> type_name(const std::vector<std::string>& names, const std::vector<std::string>& typmods,
                                     size_t array_dims) {
  if (names.empty() || names.size() > 2) return std::nullopt;
  if (names.size() == 2 && names[0] != "pg_catalog" && names[0] != "mz_catalog") return std::nullopt;
  std::string n = names.back();
  // The grammar's spellings to the catalog's names.
  static const std::vector<std::pair<std::string, std::string>> pg = {
      {"bool", "bool"},       {"boolean", "bool"},         {"int2", "int2"},       {"smallint", "int2"},
      {"int4", "int4"},       {"int", "int4"},             {"integer", "int4"},    {"int8", "int8"},
      {"bigint", "int8"},     {"float4", "float4"},        {"real", "float4"},     {"float8", "float8"},
      {"double", "float8"},   {"numeric", "numeric"},      {"decimal", "numeric"}, {"text", "text"},
      {"string", "text"},     {"varchar", "varchar"},      {"bpchar", "bpchar"},   {"char", "char"},
      {"date", "date"},       {"time", "time"},            {"timestamp", "timestamp"}, {"timestamptz", "timestamptz"},
      {"interval", "interval"}, {"jsonb", "jsonb"},        {"json", "jsonb"},      {"bytea", "bytea"},
      {"uuid", "uuid"},       {"oid", "oid"},              {"regclass", "regclass"}, {"regproc", "regproc"},
      {"regtype", "regtype"}, {"name", "name"}};
  static const std::vector<std::pair<std::string, std::string>> mzc = {
      {"mz_timestamp", "mz_timestamp"}, {"uint2", "uint2"}, {"uint4", "uint4"}, {"uint8", "uint8"}, {"mz_aclitem", "mz_aclitem"}};
  std::string out;
  for (const auto& [from, to] : pg)
    if (n == from) out = "pg_catalog." + to;
  for (const auto& [from, to] : mzc)
    if (n == from) out = "mz_catalog." + to;
  if (out.empty()) return std::nullopt;
  if (!typmods.empty()) {
    out += "(";
    for (size_t i = 0; i < typmods.size(); ++i) out += (i ? ", " : "") + typmods[i];
    out += ")";
  }
  for (size_t i = 0; i < array_dims; ++i) out += "[]";
  return out;
}

std::optional<std::string> pretty_create_view(bool materialized, const std::string& qualified_name,
                                              const std::vector<std::string>& columns, const PgQuery__Node* query,
                                              std::string_view source, const RelationResolver& resolve,
                                              std::string_view cluster) {
  try {
    Printer p(source, resolve);
    D q = p.query(query);
    std::vector<D> cols;
    for (const auto& c : columns) cols.push_back(text(ident(c)));
    D doc;
    if (materialized) {
      // doc_create_materialized_view: Materialize's stored statement always names its cluster
      // and refresh schedule.
      std::vector<D> docs{text("CREATE MATERIALIZED VIEW " + qualified_name)};
      if (!cols.empty()) docs.push_back(bracket("(", comma_separated(cols), ")"));
      docs.push_back(text("IN CLUSTER " + ident(cluster)));
      docs.push_back(bracket("WITH (", comma_separated({text("REFRESH = ON COMMIT")}), ")"));
      docs.push_back(nest_title("AS", q));
      doc = intersperse_line_nest(docs);
    } else {
      // doc_create_view / doc_view_definition.
      std::vector<D> def{text(qualified_name)};
      if (!cols.empty()) def.push_back(bracket("(", comma_separated(cols), ")"));
      def.push_back(nest_title("AS", q));
      doc = intersperse_line_nest({text("CREATE VIEW"), group(intersperse(def, line()))});
    }
    return render(doc, kPrettyWidth) + ";";
  } catch (const Unsupported&) {
    return std::nullopt;
  } catch (const SqlError&) {
    return std::nullopt;  // 54001 from check_stack_depth: a query nested too deep to print
  }
}

std::string pretty_create_table(const std::string& qualified_name, const std::vector<TableColumn>& columns,
                                const std::vector<std::string>& constraints, const RelationResolver& resolve) {
  std::vector<D> items;
  for (const auto& c : columns) {
    std::string s = ident(c.name) + " " + c.type;
    if (c.not_null) s += " NOT NULL";
    if (c.default_sql) {
      std::string shown = *c.default_sql;
      try {
        std::string select = "SELECT " + *c.default_sql;
        auto tree = ParseTree::parse(select);
        if (tree->size() == 1 && tree->statement(0)->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
          const auto* s0 = tree->statement(0)->select_stmt;
          if (s0->n_target_list == 1 && s0->target_list[0]->node_case == PG_QUERY__NODE__NODE_RES_TARGET) {
            Printer p(select, resolve);
            shown = flat(p.expr(s0->target_list[0]->res_target->val));
          }
        }
      } catch (const Unsupported&) {
      } catch (const SqlError&) {
      }
      s += " DEFAULT " + shown;
    }
    items.push_back(text(s));
  }
  for (const auto& c : constraints) items.push_back(text(c));
  // doc_create_table.
  D def = nest(text(qualified_name), bracket("(", comma_separated(items), ")"));
  D doc = group(intersperse({nest_title("CREATE TABLE", def)}, line()));
  return render(doc, kPrettyWidth) + ";";
}

std::string pretty_create_index(const std::string& name, std::string_view cluster, const std::string& on_qualified,
                                const std::vector<std::string>& keys) {
  // doc_create_index.
  std::vector<D> docs{nest_title("CREATE INDEX", text(ident(name))), nest_title("IN CLUSTER", text(ident(cluster)))};
  std::vector<D> k;
  for (const auto& key : keys) k.push_back(text(ident(key)));
  docs.push_back(nest_title("ON", nest(text(on_qualified), bracket("(", comma_separated(k), ")"))));
  return render(group(intersperse(docs, line())), kPrettyWidth) + ";";
}

}  // namespace freshet::sql::mz
