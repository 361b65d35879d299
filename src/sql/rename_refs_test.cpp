#include "sql/rename_refs.hpp"

#include <gtest/gtest.h>

namespace freshet::sql {
namespace {

// The renamed relation is public.t; another relation `other.t` exists.
RenameRefs t_to_u(std::string qualify = "") {
  RenameRefs r;
  r.old_name = "t";
  r.new_name = "u";
  r.qualify_with = std::move(qualify);
  r.names_it = [](std::string_view schema, std::string_view name) { return name == "t" && (schema.empty() || schema == "public"); };
  return r;
}

std::string rewrite(const std::string& sql, const RenameRefs& r = t_to_u()) {
  auto out = rename_relation_refs(sql, r);
  return out ? *out : "<refused>";
}

TEST(RenameRefsTest, FromItemsAndQualifiedColumns) {
  EXPECT_EQ(rewrite("SELECT t.a, public.t.b, t.* FROM t WHERE t.a > 1"), "SELECT u.a, public.u.b, u.* FROM u WHERE u.a > 1");
  EXPECT_EQ(rewrite("SELECT a FROM public.t"), "SELECT a FROM public.u");
  // An alias is kept, and so are the columns qualified by it.
  EXPECT_EQ(rewrite("SELECT x.a FROM t x"), "SELECT x.a FROM u x");
  // In subqueries and joins.
  EXPECT_EQ(rewrite("SELECT 1 FROM s WHERE s.a IN (SELECT t.a FROM t)"), "SELECT 1 FROM s WHERE s.a IN (SELECT u.a FROM u)");
}

TEST(RenameRefsTest, UnchangedWhenNothingNamesIt) {
  const std::string sql = "SELECT  a FROM   s";  // not even re-rendered
  EXPECT_EQ(rewrite(sql), sql);
  // other.t is another relation.
  EXPECT_EQ(rewrite("SELECT a FROM other.t"), "SELECT a FROM other.t");
}

TEST(RenameRefsTest, QualifiesWhenTheNewNameWouldResolveElsewhere) {
  EXPECT_EQ(rewrite("SELECT t.a FROM t", t_to_u("public")), "SELECT u.a FROM public.u");
}

TEST(RenameRefsTest, RefusedWhereTheOldNameCouldMeanSomethingElse) {
  EXPECT_EQ(rewrite("WITH t AS (SELECT 1 AS a) SELECT * FROM t, public.t"), "<refused>");
  EXPECT_EQ(rewrite("SELECT t.a FROM public.t, s AS t"), "<refused>");
  EXPECT_EQ(rewrite("SELECT t.a FROM public.t AS x, other.t"), "<refused>");
  EXPECT_EQ(rewrite("WITH MUTUALLY RECURSIVE t (a int) AS (SELECT 1) SELECT * FROM t"), "<refused>");
}

}  // namespace
}  // namespace freshet::sql
