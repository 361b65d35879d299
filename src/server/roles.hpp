#pragma once
// Roles and privileges (PostgreSQL's model, README.md "Roles and privileges").
//
// RoleState is the whole of it that is not stored with the objects themselves: the roles,
// who is a member of whom, and the ACLs of schemas and of the database. It lives in the
// Catalog (catalog.hpp: roles()), is stored as ONE record of the catalog collection (key
// ["roles", 0], JSON) and changed like every catalog change: durably first
// (Catalog::change_roles), in memory only once the write succeeded. An object's owner and
// ACL are fields of its ObjectInfo (sql/catalog.hpp) and are stored with it.
//
// Passwords are kept only as SCRAM-SHA-256 verifiers in PostgreSQL's rolpassword form
// (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64), which pgwire's
// SCRAM exchange and the Kafka API's SASL/SCRAM (and PLAIN) verify against.
//
// Thread-safety: none of its own; the catalog's lock (State::mu) guards it.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sql/catalog.hpp"

namespace freshet::server {

class Catalog;

// PostgreSQL's ACL_* bits (utils/acl.h) and their letters in aclitem's text form.
namespace priv {
inline constexpr uint32_t kInsert = 1u << 0;      // a
inline constexpr uint32_t kSelect = 1u << 1;      // r
inline constexpr uint32_t kUpdate = 1u << 2;      // w
inline constexpr uint32_t kDelete = 1u << 3;      // d
inline constexpr uint32_t kTruncate = 1u << 4;    // D
inline constexpr uint32_t kReferences = 1u << 5;  // x
inline constexpr uint32_t kTrigger = 1u << 6;     // t
inline constexpr uint32_t kExecute = 1u << 7;     // X
inline constexpr uint32_t kUsage = 1u << 8;       // U
inline constexpr uint32_t kCreate = 1u << 9;      // C
inline constexpr uint32_t kTemp = 1u << 10;       // T
inline constexpr uint32_t kConnect = 1u << 11;    // c
inline constexpr uint32_t kAllTable = kInsert | kSelect | kUpdate | kDelete | kTruncate | kReferences | kTrigger;
inline constexpr uint32_t kAllSchema = kUsage | kCreate;
inline constexpr uint32_t kAllDatabase = kCreate | kTemp | kConnect;
inline constexpr uint32_t kAllUsage = kUsage;  // sources' own objects, secrets, connections
}  // namespace priv

// The bootstrap superuser's oid, as in PostgreSQL (BOOTSTRAP_SUPERUSERID).
inline constexpr uint32_t kBootstrapRoleOid = 10;
// The oid of the PUBLIC pseudo-role in an ACL entry.
inline constexpr uint32_t kPublicRoleOid = 0;

struct Role {
  uint32_t oid = 0;
  std::string name;
  bool superuser = false;
  bool inherit = true;
  bool createrole = false;
  bool createdb = false;
  bool login = false;
  // SCRAM-SHA-256 verifier in PostgreSQL's text form, or empty (no password: cannot log in
  // where passwords are required).
  std::string password;
};

struct Membership {
  uint32_t role = 0;    // the group role
  uint32_t member = 0;  // who is in it
  uint32_t grantor = 0;
  bool admin = false;
};

struct RoleState {
  std::map<uint32_t, Role> roles;
  std::vector<Membership> members;
  // GRANT ... ON SCHEMA s: absent means the default (the bootstrap role owns every schema;
  // PUBLIC has USAGE, and CREATE nowhere: PostgreSQL 15's public schema).
  std::map<std::string, std::vector<sql::AclItem>> schema_acls;
  // GRANT ... ON DATABASE: nullopt means the default (PUBLIC has CONNECT and TEMPORARY).
  std::optional<std::vector<sql::AclItem>> database_acl;

  const Role* find(std::string_view name) const;
  const Role* find(uint32_t oid) const;
  Role* find_mut(std::string_view name);
  std::string name_of(uint32_t oid) const;  // "" for PUBLIC (0), the oid as text when unknown

