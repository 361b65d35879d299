#include "sql/rename_refs.hpp"

#include <cstring>
#include <deque>
#include <vector>

#include "common/error.hpp"
#include "sql/parser.hpp"
#include "sql/schema_refs.hpp"

namespace freshet::sql {

namespace {

// Visits every message of a protobuf-c parse tree (descriptor-driven, so every node kind is
// covered), calling f on each before its children.
void walk(ProtobufCMessage* m, const std::function<void(ProtobufCMessage*)>& f) {
  if (m == nullptr) return;
  f(m);
  const ProtobufCMessageDescriptor* d = m->descriptor;
  auto* base = reinterpret_cast<char*>(m);
  for (unsigned i = 0; i < d->n_fields; ++i) {
    const ProtobufCFieldDescriptor& fd = d->fields[i];
    if (fd.type != PROTOBUF_C_TYPE_MESSAGE) continue;
    if (fd.flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
      if (*reinterpret_cast<uint32_t*>(base + fd.quantifier_offset) != fd.id) continue;
    }
    if (fd.label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *reinterpret_cast<size_t*>(base + fd.quantifier_offset);
      auto** arr = *reinterpret_cast<ProtobufCMessage***>(base + fd.offset);
      for (size_t k = 0; k < n; ++k) walk(arr[k], f);
    } else {
      walk(*reinterpret_cast<ProtobufCMessage**>(base + fd.offset), f);
    }
  }
}

bool is(const ProtobufCMessage* m, const ProtobufCMessageDescriptor& d) { return m->descriptor == &d; }
std::string_view str(const char* s) { return s ? std::string_view(s) : std::string_view(); }

// The statement's text with the strings the caller swapped in, then the tree's own strings put
// back (they belong to protobuf-c, which frees them with the tree), whether or not it deparses.
std::string deparse_restoring(const ParseTree& tree, const std::vector<std::pair<char**, char*>>& restore) {
  std::string out;
  try {
    out = deparse_statement(tree.statement(0));
  } catch (...) {
    for (auto it = restore.rbegin(); it != restore.rend(); ++it) *it->first = it->second;
    throw;
  }
  for (auto it = restore.rbegin(); it != restore.rend(); ++it) *it->first = it->second;
  return out;
}

}  // namespace

std::optional<std::string> rename_relation_refs(const std::string& definition, const RenameRefs& r) {
  std::shared_ptr<ParseTree> tree;
  try {
    tree = ParseTree::parse(definition);
  } catch (const SqlError&) {
    return std::nullopt;
  }
  if (tree->size() != 1) return std::nullopt;
  auto* root = reinterpret_cast<ProtobufCMessage*>(const_cast<PgQuery__Node*>(tree->statement(0)));

  // First pass: the references to rewrite, and whether the old name could mean something else.
  std::vector<PgQuery__RangeVar*> refs;
  std::vector<PgQuery__ColumnRef*> columns;
  bool unaliased = false, conflict = false;
  walk(root, [&](ProtobufCMessage* m) {
    if (is(m, pg_query__range_var__descriptor)) {
      auto* rv = reinterpret_cast<PgQuery__RangeVar*>(m);
      bool has_alias = rv->alias != nullptr && !str(rv->alias->aliasname).empty();
      if (str(rv->relname) == r.old_name) {
        if (r.names_it(str(rv->schemaname), r.old_name)) {
          refs.push_back(rv);
          unaliased |= !has_alias;
        } else if (!has_alias) {
          conflict = true;  // another relation of that name: `t.x` could be either
        }
      }
    } else if (is(m, pg_query__alias__descriptor)) {
      if (str(reinterpret_cast<PgQuery__Alias*>(m)->aliasname) == r.old_name) conflict = true;
    } else if (is(m, pg_query__common_table_expr__descriptor)) {
      if (str(reinterpret_cast<PgQuery__CommonTableExpr*>(m)->ctename) == r.old_name) conflict = true;
    } else if (is(m, pg_query__column_ref__descriptor)) {
      columns.push_back(reinterpret_cast<PgQuery__ColumnRef*>(m));
    }
  });
  if (refs.empty()) return definition;
  if (conflict) return std::nullopt;

  // The tree's strings belong to protobuf-c: the new ones are ours and the old pointers are put
  // back before the tree is freed.
  std::deque<std::string> owned;
  std::vector<std::pair<char**, char*>> restore;
  auto set = [&](char** slot, const std::string& v) {
    owned.push_back(v);
    restore.emplace_back(slot, *slot);
    *slot = owned.back().data();
  };
  for (auto* rv : refs) {
    set(&rv->relname, r.new_name);
    if (str(rv->schemaname).empty() && !r.qualify_with.empty()) set(&rv->schemaname, r.qualify_with);
  }
  if (unaliased) {
    for (auto* c : columns) {
      // [rel, col], [schema, rel, col], [db, schema, rel, col]: the relation is the field
      // before the last.
      if (c->n_fields < 2) continue;
      PgQuery__Node* f = c->fields[c->n_fields - 2];
      if (f->node_case != PG_QUERY__NODE__NODE_STRING || str(f->string->sval) != r.old_name) continue;
      std::string_view schema = c->n_fields >= 3 && c->fields[c->n_fields - 3]->node_case == PG_QUERY__NODE__NODE_STRING
                                    ? str(c->fields[c->n_fields - 3]->string->sval)
                                    : std::string_view();
      // `t.x`: no other relation or alias is called t here (no conflict), so it is this one.
      if (c->n_fields >= 3 && !r.names_it(schema, r.old_name)) continue;
      set(&f->string->sval, r.new_name);
    }
  }
  return deparse_restoring(*tree, restore);
}

std::optional<std::string> rename_schema_refs(const std::string& text, std::string_view old_schema, std::string_view new_schema) {
  std::shared_ptr<ParseTree> tree;
  try {
    tree = ParseTree::parse(text);
  } catch (const SqlError&) {
    return std::nullopt;
  }
  if (tree->size() != 1) return std::nullopt;
  auto* root = reinterpret_cast<ProtobufCMessage*>(const_cast<PgQuery__Node*>(tree->statement(0)));
  std::vector<char**> slots;
  // The qualifier of a dotted name list (column reference, type or function name): the field
  // `from_end` places before its end, when that is a string equal to the old name.
  auto qualifier = [&](PgQuery__Node** fields, size_t n, size_t from_end) {
    if (n < from_end + 1) return;
    PgQuery__Node* f = fields[n - 1 - from_end];
    if (f->node_case == PG_QUERY__NODE__NODE_STRING && str(f->string->sval) == old_schema) slots.push_back(&f->string->sval);
  };
  walk(root, [&](ProtobufCMessage* m) {
    if (is(m, pg_query__range_var__descriptor)) {
      auto* rv = reinterpret_cast<PgQuery__RangeVar*>(m);
      if (str(rv->schemaname) == old_schema) slots.push_back(&rv->schemaname);
    } else if (is(m, pg_query__column_ref__descriptor)) {
      auto* c = reinterpret_cast<PgQuery__ColumnRef*>(m);
      qualifier(c->fields, c->n_fields, 2);  // [schema, rel, col | *], [db, schema, rel, col]
    } else if (is(m, pg_query__type_name__descriptor)) {
      auto* t = reinterpret_cast<PgQuery__TypeName*>(m);
      qualifier(t->names, t->n_names, 1);
    } else if (is(m, pg_query__func_call__descriptor)) {
      auto* f = reinterpret_cast<PgQuery__FuncCall*>(m);
      qualifier(f->funcname, f->n_funcname, 1);
    }
  });
  if (slots.empty()) return text;
  const std::string renamed(new_schema);
  std::vector<std::pair<char**, char*>> restore;
  for (char** slot : slots) {
    restore.emplace_back(slot, *slot);
    *slot = const_cast<char*>(renamed.c_str());
  }
  return deparse_restoring(*tree, restore);
}

}  // namespace freshet::sql
