#include "server/catalog.hpp"

#include "common/sql_dialect.hpp"

#include <algorithm>
#include <cctype>

#include "common/error.hpp"
#include "sql/catalog_access.hpp"
#include "sql/schema_refs.hpp"

namespace freshet::server {

Catalog::Catalog() : system_views_(make_system_views()) {
  uint64_t next = 1;
  for (const auto& v : system_views_) next = std::max(next, v.info.id + 1);
  for (auto& v : make_introspection_views(next)) system_views_.push_back(std::move(v));
  for (const auto& v : system_views_) next = std::max(next, v.info.id + 1);
  for (auto& v : make_mz_catalog_views(next)) system_views_.push_back(std::move(v));
}

std::unique_ptr<Catalog> Catalog::copy_for_block(Catalog& base) const {
  std::unique_ptr<Catalog> c(new Catalog(NoSystemViews{}));
  for (const auto& [id, o] : objects_) c->objects_[id] = std::make_unique<sql::ObjectInfo>(*o);
  c->by_name_ = by_name_;
  c->deps_ = deps_;
  c->system_views_ = system_views_;
  c->next_id_ = next_id_;
  c->next_oid_ = next_oid_;
  c->next_mz_schema_id_ = next_mz_schema_id_;
  c->next_mz_database_id_ = next_mz_database_id_;
  c->roles_ = roles_;
  c->roles_changed_ = roles_changed_;
  c->roles_version_ = roles_version_;
  c->arrangement_rows = arrangement_rows;
  c->source_rows = source_rows;
  c->dataflow_rows = dataflow_rows;
  c->sink_rows = sink_rows;
  c->base_ = &base;
  return c;
}

std::unique_ptr<Catalog> Catalog::clone() const {
  FRESHET_ASSERT(base_ != nullptr);
  auto c = copy_for_block(*base_);
  c->tables_ = tables_;  // the empty contents of the tables the block created
  c->on_change = on_change;
  return c;
}

void Catalog::check_read(const sql::ObjectInfo& obj, const sql::ObjectInfo* in_view, int position) const {
  const AccessContext* a = current_access();
  if (a == nullptr) return;
  uint32_t role = in_view != nullptr ? owner_of(*in_view) : role_oid_or_bootstrap(roles(), a->role);
  if (has_object_privilege(roles(), obj, role, priv::kSelect)) return;
  (void)position;  // PostgreSQL reports no position for a permission error
  // pg_authid is a table in PostgreSQL (the message says so); the other catalogs are readable.
  permission_denied(obj.kind == sql::ObjectKind::kSystemView ? sql::ObjectKind::kTable : obj.kind, obj.name);
}

void Catalog::check_create(const sql::ObjectInfo& obj, uint32_t role) const {
  const RoleState& rs = roles();
  if (obj.kind == sql::ObjectKind::kIndex) {
    const sql::ObjectInfo* on = const_cast<Catalog*>(this)->find(obj.index_on);
    if (on != nullptr && !has_privs_of_role(rs, role, owner_of(*on))) must_be_owner(on->kind, on->name);
    return;
  }
  if (obj.kind == sql::ObjectKind::kTable && obj.source_id != 0) return;  // a source's table: CREATE SOURCE was checked
  if (obj.kind == sql::ObjectKind::kSchema) {  // CREATE on the database, as PostgreSQL
    if (!has_database_privilege(rs, role, priv::kCreate))
      throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied for database " + std::string(kDefaultDatabase));
    return;
  }
  if (obj.kind == sql::ObjectKind::kDatabase) {  // the CREATEDB attribute, as PostgreSQL
    const Role* r = rs.find(role);
    if (!is_superuser(rs, role) && (r == nullptr || !r->createdb))
      throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied to create database");
    return;
  }
  if (!has_schema_privilege(rs, obj.schema, role, priv::kCreate))
    throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied for schema " + obj.schema);
}

std::optional<std::string> Catalog::role_name(uint32_t oid) const {
  const Role* r = roles().find(oid);
  if (r == nullptr) return std::nullopt;
  return r->name;
}

std::optional<uint32_t> Catalog::role_oid(std::string_view name) const {
  const Role* r = roles().find(name);
  if (r == nullptr) return std::nullopt;
  return r->oid;
}

bool Catalog::has_privilege(char kind, std::string_view user, std::string_view object_name, uint32_t object_oid,
                            std::string_view privilege) const {
  return catalog_has_privilege(*this, kind, user, object_name, object_oid, privilege);
}

void Catalog::change_roles(const std::function<void(RoleState&)>& fn) {
  RoleState next = roles_;
  fn(next);
  if (base_ != nullptr) {  // a transaction block's copy: stored and applied at COMMIT
    roles_ = std::move(next);
    roles_changed_ = true;
    return;
  }
  if (on_roles_change) on_roles_change(next);
  roles_ = std::move(next);
  ++roles_version_;
}

void Catalog::restore_roles(RoleState rs) {
  for (const auto& [oid, r] : rs.roles)
    if (oid >= next_oid_) next_oid_ = oid + 1;
  roles_ = std::move(rs);
  ++roles_version_;
}

sql::ObjectInfo& Catalog::restore(sql::ObjectInfo obj, const std::vector<uint64_t>& deps) {
  if (obj.id >= next_id_) next_id_ = obj.id + 1;
  if (obj.oid >= next_oid_) next_oid_ = obj.oid + 1;
  assign_mz_ids(obj);
  auto p = std::make_unique<sql::ObjectInfo>(std::move(obj));
  auto& ref = *p;
  by_name_[name_key(ref)] = ref.id;
  if (ref.kind == sql::ObjectKind::kTable) tables_[ref.id];
  if (!deps.empty()) deps_[ref.id] = deps;
  stored_[ref.id] = ref;
  objects_[ref.id] = std::move(p);
  return ref;
}

void Catalog::assign_mz_ids(sql::ObjectInfo& o) {
  // A block's catalog numbers from its base, like ids: a number is never given twice, even
  // when the block rolls back (Materialize's allocator does not go back either).
  Catalog& c = base_ != nullptr ? *base_ : *this;
  auto next = [](uint64_t& counter, uint64_t& field) {
    if (field == 0) field = counter++;
    else if (field >= counter) counter = field + 1;
  };
  if (o.kind == sql::ObjectKind::kSchema) next(c.next_mz_schema_id_, o.mz_id);
  if (o.kind == sql::ObjectKind::kDatabase) {
    next(c.next_mz_database_id_, o.mz_id);
    next(c.next_mz_schema_id_, o.mz_public_id);  // Materialize's CREATE DATABASE makes its public schema
  }
  if (base_ != nullptr) {
    next_mz_schema_id_ = c.next_mz_schema_id_;
    next_mz_database_id_ = c.next_mz_database_id_;
  }
}

void Catalog::updated(uint64_t id) {
  sql::ObjectInfo* o = find(id);
  if (o == nullptr) return;
  try {
    write({{id, o}});
  } catch (...) {
    if (auto it = stored_.find(id); it != stored_.end()) *o = it->second;
    throw;
  }
  stored_[id] = *o;
}

void Catalog::add_dependency(uint64_t dependent, uint64_t on) {
  deps_[dependent].push_back(on);
  try {
    updated(dependent);
  } catch (...) {
    auto& d = deps_[dependent];
    d.pop_back();
    if (d.empty()) deps_.erase(dependent);
    throw;
  }
}

void Catalog::rename(uint64_t id, const std::string& new_name, const std::vector<std::pair<uint64_t, std::string>>& definitions) {
  sql::ObjectInfo* o = find(id);
  if (o == nullptr) return;
  std::vector<uint64_t> ids = {id};
  for (const auto& [xid, x] : objects_)
    if (x->kind == sql::ObjectKind::kIndex && x->index_on == id) ids.push_back(xid);
  const size_t first_definition = ids.size();
  for (const auto& [vid, sql_text] : definitions) {
    FRESHET_ASSERT(find(vid) != nullptr);
    ids.push_back(vid);
  }
  std::vector<sql::ObjectInfo> before;
  for (uint64_t i : ids) before.push_back(*find(i));
  by_name_.erase(name_key(*o));
  o->name = new_name;
  by_name_[name_key(*o)] = id;
  std::vector<Change> changes;
  for (uint64_t i : ids) {
    sql::ObjectInfo* x = find(i);
    size_t k = changes.size();
    if (k >= first_definition) {
      x->definition_sql = definitions[k - first_definition].second;
      x->source_sql.clear();  // names what was renamed: SHOW CREATE prints definition_sql
    }
    else if (i != id) x->definition_sql = new_name;  // an index names the relation it is on
    changes.push_back({i, x});
  }
  try {
    write(changes);
  } catch (...) {
    by_name_.erase(name_key(*o));
    for (size_t k = 0; k < ids.size(); ++k) *find(ids[k]) = before[k];
    by_name_[name_key(*o)] = id;
    throw;
  }
  for (uint64_t i : ids) stored_[i] = *find(i);
}

// A search_path entry as its setting's text writes it: bare when it is a plain lower-case name.
static std::string search_path_entry(const std::string& p) {
  bool bare = !p.empty() && (std::islower(static_cast<unsigned char>(p[0])) || p[0] == '_');
  for (char c : p) bare &= std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  if (bare) return p;
  std::string q = "\"";
  for (char c : p) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

void Catalog::rename_schema(uint64_t schema_id, const std::string& new_name) {
  sql::ObjectInfo* sch = find(schema_id);
  if (sch == nullptr || sch->kind != sql::ObjectKind::kSchema) return;
  const std::string old_name = sch->name;
  std::vector<uint64_t> ids = {schema_id};
  for (const auto& [id, o] : objects_)
    if (o->kind != sql::ObjectKind::kSchema && o->kind != sql::ObjectKind::kDatabase && o->schema == old_name) ids.push_back(id);
  // Views and materialized views that may name the schema (in it, reading from it, or with it
  // in their search_path) get their SQL text and search_path renamed in the same batch
  // (sql::rename_schema_refs); the caller has refused what cannot be rewritten
  // (Executor::rename_schema).
  struct Text {
    uint64_t id;
    std::string definition_sql, source_sql, search_path;
  };
  std::vector<Text> texts;
  for (const auto& [id, o] : objects_) {
    if (o->kind != sql::ObjectKind::kView && o->kind != sql::ObjectKind::kMaterializedView) continue;
    std::vector<std::string> path = parse_search_path(o->search_path);
    bool in_path = std::find(path.begin(), path.end(), old_name) != path.end();
    bool names_it = o->schema == old_name || in_path;
    for (uint64_t d : dependencies_of(id))
      if (const sql::ObjectInfo* x = find(d); x && x->schema == old_name) names_it = true;
    if (!names_it) continue;
    std::optional<std::string> definition = sql::rename_schema_refs(o->definition_sql, old_name, new_name);
    if (!definition) throw SqlError(sqlstate::kInternalError, "cannot rename the schema in the text of \"" + o->name + "\"");
    Text t{id, std::move(*definition), std::string(), o->search_path};
    if (!o->source_sql.empty()) t.source_sql = sql::rename_schema_refs(o->source_sql, old_name, new_name).value_or("");
    if (in_path) {
      t.search_path.clear();
      for (const auto& p : path) t.search_path += (t.search_path.empty() ? "" : ", ") + search_path_entry(p == old_name ? new_name : p);
    }
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    texts.push_back(std::move(t));
  }
  std::vector<sql::ObjectInfo> before;
  for (uint64_t i : ids) before.push_back(*find(i));
  auto rekey = [&](const std::vector<sql::ObjectInfo>& from, bool to_new) {
    for (size_t k = 0; k < ids.size(); ++k) {
      sql::ObjectInfo* x = find(ids[k]);
      by_name_.erase(name_key(*x));
      if (to_new) {
        if (ids[k] == schema_id) x->name = new_name;
        else if (x->schema == old_name) x->schema = new_name;
        for (const Text& t : texts) {
          if (t.id != ids[k]) continue;
          x->definition_sql = t.definition_sql;
          x->source_sql = t.source_sql;
          x->search_path = t.search_path;
        }
      } else {
        *x = from[k];
      }
      by_name_[name_key(*x)] = ids[k];
    }
  };
  rekey(before, true);
  std::vector<Change> changes;
  for (uint64_t i : ids) changes.push_back({i, find(i)});
  try {
    write(changes);
  } catch (...) {
    rekey(before, false);
    throw;
  }
  for (uint64_t i : ids) stored_[i] = *find(i);
}

void Catalog::swap_schemas(uint64_t a_id, uint64_t b_id) {
  sql::ObjectInfo* a = find(a_id);
  sql::ObjectInfo* b = find(b_id);
  FRESHET_ASSERT(a != nullptr && b != nullptr && a->kind == sql::ObjectKind::kSchema && b->kind == sql::ObjectKind::kSchema);
  const std::string a_name = a->name, b_name = b->name;
  std::vector<uint64_t> ids = {a_id, b_id};
  for (const auto& [id, o] : objects_)
    if (o->kind != sql::ObjectKind::kSchema && o->kind != sql::ObjectKind::kDatabase && (o->schema == a_name || o->schema == b_name))
      ids.push_back(id);
  std::vector<sql::ObjectInfo> before;
  for (uint64_t i : ids) before.push_back(*find(i));
  // Every old key goes before any new one is set: the two sets of names overlap.
  auto rekey = [&](bool to_new) {
    for (uint64_t i : ids) by_name_.erase(name_key(*find(i)));
    for (size_t k = 0; k < ids.size(); ++k) {
      sql::ObjectInfo* x = find(ids[k]);
      if (!to_new) *x = before[k];
      else if (ids[k] == a_id) x->name = b_name;
      else if (ids[k] == b_id) x->name = a_name;
      else x->schema = before[k].schema == a_name ? b_name : a_name;
    }
    for (uint64_t i : ids) by_name_[name_key(*find(i))] = i;
  };
  rekey(true);
  std::vector<Change> changes;
  for (uint64_t i : ids) changes.push_back({i, find(i)});
  try {
    write(changes);
  } catch (...) {
    rekey(false);
    throw;
  }
  for (uint64_t i : ids) stored_[i] = *find(i);
}

void Catalog::replace_committed(uint64_t id, const sql::ObjectInfo& o) {
  sql::ObjectInfo* x = find(id);
  FRESHET_ASSERT(x != nullptr);
  // Only its own key: a block that swapped two names commits them one by one, and the other
  // object may hold this key already.
  if (auto it = by_name_.find(name_key(*x)); it != by_name_.end() && it->second == id) by_name_.erase(it);
  *x = o;
  by_name_[name_key(*x)] = id;
  stored_[id] = *x;
}

sql::ObjectInfo* Catalog::find(uint64_t id) {
  auto it = objects_.find(id);
  return it == objects_.end() ? nullptr : it->second.get();
}

uint32_t Catalog::namespace_oid(const std::string& schema) { return sql::namespace_oid_of(schema); }

namespace {
thread_local const std::vector<std::string>* tls_search_path = nullptr;
thread_local const std::string* tls_database = nullptr;
}  // namespace

std::pair<std::string, std::string> Catalog::name_key(const sql::ObjectInfo& o) {
  if (o.kind == sql::ObjectKind::kSchema) return {"", "s:" + o.name};
  if (o.kind == sql::ObjectKind::kDatabase) return {"", "d:" + o.name};
  return {o.schema, o.name};
}

Catalog::SearchPathScope::SearchPathScope(std::vector<std::string> path, std::string database)
    : path_(std::move(path)), database_(std::move(database)), previous_(tls_search_path), previous_database_(tls_database) {
  tls_search_path = &path_;
  tls_database = &database_;
}

Catalog::SearchPathScope::~SearchPathScope() {
  tls_search_path = previous_;
  tls_database = previous_database_;
}

const std::string& Catalog::current_database() {
  // Outside a session: the default database, which Materialize calls `materialize`.
  static const std::string kDefault = "freshet";
  static const std::string kMaterialize = "materialize";
  if (tls_database != nullptr) return *tls_database;
  return materialize_dialect() ? kMaterialize : kDefault;
}

const std::vector<std::string>& Catalog::search_path() {
  static const std::vector<std::string> kDefault = {"public"};
  return tls_search_path != nullptr ? *tls_search_path : kDefault;
}

std::vector<std::string> Catalog::parse_search_path(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',' || text[i] == '\t')) ++i;
    if (i >= text.size()) break;
    std::string name;
    if (text[i] == '"') {
      for (++i; i < text.size(); ++i) {
        if (text[i] == '"' && i + 1 < text.size() && text[i + 1] == '"') {
          name += '"';
          ++i;
        } else if (text[i] == '"') {
          ++i;
          break;
        } else {
          name += text[i];
        }
      }
    } else {
      for (; i < text.size() && text[i] != ',' && text[i] != ' ' && text[i] != '\t'; ++i)
        name += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    }
    if (!name.empty()) out.push_back(std::move(name));
  }
  return out;
}

