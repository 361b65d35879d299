#include "server/roles.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "common/error.hpp"
#include "kafka/sasl.hpp"
#include "server/catalog.hpp"

namespace freshet::server {

using nlohmann::json;

// ---- RoleState ----------------------------------------------------------------------------------

const Role* RoleState::find(std::string_view name) const {
  for (const auto& [oid, r] : roles)
    if (r.name == name) return &r;
  return nullptr;
}

const Role* RoleState::find(uint32_t oid) const {
  auto it = roles.find(oid);
  return it == roles.end() ? nullptr : &it->second;
}

Role* RoleState::find_mut(std::string_view name) {
  for (auto& [oid, r] : roles)
    if (r.name == name) return &r;
  return nullptr;
}

std::string RoleState::name_of(uint32_t oid) const {
  if (oid == kPublicRoleOid) return "";
  const Role* r = find(oid);
  return r ? r->name : std::to_string(oid);
}

namespace {

json acl_json(const std::vector<sql::AclItem>& acl) {
  json a = json::array();
  for (const auto& i : acl) a.push_back({i.grantee, i.grantor, i.privs, i.grant_options});
  return a;
}

std::vector<sql::AclItem> acl_from(const json& a) {
  std::vector<sql::AclItem> out;
  for (const auto& e : a) out.push_back({e.at(0).get<uint32_t>(), e.at(1).get<uint32_t>(), e.at(2).get<uint32_t>(), e.at(3).get<uint32_t>()});
  return out;
}

}  // namespace

std::string RoleState::to_json() const {
  json rs = json::array();
  for (const auto& [oid, r] : roles)
    rs.push_back({{"oid", r.oid},
                  {"name", r.name},
                  {"super", r.superuser},
                  {"inherit", r.inherit},
                  {"createrole", r.createrole},
                  {"createdb", r.createdb},
                  {"login", r.login},
                  {"password", r.password}});
  json ms = json::array();
  for (const auto& m : members) ms.push_back({m.role, m.member, m.grantor, m.admin});
  json schemas = json::object();
  for (const auto& [s, acl] : schema_acls) schemas[s] = acl_json(acl);
  json j{{"roles", rs}, {"members", ms}, {"schemas", schemas}};
  if (database_acl) j["database"] = acl_json(*database_acl);
  return j.dump();
}

RoleState RoleState::from_json(std::string_view text) {
  RoleState s;
  json j = json::parse(text);
  for (const auto& r : j.at("roles")) {
    Role role;
    role.oid = r.at("oid").get<uint32_t>();
    role.name = r.at("name").get<std::string>();
    role.superuser = r.at("super").get<bool>();
    role.inherit = r.at("inherit").get<bool>();
    role.createrole = r.at("createrole").get<bool>();
    role.createdb = r.at("createdb").get<bool>();
    role.login = r.at("login").get<bool>();
    role.password = r.at("password").get<std::string>();
    s.roles[role.oid] = std::move(role);
  }
  for (const auto& m : j.at("members"))
    s.members.push_back({m.at(0).get<uint32_t>(), m.at(1).get<uint32_t>(), m.at(2).get<uint32_t>(), m.at(3).get<bool>()});
  for (const auto& [name, acl] : j.at("schemas").items()) s.schema_acls[name] = acl_from(acl);
  if (j.contains("database")) s.database_acl = acl_from(j.at("database"));
  return s;
}

// ---- passwords ----------------------------------------------------------------------------------

std::string make_password_verifier(std::string_view password) {
  std::string salt = kafka::random_nonce().substr(0, 16);
  kafka::ScramCredential c = kafka::make_scram_credential(password, salt);
  auto b64 = [](const std::array<uint8_t, 32>& k) { return kafka::base64_encode(std::string_view(reinterpret_cast<const char*>(k.data()), k.size())); };
  return "SCRAM-SHA-256$" + std::to_string(c.iterations) + ":" + kafka::base64_encode(salt) + "$" + b64(c.stored_key) + ":" +
         b64(c.server_key);
}

std::optional<ScramKeys> parse_password_verifier(std::string_view text) {
  constexpr std::string_view kPrefix = "SCRAM-SHA-256$";
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  size_t colon = text.find(':'), dollar = text.find('$');
  if (colon == std::string_view::npos || dollar == std::string_view::npos || colon > dollar) return std::nullopt;
  ScramKeys k;
  try {
    k.iterations = std::stoi(std::string(text.substr(0, colon)));
  } catch (...) {
    return std::nullopt;
  }
  if (k.iterations < 1 || k.iterations > 10'000'000) return std::nullopt;
  auto salt = kafka::base64_decode(text.substr(colon + 1, dollar - colon - 1));
  if (!salt || salt->empty()) return std::nullopt;
  k.salt = *salt;
  std::string_view keys = text.substr(dollar + 1);
  size_t c2 = keys.find(':');
  if (c2 == std::string_view::npos) return std::nullopt;
  auto stored = kafka::base64_decode(keys.substr(0, c2));
  auto server = kafka::base64_decode(keys.substr(c2 + 1));
  if (!stored || !server || stored->size() != 32 || server->size() != 32) return std::nullopt;
  std::memcpy(k.stored_key.data(), stored->data(), 32);
  std::memcpy(k.server_key.data(), server->data(), 32);
  return k;
}

bool password_matches(std::string_view verifier, std::string_view password) {
  auto k = parse_password_verifier(verifier);
  if (!k) return false;
  kafka::ScramCredential c = kafka::make_scram_credential(password, k->salt, k->iterations);
  // Compared in full (no early exit), as a constant-time comparison would.
  uint8_t diff = 0;
  for (size_t i = 0; i < 32; ++i) diff |= static_cast<uint8_t>(c.stored_key[i] ^ k->stored_key[i]);
  return diff == 0;
}

// ---- membership ---------------------------------------------------------------------------------

namespace {

// Roles reachable from `member` through memberships; when `inherit_only`, a role that does
// not INHERIT passes on nothing (PostgreSQL 15's roles_is_member_of with ROLERECURSE_PRIVS).
std::set<uint32_t> reachable(const RoleState& rs, uint32_t member, bool inherit_only) {
  std::set<uint32_t> seen = {member};
  std::deque<uint32_t> todo = {member};
  while (!todo.empty()) {
    uint32_t r = todo.front();
    todo.pop_front();
    if (inherit_only) {
      const Role* role = rs.find(r);
      if (role != nullptr && !role->inherit) continue;
    }
    for (const auto& m : rs.members)
      if (m.member == r && seen.insert(m.role).second) todo.push_back(m.role);
  }
  return seen;
}

}  // namespace

bool is_superuser(const RoleState& rs, uint32_t role) {
  const Role* r = rs.find(role);
  return r != nullptr && r->superuser;
}

bool has_privs_of_role(const RoleState& rs, uint32_t member, uint32_t role) {
  if (member == role || is_superuser(rs, member)) return true;
  return reachable(rs, member, true).count(role) > 0;
}

bool is_member_of_role(const RoleState& rs, uint32_t member, uint32_t role) {
  if (member == role || is_superuser(rs, member)) return true;
  return reachable(rs, member, false).count(role) > 0;
}

// ---- ACLs ---------------------------------------------------------------------------------------

namespace {

uint32_t default_privileges(sql::ObjectKind kind) {
  switch (kind) {
    case sql::ObjectKind::kTable:
    case sql::ObjectKind::kView:
    case sql::ObjectKind::kMaterializedView:
    case sql::ObjectKind::kSource:
    case sql::ObjectKind::kSink:
    case sql::ObjectKind::kSystemView:
    case sql::ObjectKind::kIndex:
      return priv::kAllTable;
    case sql::ObjectKind::kSecret:
    case sql::ObjectKind::kConnection:
    case sql::ObjectKind::kType:
      return priv::kAllUsage;
    case sql::ObjectKind::kSchema: return priv::kAllSchema;
    case sql::ObjectKind::kDatabase: return priv::kAllDatabase;
  }
  return priv::kAllTable;
}

constexpr std::string_view kPrivLetters = "arwdDxtXUCTc";

}  // namespace

std::vector<sql::AclItem> effective_acl(const sql::ObjectInfo& obj) {
  if (obj.acl) return *obj.acl;
  uint32_t owner = owner_of(obj);
  uint32_t all = default_privileges(obj.kind);
  return {{owner, owner, all, 0}};
}

std::vector<sql::AclItem> schema_acl(const RoleState& rs, const std::string& schema) {
  auto it = rs.schema_acls.find(schema);
  if (it != rs.schema_acls.end()) return it->second;
  return {{kBootstrapRoleOid, kBootstrapRoleOid, priv::kAllSchema, 0}, {kPublicRoleOid, kBootstrapRoleOid, priv::kUsage, 0}};
}

std::vector<sql::AclItem> database_acl(const RoleState& rs) {
  if (rs.database_acl) return *rs.database_acl;
  return {{kPublicRoleOid, kBootstrapRoleOid, priv::kTemp | priv::kConnect, 0},
          {kBootstrapRoleOid, kBootstrapRoleOid, priv::kAllDatabase, 0}};
}

uint32_t acl_mask(const RoleState& rs, const std::vector<sql::AclItem>& acl, uint32_t role) {
  std::set<uint32_t> mine = reachable(rs, role, true);
  uint32_t mask = 0;
  for (const auto& i : acl)
    if (i.grantee == kPublicRoleOid || mine.count(i.grantee)) mask |= i.privs;
  return mask;
}

bool has_object_privilege(const RoleState& rs, const sql::ObjectInfo& obj, uint32_t role, uint32_t wanted) {
  if (is_superuser(rs, role)) return true;
  // The catalogs are readable by all, but pg_authid (it holds the verifiers) by superusers only.
  if (obj.kind == sql::ObjectKind::kSystemView) return (wanted & ~priv::kSelect) == 0 && obj.name != "pg_authid";
  return (acl_mask(rs, effective_acl(obj), role) & wanted) == wanted;
}

bool has_schema_privilege(const RoleState& rs, const std::string& schema, uint32_t role, uint32_t wanted) {
  if (is_superuser(rs, role)) return true;
  if (schema == "pg_catalog" || schema == "information_schema" || schema == "mz_catalog" || schema == "mz_internal")
    return (wanted & ~priv::kUsage) == 0;
  return (acl_mask(rs, schema_acl(rs, schema), role) & wanted) == wanted;
}

bool has_database_privilege(const RoleState& rs, uint32_t role, uint32_t wanted) {
  if (is_superuser(rs, role)) return true;
  return (acl_mask(rs, database_acl(rs), role) & wanted) == wanted;
}

namespace {

// A role name in aclitem's text form: quoted when it is not a plain lower-case identifier.
std::string acl_role_name(const std::string& name) {
  bool plain = !name.empty();
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) plain = false;
  if (plain) return name;
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string aclitem_text(const RoleState& rs, const sql::AclItem& item) {
  std::string out = item.grantee == kPublicRoleOid ? "" : acl_role_name(rs.name_of(item.grantee));
  out += '=';
  for (size_t b = 0; b < kPrivLetters.size(); ++b) {
    if (item.privs & (1u << b)) out += kPrivLetters[b];
    if (item.grant_options & (1u << b)) out += '*';
  }
  return out + "/" + acl_role_name(rs.name_of(item.grantor));
}

std::string acl_array_text(const RoleState& rs, const std::vector<sql::AclItem>& acl) {
  std::string out = "{";
  for (size_t i = 0; i < acl.size(); ++i) {
    if (i) out += ',';
    std::string item = aclitem_text(rs, acl[i]);
    // Array element quoting: an item with quotes, commas or braces is double-quoted.
    if (item.find_first_of("\",{} \\") != std::string::npos) {
      std::string q = "\"";
      for (char c : item) {
        if (c == '"' || c == '\\') q += '\\';
        q += c;
      }
      item = q + "\"";
    }
    out += item;
  }
  return out + "}";
}

uint32_t parse_privilege_list(std::string_view text) {
  uint32_t mask = 0;
  size_t i = 0;
  while (i <= text.size()) {
    size_t comma = text.find(',', i);
    if (comma == std::string_view::npos) comma = text.size();
    std::string word;
    for (char c : text.substr(i, comma - i))
      if (c != ' ' && c != '\t') word += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (word.size() > 16 && word.substr(word.size() - 16) == "WITHGRANTOPTION") word.resize(word.size() - 15);
    if (word == "SELECT") mask |= priv::kSelect;
    else if (word == "INSERT") mask |= priv::kInsert;
    else if (word == "UPDATE") mask |= priv::kUpdate;
    else if (word == "DELETE") mask |= priv::kDelete;
    else if (word == "TRUNCATE") mask |= priv::kTruncate;
    else if (word == "REFERENCES") mask |= priv::kReferences;
    else if (word == "TRIGGER") mask |= priv::kTrigger;
    else if (word == "USAGE") mask |= priv::kUsage;
    else if (word == "CREATE") mask |= priv::kCreate;
    else if (word == "TEMP" || word == "TEMPORARY") mask |= priv::kTemp;
    else if (word == "CONNECT") mask |= priv::kConnect;
    else if (word == "EXECUTE") mask |= priv::kExecute;
    else throw SqlError(sqlstate::kInvalidParameterValue, "unrecognized privilege type: \"" + std::string(text.substr(i, comma - i)) + "\"");
    i = comma + 1;
  }
  return mask;
}

const char* object_kind_word(sql::ObjectKind kind) {
  switch (kind) {
    case sql::ObjectKind::kTable: return "table";
    case sql::ObjectKind::kView: return "view";
    case sql::ObjectKind::kMaterializedView: return "materialized view";
    case sql::ObjectKind::kIndex: return "index";
    case sql::ObjectKind::kSystemView: return "view";
    case sql::ObjectKind::kSource: return "source";
    case sql::ObjectKind::kSecret: return "secret";
    case sql::ObjectKind::kConnection: return "connection";
    case sql::ObjectKind::kSink: return "sink";
    case sql::ObjectKind::kSchema: return "schema";
    case sql::ObjectKind::kDatabase: return "database";
    case sql::ObjectKind::kType: return "type";
  }
  return "relation";
}

void permission_denied(sql::ObjectKind kind, const std::string& name) {
  throw SqlError(sqlstate::kInsufficientPrivilege, std::string("permission denied for ") + object_kind_word(kind) + " " + name);
}

void must_be_owner(sql::ObjectKind kind, const std::string& name) {
  throw SqlError(sqlstate::kInsufficientPrivilege, std::string("must be owner of ") + object_kind_word(kind) + " " + name);
}

// ---- has_*_privilege ---------------------------------------------------------------------------

namespace {

// "public.t", "\"T\"", "t" -> (schema, name), identifiers folded as PostgreSQL does.
std::pair<std::string, std::string> split_name(std::string_view text) {
  std::vector<std::string> parts(1);
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      if (quoted && i + 1 < text.size() && text[i + 1] == '"') {
        parts.back() += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == '.' && !quoted) {
      parts.emplace_back();
    } else {
      parts.back() += quoted ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (parts.size() == 1) return {"", parts[0]};
  return {parts[parts.size() - 2], parts.back()};
}

}  // namespace

bool catalog_has_privilege(const Catalog& catalog, char kind, std::string_view user, std::string_view object_name,
                           uint32_t object_oid, std::string_view privilege) {
  const RoleState& rs = catalog.roles();
  const Role* u = rs.find(user);
  uint32_t who = kBootstrapRoleOid;
  if (u != nullptr) {
    who = u->oid;
  } else if (const AccessContext* a = current_access(); a == nullptr || a->role != user) {
    throw SqlError(sqlstate::kUndefinedObject, "role \"" + std::string(user) + "\" does not exist");
  }
  if (kind == 'r') {
    const Role* target = object_name.empty() ? rs.find(object_oid) : rs.find(object_name);
    if (target == nullptr) {
      if (object_name.empty()) return false;
      throw SqlError(sqlstate::kUndefinedObject, "role \"" + std::string(object_name) + "\" does not exist");
    }
    std::string p;
    for (char c : privilege) p += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    bool any = false;
    size_t start = 0;
    while (start <= p.size()) {
      size_t comma = p.find(',', start);
      if (comma == std::string::npos) comma = p.size();
      std::string word;
      for (char c : p.substr(start, comma - start))
        if (c != ' ') word += c;
      if (word == "MEMBER" || word == "SET") any = any || is_member_of_role(rs, who, target->oid);
      else if (word == "USAGE") any = any || has_privs_of_role(rs, who, target->oid);
      else if (word == "MEMBERWITHADMINOPTION" || word == "USAGEWITHADMINOPTION" || word == "USAGEWITHGRANTOPTION" ||
               word == "MEMBERWITHGRANTOPTION") {
        bool admin = is_superuser(rs, who);
        for (const auto& m : rs.members)
          if (m.role == target->oid && m.admin && has_privs_of_role(rs, who, m.member)) admin = true;
        any = any || admin;
      } else {
        throw SqlError(sqlstate::kInvalidParameterValue, "unrecognized privilege type: \"" + p.substr(start, comma - start) + "\"");
      }
      start = comma + 1;
    }
    return any;
  }
  uint32_t wanted = parse_privilege_list(privilege);
  auto any_of = [&](uint32_t allowed, const std::function<bool(uint32_t)>& has) {
    if ((wanted & ~allowed) != 0) {
      throw SqlError(sqlstate::kInvalidParameterValue, "unrecognized privilege type: \"" + std::string(privilege) + "\"");
    }
    for (uint32_t b = 1; b != 0 && b <= wanted; b <<= 1)
      if ((wanted & b) && has(b)) return true;
    return false;
  };
  if (kind == 't') {
    const sql::ObjectInfo* o = nullptr;
    if (object_name.empty()) {
      o = catalog.lookup_oid(object_oid);
      if (o == nullptr) return false;
    } else {
      auto [schema, name] = split_name(object_name);
      o = catalog.lookup(schema, name);
      if (o == nullptr) throw SqlError(sqlstate::kUndefinedTable, "relation \"" + std::string(object_name) + "\" does not exist");
    }
    return any_of(priv::kAllTable, [&](uint32_t b) { return has_object_privilege(rs, *o, who, b); });
  }
  if (kind == 's') {
    std::string schema;
    if (object_name.empty()) {
      for (std::string s : {"pg_catalog", "public", "information_schema"})
        if (Catalog::namespace_oid(s) == object_oid) schema = s;
      for (const auto& [id, o] : catalog.objects())
        if (Catalog::namespace_oid(o->schema) == object_oid) schema = o->schema;
      if (schema.empty()) return false;
    } else {
      schema = split_name(object_name).second;
      bool known = schema == "public" || schema == "pg_catalog" || schema == "information_schema";
      for (const auto& [id, o] : catalog.objects()) known = known || o->schema == schema;
      if (!known) throw SqlError("3F000", "schema \"" + schema + "\" does not exist");
    }
    return any_of(priv::kAllSchema, [&](uint32_t b) { return has_schema_privilege(rs, schema, who, b); });
  }
  if (kind == 'd') {
    if (object_name.empty() ? object_oid != Catalog::kDatabaseOid : split_name(object_name).second != "freshet") {
      if (object_name.empty()) return false;
      throw SqlError("3D000", "database \"" + std::string(object_name) + "\" does not exist");
    }
    return any_of(priv::kAllDatabase, [&](uint32_t b) { return has_database_privilege(rs, who, b); });
  }
  return true;
}

void check_usage(const Catalog& catalog, const sql::ObjectInfo& obj) {
  const AccessContext* a = current_access();
  if (a == nullptr) return;
  const RoleState& rs = catalog.roles();
  if (!has_object_privilege(rs, obj, role_oid_or_bootstrap(rs, a->role), priv::kUsage)) permission_denied(obj.kind, obj.name);
}

// ---- the statement's role -----------------------------------------------------------------------

namespace {
thread_local const AccessContext* t_access = nullptr;
}

AccessScope::AccessScope(std::string role) : saved_(t_access), ctx_{std::move(role)} { t_access = &ctx_; }
AccessScope::~AccessScope() { t_access = saved_; }
const AccessContext* current_access() { return t_access; }

uint32_t role_oid_or_bootstrap(const RoleState& rs, const std::string& name) {
  const Role* r = rs.find(name);
  return r != nullptr ? r->oid : kBootstrapRoleOid;
}

}  // namespace freshet::server