  std::string to_json() const;
  // Throws std::runtime_error when the text is not a role state.
  static RoleState from_json(std::string_view text);
};

// ---- passwords ----
struct ScramKeys {
  std::string salt;  // raw bytes
  int iterations = 4096;
  std::array<uint8_t, 32> stored_key{};
  std::array<uint8_t, 32> server_key{};
};
// A new verifier (random salt, 4096 iterations) in rolpassword's text form.
std::string make_password_verifier(std::string_view password);
// Parses rolpassword's text form; nullopt when it is not a SCRAM-SHA-256 verifier.
std::optional<ScramKeys> parse_password_verifier(std::string_view text);
// Whether a plain password matches a verifier (SASL/PLAIN, HTTP Basic).
bool password_matches(std::string_view verifier, std::string_view password);

// ---- privileges ----
// Whether `member` has the privileges of `role` (itself, or through memberships along roles
// that INHERIT), PostgreSQL's has_privs_of_role.
bool has_privs_of_role(const RoleState& rs, uint32_t member, uint32_t role);
// Whether `member` is a member of `role` at all (SET ROLE, pg_has_role MEMBER).
bool is_member_of_role(const RoleState& rs, uint32_t member, uint32_t role);
bool is_superuser(const RoleState& rs, uint32_t role);
// Membership alone, superusers not special: the cycle check of GRANT role.
bool is_member_of_role_strict(const RoleState& rs, uint32_t member, uint32_t role);
// An object's ACL as PostgreSQL would list it: its own, or the default for its kind
// (the owner has everything) when none was ever granted.
std::vector<sql::AclItem> effective_acl(const sql::ObjectInfo& obj);
std::vector<sql::AclItem> schema_acl(const RoleState& rs, const std::string& schema);
std::vector<sql::AclItem> database_acl(const RoleState& rs);
// The privileges (a mask of priv::) `role` holds through an ACL (superusers and owners are
// the caller's business).
uint32_t acl_mask(const RoleState& rs, const std::vector<sql::AclItem>& acl, uint32_t role);
// Whether role has every privilege of `wanted` on the object (superuser, owner or ACL).
bool has_object_privilege(const RoleState& rs, const sql::ObjectInfo& obj, uint32_t role, uint32_t wanted);
bool has_schema_privilege(const RoleState& rs, const std::string& schema, uint32_t role, uint32_t wanted);
bool has_database_privilege(const RoleState& rs, uint32_t role, uint32_t wanted);
// The owner of obj (the bootstrap role for objects stored before owners existed).
inline uint32_t owner_of(const sql::ObjectInfo& obj) { return obj.owner != 0 ? obj.owner : kBootstrapRoleOid; }

// CatalogAccess::has_privilege over a catalog (common/functions.hpp): PostgreSQL's
// has_table_privilege, has_schema_privilege, has_database_privilege and pg_has_role, with
// their errors (42704 unknown role, 42P01 unknown relation, 3F000 unknown schema, 22023
// unknown privilege). A list of privileges asks for any of them.
bool catalog_has_privilege(const Catalog& catalog, char kind, std::string_view user, std::string_view object_name,
                           uint32_t object_oid, std::string_view privilege);

// aclitem's text form (`alice=arwdDxt/freshet`, `=r/freshet` for PUBLIC) and the array of
// an ACL as PostgreSQL prints it (`{freshet=arwdDxt/freshet,alice=r/freshet}`).
std::string aclitem_text(const RoleState& rs, const sql::AclItem& item);
std::string acl_array_text(const RoleState& rs, const std::vector<sql::AclItem>& acl);
// "SELECT, INSERT" -> mask; throws SqlError 22023 "unrecognized privilege type" otherwise.
uint32_t parse_privilege_list(std::string_view text);
// The word PostgreSQL's messages use for an object: "table", "view", "materialized view", ...
const char* object_kind_word(sql::ObjectKind kind);

// 42501 unless the statement's role (AccessScope; nothing without one) has USAGE on obj: a
// secret named by CREATE CONNECTION, a connection named by CREATE SOURCE / SINK (their owners
// and superusers do; GRANT USAGE ON SECRET|CONNECTION is not parsed yet).
void check_usage(const Catalog& catalog, const sql::ObjectInfo& obj);
// 42501 "permission denied for table t" (PostgreSQL's aclcheck_error wording).
[[noreturn]] void permission_denied(sql::ObjectKind kind, const std::string& name);
// 42501 "must be owner of table t".
[[noreturn]] void must_be_owner(sql::ObjectKind kind, const std::string& name);

// ---- the role a statement runs as ----
// Set on a client session's thread for the duration of a statement (the Executor holds
// one): binding checks every relation the statement reads (Catalog::check_read) and
// Catalog::add sets the owner and checks CREATE. The role is held by name and resolved
// where it is used, under the catalog lock the caller holds. No scope (start-up recovery,
// sources, the Kafka API's own writes) means no checks.
struct AccessContext {
  std::string role;  // a name that is no role (trust authentication) acts as the bootstrap role
};
class AccessScope {
 public:
  explicit AccessScope(std::string role);
  ~AccessScope();
  AccessScope(const AccessScope&) = delete;
  AccessScope& operator=(const AccessScope&) = delete;

 private:
  const AccessContext* saved_;
  AccessContext ctx_;
};
const AccessContext* current_access();
// The oid of a role name; the bootstrap role for a name that is no role.
uint32_t role_oid_or_bootstrap(const RoleState& rs, const std::string& name);

}  // namespace freshet::server