bool Catalog::builtin_schema(std::string_view name) {
  return name == "public" || name == "pg_catalog" || name == "information_schema" || name == "mz_catalog" || name == "mz_internal";
}

const sql::ObjectInfo* Catalog::find_schema(std::string_view name) const {
  auto it = by_name_.find({"", "s:" + std::string(name)});
  return it == by_name_.end() ? nullptr : objects_.at(it->second).get();
}

const sql::ObjectInfo* Catalog::find_database(std::string_view name) const {
  auto it = by_name_.find({"", "d:" + std::string(name)});
  return it == by_name_.end() ? nullptr : objects_.at(it->second).get();
}

std::string Catalog::creation_schema(std::string_view user) const {
  for (const auto& s : search_path()) {
    std::string name = s == "$user" ? std::string(user) : s;
    // Objects are not created in the system schemas by an unqualified name.
    if (name == "pg_catalog" || name == "information_schema" || name == "mz_catalog" || name == "mz_internal") continue;
    if (schema_exists(name)) return name;
  }
  return "";
}

const sql::ObjectInfo* Catalog::lookup(std::string_view schema, std::string_view name) const {
  auto find_user = [&](std::string_view s) -> const sql::ObjectInfo* {
    if (s.empty()) return nullptr;
    auto it = by_name_.find({std::string(s), std::string(name)});
    return it == by_name_.end() ? nullptr : objects_.at(it->second).get();
  };
  auto find_system = [&](std::string_view s) -> const sql::ObjectInfo* {
    for (const auto& v : system_views_)
      if (v.info.name == name && (s.empty() || v.info.schema == s)) return &v.info;
    return nullptr;
  };
  if (!schema.empty()) {
    if (schema == "pg_catalog" || schema == "information_schema") return find_system(schema);
    // Materialize's relations (mz_catalog_views.cpp) live in pg_catalog so that they are found
    // unqualified; `mz_catalog.mz_schemas` names them too.
    if (schema == "mz_catalog") {
      const sql::ObjectInfo* v = find_system("pg_catalog");
      return v != nullptr && v->name.rfind("mz_", 0) == 0 ? v : nullptr;
    }
    return find_user(schema);
  }
  // search_path: pg_catalog is searched first for its own names, as PostgreSQL does.
  if (const auto* s = find_system("pg_catalog")) return s;
  for (const auto& s : search_path()) {
    if (s == "pg_catalog") continue;  // searched first
    if (s == "information_schema") {
      if (const auto* v = find_system(s)) return v;
      continue;
    }
    if (const auto* u = find_user(s)) return u;
  }
  return nullptr;
}

