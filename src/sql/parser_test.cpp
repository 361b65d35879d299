#include "sql/parser.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

#include <string>
#include <thread>
#include <vector>

namespace freshet::sql {
namespace {

// The grammar's tree of sql, as protobuf bytes: parsed on a thread of its own, which has no
// template (parse_literal_insert keeps them per thread).
std::string grammar_tree(const std::string& sql) {
  std::string out;
  std::thread th([&] {
    auto tree = ParseTree::parse(sql);
    EXPECT_FALSE(tree->from_template()) << sql;
    out = tree->packed();
  });
  th.join();
  return out;
}

// A one-row literal INSERT after one with the same text up to VALUES is made from the
// template, and its tree is the grammar's, byte for byte.
TEST(ParserTest, LiteralInsertFromTemplateIsTheGrammarsTree) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"INSERT INTO t VALUES (1, 2, 'x')", "INSERT INTO t VALUES (42, -7, 'payload-abc')"},
      {"INSERT INTO t VALUES (1, 2, 'x');", "INSERT INTO t VALUES (9000000000000000000, 3, 'it''s');"},
      {"INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (NULL)"},
      {"INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (-2147483648)"},
      {"INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2147483648)"},
      {"INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (-1.5e10)"},
      {"INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (.5)"},
      {"INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (true)"},
      {"INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (FALSE)"},
      {"INSERT INTO t VALUES (1)", "INSERT INTO t VALUES ('')"},
      {"INSERT INTO t VALUES (1)", "INSERT INTO t VALUES ( 1 , 'a' ,NULL )  ;  "},
      {"INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1) ;"},
      {"insert into S.\"T x\" (a, \"B\") values (1, 'a')", "insert into S.\"T x\" (a, \"B\") values ('é', 0.0)"},
      {"  INSERT INTO t(a) VALUES(1)", "  INSERT INTO t(a) VALUES(-0)"},
  };
  for (const auto& [first, second] : cases) {
    auto seed = ParseTree::parse(first);  // the grammar's, or a template's when seen before
    EXPECT_EQ(seed->packed(), grammar_tree(first)) << first;
    auto tree = ParseTree::parse(second);
    EXPECT_TRUE(tree->from_template()) << second;
    EXPECT_EQ(tree->packed(), grammar_tree(second)) << second;
    EXPECT_EQ(tree->statement_text(0), [&] {
      std::string s;
      std::thread th([&] { s = ParseTree::parse(second)->statement_text(0); });
      th.join();
      return s;
    }()) << second;
  }
}

// Other shapes and texts take the grammar, whatever was parsed before.
TEST(ParserTest, OtherStatementsTakeTheGrammar) {
  ParseTree::parse("INSERT INTO t VALUES (1)");
  for (const std::string sql : {"INSERT INTO t VALUES (1), (2)", "INSERT INTO t VALUES (1) RETURNING *",
                                "INSERT INTO t VALUES (1::int)", "INSERT INTO t VALUES (1 + 1)", "INSERT INTO t VALUES ($1)",
                                "INSERT INTO t VALUES (E'a')", "INSERT INTO t VALUES (1); SELECT 1",
                                "INSERT INTO t VALUES (1) -- c", "INSERT INTO t  VALUES (1)", "INSERT INTO u VALUES (1)",
                                "INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING"}) {
    auto tree = ParseTree::parse(sql);
    EXPECT_FALSE(tree->from_template()) << sql;
    EXPECT_EQ(tree->packed(), grammar_tree(sql)) << sql;
  }
  // A syntax error after a template is still one.
  EXPECT_THROW(ParseTree::parse("INSERT INTO t VALUES (1,)"), SqlError);
  EXPECT_THROW(ParseTree::parse("INSERT INTO t VALUES (1"), SqlError);
  // A prefix the grammar refuses never becomes a template.
  EXPECT_THROW(ParseTree::parse("INSERT INTO select VALUES (1)"), SqlError);
  EXPECT_THROW(ParseTree::parse("INSERT INTO select VALUES (2)"), SqlError);
}

}  // namespace
}  // namespace freshet::sql
