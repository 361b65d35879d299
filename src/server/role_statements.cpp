#include "server/role_statements.hpp"

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <cstdio>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "common/error.hpp"
#include "server/persist.hpp"
#include "server/roles.hpp"
#include "sql/binder.hpp"

namespace freshet::server {

namespace {

class TagExecution : public Execution {
 public:
  explicit TagExecution(std::string tag) : tag_(std::move(tag)) {}
  const std::vector<Column>& columns() const override { return columns_; }
  bool fetch(std::vector<Row>&, size_t) override { return false; }
  std::string command_tag() const override { return tag_; }

 private:
  std::vector<Column> columns_;
  std::string tag_;
};

std::unique_ptr<Execution> tag(std::string t) { return std::make_unique<TagExecution>(std::move(t)); }

struct DdlLocks {
  explicit DdlLocks(Coordinator::State& cs) : w(cs.write_mu), m(cs.mu) {}
  std::unique_lock<std::mutex> w;
  std::unique_lock<std::shared_mutex> m;
};

SqlError role_missing(const std::string& name) {
  return SqlError(sqlstate::kUndefinedObject, "role \"" + name + "\" does not exist");
}

std::string node_string(const PgQuery__Node* n) {
  if (n == nullptr) return "";
  if (n->node_case == PG_QUERY__NODE__NODE_STRING) return n->string->sval;
  return "";
}

bool def_bool(const PgQuery__DefElem* d) {
  if (d->arg == nullptr) return true;
  if (d->arg->node_case == PG_QUERY__NODE__NODE_BOOLEAN) return d->arg->boolean->boolval;
  if (d->arg->node_case == PG_QUERY__NODE__NODE_INTEGER) return d->arg->integer->ival != 0;
  return true;
}

// The name a RoleSpec stands for; PUBLIC gives "".
std::string spec_name(const RoleSession& s, const PgQuery__RoleSpec* r) {
  switch (r->roletype) {
    case PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_CSTRING: return r->rolename;
    case PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_CURRENT_ROLE:
    case PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_CURRENT_USER: return current_role_name(s);
    case PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_SESSION_USER: return s.session_auth.empty() ? s.login_user : s.session_auth;
    case PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_PUBLIC: return "";
    default: return r->rolename ? r->rolename : "";
  }
}

// A node that must be a RoleSpec (the grammar makes it one; checked all the same).
const PgQuery__RoleSpec* role_spec(const PgQuery__Node* n) {
  if (n == nullptr || n->node_case != PG_QUERY__NODE__NODE_ROLE_SPEC || n->role_spec == nullptr)
    throw SqlError(sqlstate::kSyntaxError, "expected a role name");
  return n->role_spec;
}

const Role& existing_role(const RoleState& rs, const std::string& name) {
  const Role* r = rs.find(name);
  if (r == nullptr) throw role_missing(name);
  return *r;
}

bool can_createrole(const RoleState& rs, uint32_t who) {
  const Role* r = rs.find(who);
  return r != nullptr && (r->superuser || r->createrole);
}

void check_new_role_name(const RoleState& rs, const std::string& name) {
  if (name == "public" || name == "none" || name.empty())
    throw SqlError("42939", "role name \"" + name + "\" is reserved");
  if (name.rfind("pg_", 0) == 0)
    throw SqlError("42939", "role name \"" + name + "\" is reserved").with_detail("Role names starting with \"pg_\" are reserved.");
  if (rs.find(name) != nullptr) throw SqlError(sqlstate::kDuplicateObject, "role \"" + name + "\" already exists");
}

std::string password_value(const PgQuery__DefElem* d) {
  if (d->arg == nullptr) return "";  // PASSWORD NULL
  std::string p = node_string(d->arg);
  if (p.empty()) return "";         // PostgreSQL: an empty password clears it
  if (parse_password_verifier(p)) return p;  // already a verifier (psql's \password sends one)
  return make_password_verifier(p);
}

void add_membership(RoleState& rs, uint32_t role, uint32_t member, uint32_t grantor, bool admin) {
  if (role == member || is_member_of_role_strict(rs, role, member)) {
    throw SqlError("0LP01", "role \"" + rs.name_of(role) + "\" is a member of role \"" + rs.name_of(member) + "\"");
  }
  for (auto& m : rs.members)
    if (m.role == role && m.member == member) {
      m.admin = m.admin || admin;
      return;
    }
  rs.members.push_back({role, member, grantor, admin});
}

// Applies CREATE/ALTER ROLE options to r (membership options to rs). alter: ALTER ROLE.
void apply_role_options(RoleSession& s, RoleState& rs, Role& r, PgQuery__Node** options, size_t n, uint32_t who, bool alter) {
  bool who_super = is_superuser(rs, who);
  for (size_t i = 0; i < n; ++i) {
    if (options[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) continue;
    const PgQuery__DefElem* d = options[i]->def_elem;
    std::string name = d->defname ? d->defname : "";
    if (name == "password") {
      r.password = password_value(d);
    } else if (name == "superuser") {
      bool v = def_bool(d);
      if (!who_super) throw SqlError(sqlstate::kInsufficientPrivilege, alter ? "must be superuser to alter superuser roles or change superuser attribute" : "must be superuser to create superusers");
      r.superuser = v;
    } else if (name == "inherit") {
      r.inherit = def_bool(d);
    } else if (name == "createrole") {
      r.createrole = def_bool(d);
    } else if (name == "createdb") {
      r.createdb = def_bool(d);
    } else if (name == "canlogin") {
      r.login = def_bool(d);
    } else if (name == "isreplication" || name == "bypassrls") {
      if (def_bool(d) && !who_super) throw SqlError(sqlstate::kInsufficientPrivilege, "must be superuser to create replication users");
    } else if (name == "connectionlimit" || name == "validUntil" || name == "sysid") {
      // Accepted and ignored: Freshet limits connections globally (--max-connections) and
      // passwords do not expire.
    } else if (name == "addroleto" || name == "rolemembers" || name == "adminmembers") {
      if (d->arg == nullptr || d->arg->node_case != PG_QUERY__NODE__NODE_LIST) continue;
      for (size_t k = 0; k < d->arg->list->n_items; ++k) {
        const PgQuery__Node* item = d->arg->list->items[k];
        if (item->node_case != PG_QUERY__NODE__NODE_ROLE_SPEC) continue;
        const Role& other = existing_role(rs, spec_name(s, item->role_spec));
        if (name == "addroleto") add_membership(rs, other.oid, r.oid, who, false);
        else add_membership(rs, r.oid, other.oid, who, name == "adminmembers");
      }
    } else {
      throw SqlError(sqlstate::kSyntaxError, "option \"" + name + "\" not recognized");
    }
  }
}

// Everything that refers to a role: what DROP ROLE refuses over (PostgreSQL's 2BP01 detail).
std::vector<std::string> role_dependencies(const Catalog& catalog, const RoleState& rs, uint32_t role) {
  std::vector<std::string> out;
  for (const auto& [id, o] : catalog.objects()) {
    if (o->kind == sql::ObjectKind::kIndex) continue;
    if (owner_of(*o) == role) out.push_back(std::string("owner of ") + object_kind_word(o->kind) + " " + o->name);
    else if (o->acl)
      for (const auto& i : *o->acl)
        if (i.grantee == role || i.grantor == role) {
          out.push_back(std::string("privileges for ") + object_kind_word(o->kind) + " " + o->name);
          break;
        }
  }
  for (const auto& [schema, acl] : rs.schema_acls)
    for (const auto& i : acl)
      if (i.grantee == role || i.grantor == role) {
        out.push_back("privileges for schema " + schema);
        break;
      }
  if (rs.database_acl)
    for (const auto& i : *rs.database_acl)
      if (i.grantee == role || i.grantor == role) {
        out.push_back("privileges for database freshet");
        break;
      }
  return out;
}

std::unique_ptr<Execution> create_role(RoleSession& s, const PgQuery__CreateRoleStmt* st, uint32_t who) {
  DdlLocks lock(s.cs);
  Catalog& catalog = s.catalog;
  const RoleState& rs = catalog.roles();
  if (!can_createrole(rs, who)) throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied to create role");
  std::string name = st->role ? st->role : "";
  check_new_role_name(rs, name);
  catalog.change_roles([&](RoleState& next) {
    Role r;
    r.oid = catalog.allocate_oid();
    r.name = name;
    r.login = st->stmt_type == PG_QUERY__ROLE_STMT_TYPE__ROLESTMT_USER;
    next.roles[r.oid] = r;
    apply_role_options(s, next, next.roles[r.oid], st->options, st->n_options, who, false);
  });
  return tag("CREATE ROLE");
}

std::unique_ptr<Execution> alter_role(RoleSession& s, const PgQuery__AlterRoleStmt* st, uint32_t who) {
  DdlLocks lock(s.cs);
  Catalog& catalog = s.catalog;
  const RoleState& rs = catalog.roles();
  if (st->role == nullptr) throw SqlError(sqlstate::kFeatureNotSupported, "ALTER ROLE ALL is not supported");
  const Role& target = existing_role(rs, spec_name(s, st->role));
  bool who_super = is_superuser(rs, who);
  // A role may change its own password; everything else needs CREATEROLE (superuser for a
  // superuser role).
  bool only_password = st->n_options > 0;
  for (size_t i = 0; i < st->n_options; ++i)
    if (st->options[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM || st->options[i]->def_elem->defname == nullptr ||
        std::string(st->options[i]->def_elem->defname) != "password")
      only_password = false;
  if (!(only_password && target.oid == who)) {
    if (target.superuser && !who_super)
      throw SqlError(sqlstate::kInsufficientPrivilege, "must be superuser to alter superuser roles or change superuser attribute");
    if (!can_createrole(rs, who)) throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied");
  }
  uint32_t oid = target.oid;
  catalog.change_roles([&](RoleState& next) {
    Role& r = next.roles[oid];
    if (st->action < 0) {  // ALTER GROUP g DROP USER u
      for (size_t i = 0; i < st->n_options; ++i) {
        if (st->options[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) continue;
        const PgQuery__DefElem* d = st->options[i]->def_elem;
        if (d->arg == nullptr || d->arg->node_case != PG_QUERY__NODE__NODE_LIST) continue;
        for (size_t k = 0; k < d->arg->list->n_items; ++k) {
          const Role& m = existing_role(next, spec_name(s, role_spec(d->arg->list->items[k])));
          std::erase_if(next.members, [&](const Membership& x) { return x.role == oid && x.member == m.oid; });
        }
      }
      return;
    }
    apply_role_options(s, next, r, st->options, st->n_options, who, true);
    if (oid == kBootstrapRoleOid && !r.superuser)
      throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied to alter role").with_detail("The bootstrap user must have the SUPERUSER attribute.");
  });
  return tag("ALTER ROLE");
}

std::unique_ptr<Execution> rename_role(RoleSession& s, const PgQuery__RenameStmt* st, uint32_t who) {
  DdlLocks lock(s.cs);
  Catalog& catalog = s.catalog;
  const RoleState& rs = catalog.roles();
  std::string from = st->subname ? st->subname : "";
  std::string to = st->newname ? st->newname : "";
  const Role& target = existing_role(rs, from);
  std::string session_user = s.session_auth.empty() ? s.login_user : s.session_auth;
  if (from == session_user) throw SqlError(sqlstate::kFeatureNotSupported, "session user cannot be renamed");
  if (from == current_role_name(s)) throw SqlError(sqlstate::kFeatureNotSupported, "current user cannot be renamed");
  check_new_role_name(rs, to);
  if (target.superuser && !is_superuser(rs, who)) throw SqlError(sqlstate::kInsufficientPrivilege, "must be superuser to rename superusers");
  if (!can_createrole(rs, who)) throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied to rename role");
  uint32_t oid = target.oid;
  catalog.change_roles([&](RoleState& next) { next.roles[oid].name = to; });
  return tag("ALTER ROLE");
}

std::unique_ptr<Execution> drop_role(RoleSession& s, const PgQuery__DropRoleStmt* st, uint32_t who) {
  DdlLocks lock(s.cs);
  Catalog& catalog = s.catalog;
  const RoleState& rs = catalog.roles();
  if (!can_createrole(rs, who)) throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied to drop role");
  std::vector<uint32_t> drop;
  std::string session_user = s.session_auth.empty() ? s.login_user : s.session_auth;
  for (size_t i = 0; i < st->n_roles; ++i) {
    std::string name = spec_name(s, role_spec(st->roles[i]));
    const Role* r = rs.find(name);
    if (r == nullptr) {
      if (st->missing_ok) continue;  // PostgreSQL: NOTICE role "x" does not exist, skipping
      throw role_missing(name);
    }
    if (name == current_role_name(s)) throw SqlError("55006", "current user cannot be dropped");
    if (name == session_user) throw SqlError("55006", "session user cannot be dropped");
    if (r->oid == kBootstrapRoleOid)
      throw SqlError(sqlstate::kDependentObjectsStillExist, "cannot drop role " + name + " because it is required by the database system");
    if (r->superuser && !is_superuser(rs, who)) throw SqlError(sqlstate::kInsufficientPrivilege, "must be superuser to drop superusers");
    std::vector<std::string> deps = role_dependencies(catalog, rs, r->oid);
    if (!deps.empty()) {
      std::string detail;
      for (const auto& d : deps) detail += (detail.empty() ? "" : "\n") + d;
      throw SqlError(sqlstate::kDependentObjectsStillExist, "role \"" + name + "\" cannot be dropped because some objects depend on it")
          .with_detail(detail);
    }
    drop.push_back(r->oid);
  }
  if (!drop.empty())
    catalog.change_roles([&](RoleState& next) {
      for (uint32_t oid : drop) {
        next.roles.erase(oid);
        std::erase_if(next.members, [&](const Membership& m) { return m.role == oid || m.member == oid; });
      }
    });
  return tag("DROP ROLE");
}

std::unique_ptr<Execution> grant_role(RoleSession& s, const PgQuery__GrantRoleStmt* st, uint32_t who) {
  DdlLocks lock(s.cs);
  Catalog& catalog = s.catalog;
  const RoleState& rs = catalog.roles();
  std::vector<uint32_t> granted, grantees;
  for (size_t i = 0; i < st->n_granted_roles; ++i) {
    const PgQuery__Node* n = st->granted_roles[i];
    std::string name = n->node_case == PG_QUERY__NODE__NODE_ACCESS_PRIV && n->access_priv->priv_name ? n->access_priv->priv_name
                       : n->node_case == PG_QUERY__NODE__NODE_ROLE_SPEC ? spec_name(s, n->role_spec)
                                                                        : "";
    const Role& r = existing_role(rs, name);
    // Superusers and CREATEROLE roles grant any non-superuser role; otherwise ADMIN OPTION.
    bool admin = false;
    for (const auto& m : rs.members)
      if (m.role == r.oid && m.admin && has_privs_of_role(rs, who, m.member)) admin = true;
    if (!is_superuser(rs, who) && !(can_createrole(rs, who) && !r.superuser) && !admin)
      throw SqlError(sqlstate::kInsufficientPrivilege, "must have admin option on role \"" + name + "\"");
    granted.push_back(r.oid);
  }
  for (size_t i = 0; i < st->n_grantee_roles; ++i) {
    std::string name = spec_name(s, role_spec(st->grantee_roles[i]));
    grantees.push_back(existing_role(rs, name).oid);
  }
  catalog.change_roles([&](RoleState& next) {
    for (uint32_t g : granted)
      for (uint32_t m : grantees) {
        if (st->is_grant) {
          add_membership(next, g, m, who, st->admin_opt);
        } else if (st->admin_opt) {  // REVOKE ADMIN OPTION FOR
          for (auto& x : next.members)
            if (x.role == g && x.member == m) x.admin = false;
        } else {
          std::erase_if(next.members, [&](const Membership& x) { return x.role == g && x.member == m; });
        }
      }
  });
  return tag(st->is_grant ? "GRANT ROLE" : "REVOKE ROLE");
}

// ---- GRANT / REVOKE of privileges ----

// Grants or revokes `privs` for `grantees` in an ACL, as given by `grantor`.
void change_acl(std::vector<sql::AclItem>& acl, bool is_grant, bool grant_option, uint32_t privs, uint32_t grantor,
                const std::vector<uint32_t>& grantees) {
  for (uint32_t g : grantees) {
    if (is_grant) {
      auto it = std::find_if(acl.begin(), acl.end(), [&](const sql::AclItem& i) { return i.grantee == g && i.grantor == grantor; });
      if (it == acl.end()) {
        acl.push_back({g, grantor, 0, 0});
        it = acl.end() - 1;
      }
      it->privs |= privs;
      if (grant_option) it->grant_options |= privs;
    } else {
      for (auto& i : acl) {
        if (i.grantee != g || i.grantor != grantor) continue;
        i.grant_options &= ~privs;
        if (!grant_option) i.privs &= ~privs;
      }
      std::erase_if(acl, [](const sql::AclItem& i) { return i.privs == 0; });
    }
  }
}

uint32_t requested_privileges(const PgQuery__GrantStmt* st, uint32_t all, const char* kind_word) {
  if (st->n_privileges == 0) return all;  // ALL [PRIVILEGES]
  uint32_t mask = 0;
  for (size_t i = 0; i < st->n_privileges; ++i) {
    if (st->privileges[i]->node_case != PG_QUERY__NODE__NODE_ACCESS_PRIV) throw SqlError(sqlstate::kSyntaxError, "expected a privilege");
    const PgQuery__AccessPriv* p = st->privileges[i]->access_priv;
    if (p->n_cols > 0) throw SqlError(sqlstate::kFeatureNotSupported, "column privileges are not supported");
    if (p->priv_name == nullptr) return all;
    uint32_t bit = parse_privilege_list(p->priv_name);
    if ((bit & all) == 0) {
      std::string upper = p->priv_name;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      throw SqlError("0LP01", "invalid privilege type " + upper + " for " + kind_word);
    }
    mask |= bit;
  }
  return mask;
}

// Who grants: the owner when the acting role owns it (or is a superuser), else the role
// itself when it holds every privilege WITH GRANT OPTION; else 42501.
uint32_t grantor_for(const RoleState& rs, uint32_t who, uint32_t owner, const std::vector<sql::AclItem>& acl, uint32_t privs,
                     const std::function<void()>& deny) {
  if (is_superuser(rs, who) || has_privs_of_role(rs, who, owner)) return owner;
  uint32_t options = 0;
  for (const auto& i : acl)
    if (i.grantee == who) options |= i.grant_options;
  if ((options & privs) != privs) deny();
  return who;
}

std::unique_ptr<Execution> grant(RoleSession& s, const PgQuery__GrantStmt* st, uint32_t who) {
  DdlLocks lock(s.cs);
  Catalog& catalog = s.catalog;
  const RoleState& rs = catalog.roles();
  std::vector<uint32_t> grantees;
  for (size_t i = 0; i < st->n_grantees; ++i) {
    std::string name = spec_name(s, role_spec(st->grantees[i]));
    grantees.push_back(name.empty() ? kPublicRoleOid : existing_role(rs, name).oid);
  }
  std::string done_tag = st->is_grant ? "GRANT" : "REVOKE";
  if (st->targtype == PG_QUERY__GRANT_TARGET_TYPE__ACL_TARGET_DEFAULTS)
    throw SqlError(sqlstate::kFeatureNotSupported, "ALTER DEFAULT PRIVILEGES is not supported");
  switch (st->objtype) {
    case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE: {
      uint32_t privs = requested_privileges(st, priv::kAllTable, "table");
      std::vector<uint64_t> ids;
      if (st->targtype == PG_QUERY__GRANT_TARGET_TYPE__ACL_TARGET_ALL_IN_SCHEMA) {
        for (size_t i = 0; i < st->n_objects; ++i) {
          std::string schema = node_string(st->objects[i]);
          for (const auto& [id, o] : catalog.objects())
            if (o->schema == schema && o->kind != sql::ObjectKind::kIndex && o->kind != sql::ObjectKind::kSecret &&
                o->kind != sql::ObjectKind::kConnection && o->kind != sql::ObjectKind::kSink)
              ids.push_back(id);
        }
      } else {
        for (size_t i = 0; i < st->n_objects; ++i) {
          if (st->objects[i]->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
            throw SqlError(sqlstate::kFeatureNotSupported, "GRANT on this kind of object is not supported");
          const PgQuery__RangeVar* rv = st->objects[i]->range_var;
          const sql::ObjectInfo* o = catalog.lookup(rv->schemaname ? rv->schemaname : "", rv->relname);
          if (o == nullptr || o->kind == sql::ObjectKind::kIndex || o->kind == sql::ObjectKind::kSecret ||
              o->kind == sql::ObjectKind::kConnection)
            throw SqlError(sqlstate::kUndefinedTable, "relation \"" + std::string(rv->relname) + "\" does not exist");
          if (o->kind == sql::ObjectKind::kSystemView)
            throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied for view " + o->name)
                .with_detail("The system catalogs' privileges cannot be changed.");
          ids.push_back(o->id);
        }
      }
      // The grantor of each object, checked before any is changed: its owner when the role owns
      // it (or is a superuser); the role when it holds the privileges WITH GRANT OPTION;
      // nothing is granted when it holds some privilege but no such option (PostgreSQL warns
      // "no privileges were granted"); 42501 when it holds none.
      std::vector<std::pair<uint64_t, uint32_t>> plan;
      for (uint64_t id : ids) {
        const sql::ObjectInfo* o = catalog.find(id);
        std::vector<sql::AclItem> acl = effective_acl(*o);
        uint32_t owner = owner_of(*o);
        if (is_superuser(rs, who) || has_privs_of_role(rs, who, owner)) {
          plan.push_back({id, owner});
          continue;
        }
        uint32_t options = 0;
        for (const auto& i : acl)
          if (i.grantee == kPublicRoleOid || has_privs_of_role(rs, who, i.grantee)) options |= i.grant_options;
        if ((options & privs) == privs) plan.push_back({id, who});
        else if (acl_mask(rs, acl, who) == 0) permission_denied(o->kind, o->name);
      }
      for (auto [id, grantor] : plan) {
        sql::ObjectInfo* o = catalog.find(id);
        std::vector<sql::AclItem> acl = effective_acl(*o);
        change_acl(acl, st->is_grant, st->grant_option, privs, grantor, grantees);
        o->acl = std::move(acl);
        catalog.updated(id);  // durable, or put back as it was and throws
      }
      return tag(done_tag);
    }
    case PG_QUERY__OBJECT_TYPE__OBJECT_FOREIGN_SERVER:  // ON CONNECTION (rewrite_object_grant)
    case PG_QUERY__OBJECT_TYPE__OBJECT_FDW: {            // ON SECRET
      bool connection = st->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_FOREIGN_SERVER;
      sql::ObjectKind kind = connection ? sql::ObjectKind::kConnection : sql::ObjectKind::kSecret;
      uint32_t privs = requested_privileges(st, priv::kUsage, connection ? "connection" : "secret");
      std::vector<uint64_t> ids;
      for (size_t i = 0; i < st->n_objects; ++i) {
        std::string name = node_string(st->objects[i]);
        const sql::ObjectInfo* o = catalog.lookup("", name);
        if (o == nullptr || o->kind != kind)
          throw SqlError(sqlstate::kUndefinedObject, std::string("unknown ") + (connection ? "connection" : "secret") + " '" + name + "'");
        uint32_t owner = owner_of(*o);
        if (!is_superuser(rs, who) && !has_privs_of_role(rs, who, owner)) must_be_owner(o->kind, o->name);
        ids.push_back(o->id);
      }
      for (uint64_t id : ids) {
        sql::ObjectInfo* o = catalog.find(id);
        std::vector<sql::AclItem> acl = effective_acl(*o);
        change_acl(acl, st->is_grant, st->grant_option, privs, owner_of(*o), grantees);
        o->acl = std::move(acl);
        catalog.updated(id);
      }
      return tag(done_tag);
    }
    case PG_QUERY__OBJECT_TYPE__OBJECT_SCHEMA: {
      uint32_t privs = requested_privileges(st, priv::kAllSchema, "schema");
      std::vector<std::string> schemas;
      for (size_t i = 0; i < st->n_objects; ++i) schemas.push_back(node_string(st->objects[i]));
      for (const auto& schema : schemas) {
        bool known = schema == "public" || schema == "pg_catalog" || schema == "information_schema";
        for (const auto& [id, o] : catalog.objects()) known = known || o->schema == schema;
        if (!known) throw SqlError("3F000", "schema \"" + schema + "\" does not exist");
        if (schema == "pg_catalog" || schema == "information_schema")
          throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied for schema " + schema);
        grantor_for(rs, who, kBootstrapRoleOid, schema_acl(rs, schema), privs, [&] {
          throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied for schema " + schema);
        });
      }
      catalog.change_roles([&](RoleState& next) {
        for (const auto& schema : schemas) {
          std::vector<sql::AclItem> acl = schema_acl(next, schema);
          change_acl(acl, st->is_grant, st->grant_option, privs, grantor_for(next, who, kBootstrapRoleOid, acl, privs, [] {}), grantees);
          next.schema_acls[schema] = std::move(acl);
        }
      });
      return tag(done_tag);
    }
    case PG_QUERY__OBJECT_TYPE__OBJECT_DATABASE: {
      uint32_t privs = requested_privileges(st, priv::kAllDatabase, "database");
      for (size_t i = 0; i < st->n_objects; ++i) {
        std::string db = node_string(st->objects[i]);
        if (db != "freshet" && db != s.settings["database"])
          throw SqlError("3D000", "database \"" + db + "\" does not exist");
      }
      grantor_for(rs, who, kBootstrapRoleOid, database_acl(rs), privs,
                  [] { throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied for database freshet"); });
      catalog.change_roles([&](RoleState& next) {
        std::vector<sql::AclItem> acl = database_acl(next);
        change_acl(acl, st->is_grant, st->grant_option, privs, grantor_for(next, who, kBootstrapRoleOid, acl, privs, [] {}), grantees);
        next.database_acl = std::move(acl);
      });
      return tag(done_tag);
    }
    default:
      throw SqlError(sqlstate::kFeatureNotSupported, "GRANT and REVOKE on this kind of object are not supported")
          .with_hint("Freshet grants privileges on tables, views, materialized views, sources, schemas and the database.");
  }
}

// ALTER TABLE/VIEW/MATERIALIZED VIEW t OWNER TO r.
std::unique_ptr<Execution> alter_owner(RoleSession& s, const PgQuery__AlterTableStmt* st, uint32_t who) {
  DdlLocks lock(s.cs);
  Catalog& catalog = s.catalog;
  const RoleState& rs = catalog.roles();
  const PgQuery__RangeVar* rv = st->relation;
  if (rv == nullptr || rv->relname == nullptr) throw SqlError(sqlstate::kSyntaxError, "expected a relation");
  const sql::ObjectInfo* found = catalog.lookup(rv->schemaname ? rv->schemaname : "", rv->relname);
  if (found == nullptr || found->kind == sql::ObjectKind::kSystemView) {
    if (st->missing_ok) return tag("ALTER TABLE");
    throw SqlError(sqlstate::kUndefinedTable, "relation \"" + std::string(rv->relname) + "\" does not exist");
  }
  sql::ObjectInfo* o = catalog.find(found->id);
  const PgQuery__RoleSpec* spec = st->cmds[0]->alter_table_cmd->newowner;
  if (spec == nullptr) throw SqlError(sqlstate::kSyntaxError, "expected OWNER TO a role");
  std::string new_name = spec_name(s, spec);
  const Role& to = existing_role(rs, new_name);
  if (!is_superuser(rs, who)) {
    if (!has_privs_of_role(rs, who, owner_of(*o))) must_be_owner(o->kind, o->name);
    if (!is_member_of_role(rs, who, to.oid))
      throw SqlError(sqlstate::kInsufficientPrivilege, "must be member of role \"" + to.name + "\"");
    if (!has_schema_privilege(rs, o->schema, to.oid, priv::kCreate))
      throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied for schema " + o->schema);
  }
  uint32_t old_owner = owner_of(*o);
  if (old_owner != to.oid) {
    o->owner = to.oid;
    if (o->acl)
      for (auto& i : *o->acl) {  // PostgreSQL's aclnewowner: the old owner's entries move over
        if (i.grantee == old_owner) i.grantee = to.oid;
        if (i.grantor == old_owner) i.grantor = to.oid;
      }
    catalog.updated(o->id);
  }
  switch (st->objtype) {
    case PG_QUERY__OBJECT_TYPE__OBJECT_VIEW: return tag("ALTER VIEW");
    case PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW: return tag("ALTER MATERIALIZED VIEW");
    default: return tag("ALTER TABLE");
  }
}

std::string set_value(const PgQuery__VariableSetStmt* st) {
  if (st->n_args == 0) return "";
  const PgQuery__Node* a = st->args[0];
  if (a->node_case == PG_QUERY__NODE__NODE_A_CONST && a->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL)
    return a->a_const->sval->sval;
  return "";
}

std::unique_ptr<Execution> set_role(RoleSession& s, const PgQuery__VariableSetStmt* st) {
  std::string name = sql::lower_ident(st->name ? st->name : "");
  bool reset = st->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET || st->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT;
  std::string value = reset ? "" : set_value(st);
  std::shared_lock lock(s.cs.mu);
  const RoleState& rs = s.catalog.roles();
  if (name == "role") {
    if (value == "none") value.clear();
    if (!value.empty()) {
      const Role& r = existing_role(rs, value);
      std::string session_user = s.session_auth.empty() ? s.login_user : s.session_auth;
      if (!is_member_of_role(rs, role_for_name(s.catalog, session_user), r.oid))
        throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied to set role \"" + value + "\"");
    }
    s.set_role = value;
    s.settings["role"] = value.empty() ? "none" : value;
  } else {  // session_authorization
    if (!value.empty() && value != s.login_user) {
      existing_role(rs, value);
      if (!is_superuser(rs, role_for_name(s.catalog, s.login_user)))
        throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied to set session authorization");
    }
    s.session_auth = value == s.login_user ? "" : value;
    s.set_role.clear();  // as PostgreSQL: SET SESSION AUTHORIZATION resets the role
    s.settings["role"] = "none";
  }
  lock.unlock();
  report_role_settings(s);
  return tag(reset ? "RESET" : "SET");
}

}  // namespace

// Whether `member` is (transitively) a member of `role`, ignoring superuser status: the
// cycle check of GRANT role.
bool is_member_of_role_strict(const RoleState& rs, uint32_t member, uint32_t role) {
  std::set<uint32_t> seen = {member};
  std::vector<uint32_t> todo = {member};
  while (!todo.empty()) {
    uint32_t r = todo.back();
    todo.pop_back();
    if (r == role) return true;
    for (const auto& m : rs.members)
      if (m.member == r && seen.insert(m.role).second) todo.push_back(m.role);
  }
  return false;
}

uint32_t role_for_name(const Catalog& catalog, const std::string& name) { return role_oid_or_bootstrap(catalog.roles(), name); }

std::string current_role_name(const RoleSession& s) {
  if (!s.set_role.empty()) return s.set_role;
  return s.session_auth.empty() ? s.login_user : s.session_auth;
}

void report_role_settings(RoleSession& s) {
  std::string session_user = s.session_auth.empty() ? s.login_user : s.session_auth;
  bool super;
  {
    std::shared_lock lock(s.cs.mu);
    super = is_superuser(s.catalog.roles(), role_for_name(s.catalog, current_role_name(s)));
  }
  auto set = [&](const std::string& k, const std::string& v) {
    if (s.settings[k] == v) return;
    s.settings[k] = v;
    s.changed.push_back({k, v});
  };
  set("session_authorization", session_user);
  set("is_superuser", super ? "on" : "off");
}

std::optional<std::string> rewrite_object_grant(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
  auto starts = [&](std::string_view word) {
    if (sql.size() - i < word.size()) return false;
    for (size_t k = 0; k < word.size(); ++k)
      if (std::tolower(static_cast<unsigned char>(sql[i + k])) != word[k]) return false;
    return true;
  };
  if (!starts("grant") && !starts("revoke")) return std::nullopt;
  static const std::regex kOn(R"(\bON\s+(SECRET|CONNECTION|SOURCE)\s)", std::regex::icase);
  std::string text(sql);
  std::smatch m;
  if (!std::regex_search(text, m, kOn)) return std::nullopt;
  std::string kind = m[1].str();
  for (auto& c : kind) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string with = kind == "SECRET" ? "ON FOREIGN DATA WRAPPER " : kind == "CONNECTION" ? "ON FOREIGN SERVER " : "ON TABLE ";
  return text.substr(0, static_cast<size_t>(m.position(0))) + with + text.substr(static_cast<size_t>(m.position(0) + m.length(0)));
}

bool is_role_statement(const PgQuery__Node* stmt) {
  switch (stmt->node_case) {
    case PG_QUERY__NODE__NODE_CREATE_ROLE_STMT:
    case PG_QUERY__NODE__NODE_ALTER_ROLE_STMT:
    case PG_QUERY__NODE__NODE_DROP_ROLE_STMT:
    case PG_QUERY__NODE__NODE_GRANT_ROLE_STMT:
    case PG_QUERY__NODE__NODE_GRANT_STMT:
      return true;
    case PG_QUERY__NODE__NODE_RENAME_STMT: return stmt->rename_stmt->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_ROLE;
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT: {
      const auto* a = stmt->alter_table_stmt;
      return a->n_cmds == 1 && a->cmds[0]->node_case == PG_QUERY__NODE__NODE_ALTER_TABLE_CMD &&
             a->cmds[0]->alter_table_cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_ChangeOwner;
    }
    default:
      return false;
  }
}

std::unique_ptr<Execution> run_role_statement(RoleSession& s, const PgQuery__Node* stmt) {
  auto who = [&] {
    std::shared_lock lock(s.cs.mu);
    return role_for_name(s.catalog, current_role_name(s));
  };
  switch (stmt->node_case) {
    case PG_QUERY__NODE__NODE_CREATE_ROLE_STMT: return create_role(s, stmt->create_role_stmt, who());
    case PG_QUERY__NODE__NODE_ALTER_ROLE_STMT: return alter_role(s, stmt->alter_role_stmt, who());
    case PG_QUERY__NODE__NODE_DROP_ROLE_STMT: return drop_role(s, stmt->drop_role_stmt, who());
    case PG_QUERY__NODE__NODE_GRANT_ROLE_STMT: return grant_role(s, stmt->grant_role_stmt, who());
    case PG_QUERY__NODE__NODE_GRANT_STMT: return grant(s, stmt->grant_stmt, who());
    case PG_QUERY__NODE__NODE_RENAME_STMT:
      if (stmt->rename_stmt->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_ROLE) return rename_role(s, stmt->rename_stmt, who());
      return nullptr;
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT: {
      const auto* a = stmt->alter_table_stmt;
      if (a->n_cmds != 1 || a->cmds[0]->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD ||
          a->cmds[0]->alter_table_cmd->subtype != PG_QUERY__ALTER_TABLE_TYPE__AT_ChangeOwner)
        return nullptr;
      return alter_owner(s, a, who());
    }
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT: {
      const auto* v = stmt->variable_set_stmt;
      std::string name = sql::lower_ident(v->name ? v->name : "");
      if (name == "role" || name == "session_authorization") return set_role(s, v);
      return nullptr;
    }
    default:
      return nullptr;
  }
}

void check_statement_privileges(Coordinator::State& cs, const Catalog& catalog, const std::string& role_name, const PgQuery__Node* stmt) {
  switch (stmt->node_case) {
    case PG_QUERY__NODE__NODE_INSERT_STMT:
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
    case PG_QUERY__NODE__NODE_DELETE_STMT:
    case PG_QUERY__NODE__NODE_COPY_STMT:
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
    case PG_QUERY__NODE__NODE_DROP_STMT:
      break;
    default:
      return;
  }
  std::shared_lock lock(cs.mu);
  uint32_t role = role_for_name(catalog, role_name);
  const PgQuery__RangeVar* target = nullptr;
  uint32_t wanted = 0;
  switch (stmt->node_case) {
    case PG_QUERY__NODE__NODE_INSERT_STMT:
      target = stmt->insert_stmt->relation;
      wanted = priv::kInsert;
      // ON CONFLICT ... DO UPDATE needs UPDATE; RETURNING needs SELECT.
      if (stmt->insert_stmt->on_conflict_clause && stmt->insert_stmt->on_conflict_clause->action == PG_QUERY__ON_CONFLICT_ACTION__ONCONFLICT_UPDATE)
        wanted |= priv::kUpdate;
      if (stmt->insert_stmt->n_returning_list > 0) wanted |= priv::kSelect;
      break;
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
      target = stmt->update_stmt->relation;
      wanted = priv::kUpdate;
      // Reading the table's columns (WHERE, RETURNING, SET a = a + 1) needs SELECT; PostgreSQL
      // asks it per column, Freshet for the table when there is a WHERE or RETURNING.
      if (stmt->update_stmt->where_clause || stmt->update_stmt->n_returning_list > 0) wanted |= priv::kSelect;
      break;
    case PG_QUERY__NODE__NODE_DELETE_STMT:
      target = stmt->delete_stmt->relation;
      wanted = priv::kDelete;
      if (stmt->delete_stmt->where_clause || stmt->delete_stmt->n_returning_list > 0) wanted |= priv::kSelect;
      break;
    case PG_QUERY__NODE__NODE_COPY_STMT:
      if (stmt->copy_stmt->relation == nullptr) return;  // COPY (query) TO: the query is bound and checked
      target = stmt->copy_stmt->relation;
      wanted = stmt->copy_stmt->is_from ? priv::kInsert : priv::kSelect;
      break;
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT: {
      const RoleState& rs = catalog.roles();
      for (size_t i = 0; i < stmt->truncate_stmt->n_relations; ++i) {
        const PgQuery__RangeVar* rv = stmt->truncate_stmt->relations[i]->range_var;
        const sql::ObjectInfo* o = catalog.lookup(rv->schemaname ? rv->schemaname : "", rv->relname);
        if (o != nullptr && !has_object_privilege(rs, *o, role, priv::kTruncate)) permission_denied(o->kind, o->name);
      }
      return;
    }
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT: {  // ADD/DROP COLUMN: the owner's (OWNER TO checks itself)
      const RoleState& rs = catalog.roles();
      const auto* rel = stmt->alter_table_stmt->relation;
      if (is_superuser(rs, role) || is_role_statement(stmt) || rel == nullptr) return;
      const sql::ObjectInfo* o = catalog.lookup(rel->schemaname ? rel->schemaname : "", rel->relname);
      if (o == nullptr || o->kind == sql::ObjectKind::kSystemView) return;  // ALTER answers its own error
      if (!has_privs_of_role(rs, role, owner_of(*o))) must_be_owner(o->kind, o->name);
      return;
    }
    case PG_QUERY__NODE__NODE_DROP_STMT: {
      const RoleState& rs = catalog.roles();
      if (is_superuser(rs, role)) return;
      for (size_t i = 0; i < stmt->drop_stmt->n_objects; ++i) {
        const PgQuery__Node* n = stmt->drop_stmt->objects[i];
        if (n->node_case != PG_QUERY__NODE__NODE_LIST) continue;
        std::string schema, name;
        const auto* l = n->list;
        if (l->n_items == 1) name = node_string(l->items[0]);
        else if (l->n_items >= 2) schema = node_string(l->items[l->n_items - 2]), name = node_string(l->items[l->n_items - 1]);
        const sql::ObjectInfo* o = catalog.lookup(schema, name);
        if (o == nullptr || o->kind == sql::ObjectKind::kSystemView) continue;  // DROP answers its own error
        // An index is dropped by its relation's owner.
        const sql::ObjectInfo* owner_obj = o;
        if (o->kind == sql::ObjectKind::kIndex) {
          for (const auto& [id, x] : catalog.objects())
            if (id == o->index_on) owner_obj = x.get();
        }
        if (!has_privs_of_role(rs, role, owner_of(*owner_obj))) must_be_owner(o->kind, o->name);
      }
      return;
    }
    default:
      return;
  }
  if (target == nullptr) return;
  const sql::ObjectInfo* o = catalog.lookup(target->schemaname ? target->schemaname : "", target->relname);
  if (o == nullptr) return;  // the statement answers 42P01 itself
  if (!has_object_privilege(catalog.roles(), *o, role, wanted)) permission_denied(o->kind, o->name);
}

void check_owner(Coordinator::State& cs, const Catalog& catalog, const std::string& role_name, const std::string& name) {
  std::shared_lock lock(cs.mu);
  const sql::ObjectInfo* o = catalog.lookup("", name);
  if (o == nullptr || o->kind == sql::ObjectKind::kSystemView) return;
  const RoleState& rs = catalog.roles();
  if (!has_privs_of_role(rs, role_for_name(catalog, role_name), owner_of(*o))) must_be_owner(o->kind, o->name);
}

void bootstrap_roles(Coordinator::State& cs, const AuthConfig& auth) {
  std::unique_lock lock(cs.mu);
  Catalog& catalog = cs.catalog;
  std::string boot = auth.bootstrap_role;
  if (auth.passwords.count("freshet") || boot.empty()) boot = "freshet";
  RoleState next = catalog.roles();
  bool changed = false;
  Role& b = next.roles[kBootstrapRoleOid];
  if (b.oid != kBootstrapRoleOid || b.name != boot || !b.superuser || !b.login) {
    // Another role of that name (created by SQL, now configured as the bootstrap user) gives
    // way: the bootstrap role takes the name.
    for (auto& [oid, r] : next.roles)
      if (oid != kBootstrapRoleOid && r.name == boot) r.name = boot + "_" + std::to_string(oid);
    b.oid = kBootstrapRoleOid;
    b.name = boot;
    b.superuser = b.inherit = b.createrole = b.createdb = b.login = true;
    changed = true;
  }
  for (const auto& [user, password] : auth.passwords) {
    Role* r = next.find_mut(user);
    if (r == nullptr) {
      Role n;
      n.oid = catalog.allocate_oid();
      n.name = user;
      n.login = true;
      r = &(next.roles[n.oid] = n);
      changed = true;
    }
    if (!password_matches(r->password, password)) {
      r->password = make_password_verifier(password);
      changed = true;
    }
  }
  if (changed) {
    if (cs.persist) {
      Status st = cs.persist->put_roles(cs.now_ts, next.to_json());
      if (!st) throw storage_write_error("could not store the roles", st);
    }
    catalog.restore_roles(std::move(next));
  }
  Coordinator::State* state = &cs;
  catalog.on_roles_change = [state](const RoleState& rs) {
    if (!state->persist) return;
    if (Status st = state->persist->put_roles(state->now_ts, rs.to_json()); !st)
      throw storage_write_error("could not record a role change durably", st);
  };
}

LoginRole login_role(Coordinator::State& cs, const std::string& user) {
  LoginRole out;
  std::shared_lock lock(cs.mu);
  const Role* r = cs.catalog.roles().find(user);
  if (r == nullptr) return out;
  out.exists = true;
  out.login = r->login;
  out.superuser = r->superuser;
  out.connect = has_database_privilege(cs.catalog.roles(), r->oid, priv::kConnect);
  out.verifier = r->password;
  if (auto k = parse_password_verifier(r->password)) {
    out.has_password = true;
    out.salt = k->salt;
    out.iterations = k->iterations;
    out.stored_key = k->stored_key;
    out.server_key = k->server_key;
  }
  return out;
}

}  // namespace freshet::server