const sql::ObjectInfo* Catalog::lookup_oid(uint32_t oid) const {
  for (const auto& [id, o] : objects_)
    if (o->oid == oid) return o.get();
  for (const auto& v : system_views_)
    if (v.info.oid == oid) return &v.info;
  return nullptr;
}

sql::ObjectInfo& Catalog::add(sql::ObjectInfo obj, bool keep_id) {
  // The creating role owns it, and needs CREATE in its schema (an index: to own its relation).
  if (const AccessContext* a = current_access()) {
    uint32_t role = role_oid_or_bootstrap(roles(), a->role);
    if (obj.owner == 0) obj.owner = role;
    check_create(obj, role);
  }
  if (!keep_id) obj.id = allocate_id();
  obj.oid = base_ != nullptr ? base_->next_oid_++ : next_oid_++;
  assign_mz_ids(obj);
  auto p = std::make_unique<sql::ObjectInfo>(std::move(obj));
  auto& ref = *p;
  by_name_[name_key(ref)] = ref.id;
  if (ref.kind == sql::ObjectKind::kTable) tables_[ref.id];
  // An object in a user schema depends on it: DROP SCHEMA needs CASCADE then, and COMMIT of a
  // block that created it checks that the schema still exists (transaction.hpp).
  if (const sql::ObjectInfo* sch = ref.schema.empty() ? nullptr : find_schema(ref.schema)) deps_[ref.id].push_back(sch->id);
  // So does an object with a column (or a field) of a type made by CREATE TYPE on that type:
  // DROP TYPE is refused while it is used.
  std::vector<uint32_t> type_oids;
  for (const auto& col : ref.columns) sql::collect_named_type_oids(col.type, type_oids);
  for (uint32_t oid : type_oids)
    if (const sql::ObjectInfo* t = lookup_oid(oid); t != nullptr && t->kind == sql::ObjectKind::kType && t->id != ref.id)
      deps_[ref.id].push_back(t->id);
  objects_[ref.id] = std::move(p);
  try {
    write({{ref.id, &ref}});
  } catch (...) {
    // Not durable: it never existed. (The id and oid are not reused; nothing refers to them.)
    erase_in_memory(ref.id);
    throw;
  }
  stored_[ref.id] = ref;
  return ref;
}

