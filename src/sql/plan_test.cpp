#include "sql/plan.hpp"

#include <gtest/gtest.h>

namespace freshet::sql {
namespace {

// The server's list of role statements is not linked here; GRANT stands for them.
bool grant_only(const PgQuery__Node* n) { return n->node_case == PG_QUERY__NODE__NODE_GRANT_STMT; }

struct Planned {
  std::shared_ptr<ParseTree> tree;
  Plan plan;
};

Planned plan_of(const std::string& sql) {
  auto tree = ParseTree::parse(sql);
  EXPECT_EQ(tree->size(), 1u) << sql;
  Plan p = plan_statement(tree->statement(0), grant_only);
  return {tree, p};
}

template <class T>
bool is(const std::string& sql) {
  return std::holds_alternative<T>(plan_of(sql).plan);
}

TEST(PlanTest, OneKindPerStatement) {
  EXPECT_TRUE(is<SelectPlan>("SELECT 1"));
  EXPECT_TRUE(is<SelectPlan>("VALUES (1), (2)"));
  EXPECT_TRUE(is<InsertPlan>("INSERT INTO t VALUES (1)"));
  EXPECT_TRUE(is<UpdatePlan>("UPDATE t SET a = 1"));
  EXPECT_TRUE(is<DeletePlan>("DELETE FROM t"));
  EXPECT_TRUE(is<CreateTablePlan>("CREATE TABLE t (a int)"));
  EXPECT_TRUE(is<CreateViewPlan>("CREATE VIEW v AS SELECT 1"));
  EXPECT_TRUE(is<CreateIndexPlan>("CREATE INDEX i ON t (a)"));
  EXPECT_TRUE(is<DropPlan>("DROP TABLE t"));
  EXPECT_TRUE(is<ShowPlan>("SHOW search_path"));
  EXPECT_TRUE(is<FetchPlan>("FETCH 10 c"));
  EXPECT_TRUE(is<RolePlan>("GRANT SELECT ON t TO r"));
  EXPECT_TRUE(is<UnsupportedPlan>("VACUUM t"));
  auto mv = plan_of("CREATE MATERIALIZED VIEW m AS SELECT 1");
  ASSERT_TRUE(std::holds_alternative<CreateTableAsPlan>(mv.plan));
  EXPECT_TRUE(std::get<CreateTableAsPlan>(mv.plan).materialized_view);
  auto ctas = plan_of("CREATE TABLE t2 AS SELECT 1");
  ASSERT_TRUE(std::holds_alternative<CreateTableAsPlan>(ctas.plan));
  EXPECT_FALSE(std::get<CreateTableAsPlan>(ctas.plan).materialized_view);
}

TEST(PlanTest, TransactionControlIsDecoded) {
  using K = TransactionPlan::Kind;
  auto kind = [](const std::string& sql) { return std::get<TransactionPlan>(plan_of(sql).plan).kind; };
  EXPECT_EQ(kind("BEGIN"), K::kBegin);
  EXPECT_EQ(kind("START TRANSACTION"), K::kStartTransaction);
  EXPECT_EQ(kind("COMMIT"), K::kCommit);
  EXPECT_EQ(kind("ROLLBACK"), K::kRollback);
  EXPECT_EQ(kind("PREPARE TRANSACTION 'x'"), K::kTwoPhase);
  auto sp = std::get<TransactionPlan>(plan_of("ROLLBACK TO SAVEPOINT s1").plan);
  EXPECT_EQ(sp.kind, K::kRollbackTo);
  EXPECT_EQ(sp.savepoint, "s1");
  EXPECT_EQ(std::get<TransactionPlan>(plan_of("RELEASE s2").plan).savepoint, "s2");
  EXPECT_TRUE(runs_in_failed_block(plan_of("ROLLBACK").plan));
  EXPECT_FALSE(runs_in_failed_block(plan_of("SELECT 1").plan));
}

TEST(PlanTest, ArgumentsThatDoNotNeedTheCatalog) {
  EXPECT_FALSE(std::get<ClosePlan>(plan_of("CLOSE ALL").plan).cursor.has_value());
  EXPECT_EQ(*std::get<ClosePlan>(plan_of("CLOSE c1").plan).cursor, "c1");
  EXPECT_TRUE(std::get<DiscardPlan>(plan_of("DISCARD ALL").plan).all);
  EXPECT_FALSE(std::get<DiscardPlan>(plan_of("DISCARD PLANS").plan).all);
  EXPECT_TRUE(std::get<FetchPlan>(plan_of("MOVE 3 c").plan).move);
  EXPECT_EQ(std::get<FetchPlan>(plan_of("FETCH 3 c").plan).cursor, "c");
  EXPECT_FALSE(std::get<DeallocatePlan>(plan_of("DEALLOCATE ALL").plan).name.has_value());
  EXPECT_EQ(*std::get<DeallocatePlan>(plan_of("DEALLOCATE p").plan).name, "p");
  // SET ROLE and SET SESSION AUTHORIZATION belong to the role statements.
  EXPECT_TRUE(is<RolePlan>("SET ROLE r"));
  EXPECT_TRUE(is<RolePlan>("SET SESSION AUTHORIZATION r"));
  auto set = plan_of("SET Search_Path = s");
  ASSERT_TRUE(std::holds_alternative<SetPlan>(set.plan));
  EXPECT_EQ(std::get<SetPlan>(set.plan).name, "search_path");
}

TEST(PlanTest, WhatChangesTheCatalog) {
  for (const char* sql : {"CREATE TABLE t (a int)", "CREATE VIEW v AS SELECT 1", "CREATE INDEX i ON t (a)", "DROP VIEW v",
                          "CREATE SCHEMA s", "CREATE DATABASE d", "DROP DATABASE d", "ALTER TABLE t RENAME TO u",
                          "CREATE MATERIALIZED VIEW m AS SELECT 1"})
    EXPECT_TRUE(changes_catalog(plan_of(sql).plan)) << sql;
  for (const char* sql : {"SELECT 1", "INSERT INTO t VALUES (1)", "BEGIN", "SET a = 1", "SHOW a", "FETCH 1 c"})
    EXPECT_FALSE(changes_catalog(plan_of(sql).plan)) << sql;
}

}  // namespace
}  // namespace freshet::sql
