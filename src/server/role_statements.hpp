#pragma once
// The statements about roles and privileges (README.md "Roles and privileges"): CREATE /
// ALTER / DROP ROLE (and USER), GRANT / REVOKE of roles and of privileges, ALTER ... OWNER
// TO, SET ROLE, SET SESSION AUTHORIZATION; and the checks other statements make (writes,
// DROP, SUBSCRIBE). Called by the session's Executor (sequencer/) on its thread.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include "server/coordinator_state.hpp"
#include "server/session.hpp"

struct PgQuery__Node;

namespace freshet::server {

// Who runs a statement, and the session state the role statements change.
struct RoleSession {
  Coordinator::State& cs;
  // The catalog the statement changes: the shared one, or the transaction block's own (its
  // role changes are then applied at COMMIT, transaction.hpp).
  Catalog& catalog;
  const std::string& login_user;  // who authenticated
  std::string& session_auth;      // SET SESSION AUTHORIZATION; empty: login_user
  std::string& set_role;          // SET ROLE; empty: NONE
  std::map<std::string, std::string>& settings;
  std::vector<std::pair<std::string, std::string>>& changed;  // ParameterStatus to send
  bool in_block = false;          // an explicit transaction block is open
};

// The role's oid for a name; the bootstrap role for a name that is no role (trust
// authentication lets any name in; README.md says why). REQUIRES: mu held (shared suffices).
uint32_t role_for_name(const Catalog& catalog, const std::string& name);
// The current role of a session (SET ROLE, else the session user).
std::string current_role_name(const RoleSession& s);
// Runs stmt when it is a statement about roles or privileges (taking the locks it needs);
// nullptr otherwise. Throws SqlError.
std::unique_ptr<Execution> run_role_statement(RoleSession& s, const PgQuery__Node* stmt);
// Checks the privileges a statement needs besides reading what it binds (which the binder
// checks): INSERT/UPDATE/DELETE/TRUNCATE on the written table, COPY FROM's INSERT, ownership
// for DROP. Throws 42501. REQUIRES: no lock held (takes mu shared).
void check_statement_privileges(Coordinator::State& cs, const Catalog& catalog, const std::string& role, const PgQuery__Node* stmt);
// Materialize's `GRANT|REVOKE ... ON SECRET|CONNECTION|SOURCE name ...`, which PostgreSQL's
// grammar lacks, in a form it parses (ON FOREIGN DATA WRAPPER, ON FOREIGN SERVER, ON TABLE)
// that run_role_statement maps back; nullopt for any other text (cheap: a look at the first word).
std::optional<std::string> rewrite_object_grant(std::string_view sql);
// Whether stmt is one of run_role_statement's, SET ROLE / SET SESSION AUTHORIZATION aside
// (those are session state and run anywhere; the others not in a transaction block).
bool is_role_statement(const PgQuery__Node* stmt);
// 42501 `must be owner of ...` unless `role` owns the object named `name` (in any schema on the
// search path) or is a superuser; nothing when there is no such object. DROP SOURCE/SINK/
// SECRET/CONNECTION. REQUIRES: no lock held (takes mu shared).
void check_owner(Coordinator::State& cs, const Catalog& catalog, const std::string& role, const std::string& name);
// ParameterStatus values that follow the current role: is_superuser, session_authorization.
void report_role_settings(RoleSession& s);

// At start-up, after the catalog is loaded: the bootstrap role (oid 10, superuser) named
// after auth's bootstrap user, and a LOGIN role for every user with a configured password
// (their verifiers follow the configuration). Installs the hook that stores role changes.
void bootstrap_roles(Coordinator::State& cs, const AuthConfig& auth);
// What pgwire and the Kafka API need at login (AuthConfig::login_lookup).
LoginRole login_role(Coordinator::State& cs, const std::string& user);

}  // namespace freshet::server