void Catalog::erase_in_memory(uint64_t id) {
  auto it = objects_.find(id);
  if (it == objects_.end()) return;
  by_name_.erase(name_key(*it->second));
  tables_.erase(id);
  deps_.erase(id);
  stored_.erase(id);
  objects_.erase(it);
}

void Catalog::remove(uint64_t id) {
  if (objects_.find(id) == objects_.end()) return;
  if (removal_recorded_.erase(id) == 0) write({{id, nullptr}});
  erase_in_memory(id);
}

void Catalog::record_removals(const std::vector<uint64_t>& ids) {
  std::vector<Change> changes;
  for (uint64_t id : ids)
    if (objects_.count(id) && !removal_recorded_.count(id)) changes.push_back({id, nullptr});
  if (changes.empty()) return;
  write(changes);
  for (const auto& [id, o] : changes) removal_recorded_[id] = true;
}

std::vector<const sql::ObjectInfo*> Catalog::dependents(uint64_t id) const {
  std::vector<const sql::ObjectInfo*> out;
  for (const auto& [dep, ons] : deps_)
    if (std::find(ons.begin(), ons.end(), id) != ons.end()) {
      auto it = objects_.find(dep);
      if (it != objects_.end()) out.push_back(it->second.get());
    }
  return out;
}

TableData* Catalog::table_data(uint64_t id) {
  auto it = tables_.find(id);
  if (it != tables_.end()) return &it->second;
  // A private catalog reads the contents of the tables it shares with the real one there.
  if (base_ != nullptr && objects_.count(id)) return base_->table_data(id);
  return nullptr;
}

const SystemView* Catalog::system_view(uint64_t id) const {
  for (const auto& v : system_views_)
    if (v.info.id == id) return &v;
  return nullptr;
}

}  // namespace freshet::server
