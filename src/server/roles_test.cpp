// Roles and privileges (roles.hpp): verifiers, ACL text, inheritance, the durable-first
// change of the role state, and the checks a statement's role gets (AccessScope).
#include "server/roles.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "server/catalog.hpp"

namespace freshet::server {
namespace {

RoleState three_roles() {
  RoleState rs;
  rs.roles[kBootstrapRoleOid] = {kBootstrapRoleOid, "freshet", true, true, true, true, true, ""};
  rs.roles[20000] = {20000, "alice", false, true, false, false, true, ""};
  rs.roles[20001] = {20001, "readers", false, true, false, false, false, ""};
  rs.roles[20002] = {20002, "noinherit", false, false, false, false, true, ""};
  rs.members.push_back({20001, 20000, kBootstrapRoleOid, false});
  rs.members.push_back({20001, 20002, kBootstrapRoleOid, false});
  return rs;
}

sql::ObjectInfo table(uint32_t owner) {
  sql::ObjectInfo o;
  o.name = "t";
  o.owner = owner;
  return o;
}

TEST(Roles, VerifierRoundTripAndPasswordCheck) {
  std::string v = make_password_verifier("s3cret");
  EXPECT_EQ(v.rfind("SCRAM-SHA-256$4096:", 0), 0u) << v;
  auto k = parse_password_verifier(v);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->iterations, 4096);
  EXPECT_TRUE(password_matches(v, "s3cret"));
  EXPECT_FALSE(password_matches(v, "s3cret "));
  EXPECT_FALSE(password_matches("", "s3cret"));
  EXPECT_FALSE(parse_password_verifier("md5abc").has_value());
  EXPECT_FALSE(parse_password_verifier("SCRAM-SHA-256$x:AAAA$AAAA:AAAA").has_value());
  EXPECT_NE(make_password_verifier("s3cret"), v);  // a fresh salt each time
}

TEST(Roles, InheritanceAndMembership) {
  RoleState rs = three_roles();
  EXPECT_TRUE(has_privs_of_role(rs, 20000, 20001));
  EXPECT_FALSE(has_privs_of_role(rs, 20001, 20000));
  EXPECT_FALSE(has_privs_of_role(rs, 20002, 20001));  // NOINHERIT: a member without its privileges
  EXPECT_TRUE(is_member_of_role(rs, 20002, 20001));
  EXPECT_TRUE(has_privs_of_role(rs, kBootstrapRoleOid, 20000));  // superuser
  EXPECT_TRUE(is_member_of_role_strict(rs, 20000, 20001));
  EXPECT_FALSE(is_member_of_role_strict(rs, kBootstrapRoleOid, 20001));
}

TEST(Roles, AclTextAndChecks) {
  RoleState rs = three_roles();
  sql::ObjectInfo t = table(20000);
  EXPECT_TRUE(has_object_privilege(rs, t, 20000, priv::kSelect | priv::kDelete));  // the owner
  EXPECT_FALSE(has_object_privilege(rs, t, 20001, priv::kSelect));
  t.acl = effective_acl(t);
  t.acl->push_back({20001, 20000, priv::kSelect, 0});
  t.acl->push_back({kPublicRoleOid, 20000, priv::kInsert, priv::kInsert});
  EXPECT_EQ(acl_array_text(rs, *t.acl), "{alice=arwdDxt/alice,readers=r/alice,=a*/alice}");
  EXPECT_TRUE(has_object_privilege(rs, t, 20001, priv::kSelect));
  EXPECT_FALSE(has_object_privilege(rs, t, 20002, priv::kSelect));  // NOINHERIT
  EXPECT_TRUE(has_object_privilege(rs, t, 20002, priv::kInsert));   // PUBLIC
  EXPECT_EQ(parse_privilege_list("select, INSERT"), priv::kSelect | priv::kInsert);
  EXPECT_THROW(parse_privilege_list("SELECTX"), SqlError);
  // The public schema: USAGE for all, CREATE for the bootstrap role only (PostgreSQL 15).
  EXPECT_TRUE(has_schema_privilege(rs, "public", 20000, priv::kUsage));
  EXPECT_FALSE(has_schema_privilege(rs, "public", 20000, priv::kCreate));
  EXPECT_TRUE(has_database_privilege(rs, 20000, priv::kConnect));
}

TEST(Roles, StateJsonRoundTrip) {
  RoleState rs = three_roles();
  rs.roles[20000].password = make_password_verifier("pw");
  rs.schema_acls["public"] = {{20000, kBootstrapRoleOid, priv::kCreate, 0}};
  rs.database_acl = std::vector<sql::AclItem>{{kPublicRoleOid, kBootstrapRoleOid, priv::kConnect, 0}};
  RoleState back = RoleState::from_json(rs.to_json());
  EXPECT_EQ(back.to_json(), rs.to_json());
  EXPECT_EQ(back.find("alice")->password, rs.roles[20000].password);
  EXPECT_THROW(RoleState::from_json("{}"), std::exception);
}

TEST(Roles, ChangeIsDurableFirst) {
  Catalog c;
  c.restore_roles(three_roles());
  c.on_roles_change = [](const RoleState&) { throw SqlError("53100", "could not record a role change durably"); };
  EXPECT_THROW(c.change_roles([](RoleState& rs) { rs.roles.erase(20000); }), SqlError);
  EXPECT_NE(c.roles().find("alice"), nullptr);  // nothing changed
  int writes = 0;
  c.on_roles_change = [&](const RoleState& rs) {
    ++writes;
    EXPECT_EQ(rs.find("alice"), nullptr);  // the new state is written before it is visible
  };
  c.change_roles([](RoleState& rs) { rs.roles.erase(20000); });
  EXPECT_EQ(writes, 1);
  EXPECT_EQ(c.roles().find("alice"), nullptr);
}

TEST(Roles, StatementRoleOwnsAndNeedsCreate) {
  Catalog c;
  RoleState rs = three_roles();
  rs.schema_acls["public"] = schema_acl(rs, "public");
  rs.schema_acls["public"].push_back({20000, kBootstrapRoleOid, priv::kCreate, 0});
  c.restore_roles(rs);
  sql::ObjectInfo t;
  t.name = "t";
  {
    AccessScope as("alice");
    const sql::ObjectInfo& added = c.add(t);
    EXPECT_EQ(added.owner, 20000u);
    AccessScope as_readers("readers");
    t.name = "u";
    EXPECT_THROW(c.add(t), SqlError);  // no CREATE on public
    EXPECT_THROW(c.check_read(added, nullptr, 0), SqlError);
  }
  EXPECT_EQ(current_access(), nullptr);
  const sql::ObjectInfo* added = c.lookup("public", "t");
  ASSERT_NE(added, nullptr);
  c.check_read(*added, nullptr, 0);  // no scope: no checks
  AccessScope as_readers("readers");
  sql::ObjectInfo view;
  view.owner = 20000;  // alice's view: what it reads is checked with alice's rights
  c.check_read(*added, &view, 0);
}

}  // namespace
}  // namespace freshet::server
