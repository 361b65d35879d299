#include "sql/mz_pretty.hpp"

#include <gtest/gtest.h>

#include "sql/parser.hpp"

namespace freshet::sql::mz {
namespace {

// Relations as Materialize names them in its records: user tables in materialize.public,
// catalog relations in their system schema.
std::optional<std::string> resolve(std::string_view schema, std::string_view name) {
  if (name.rfind("mz_", 0) == 0) return "mz_catalog." + std::string(name);
  if (name == "nope") return std::nullopt;
  return "materialize." + std::string(schema.empty() ? "public" : schema) + "." + std::string(name);
}

// SHOW CREATE's text for `create` (a CREATE [MATERIALIZED] VIEW statement).
std::string show(const std::string& create, const std::string& name) {
  auto tree = ParseTree::parse(create);
  const PgQuery__Node* st = tree->statement(0);
  bool mv = st->node_case == PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT;
  const PgQuery__Node* query = mv ? st->create_table_as_stmt->query : st->view_stmt->query;
  auto out = pretty_create_view(mv, name, {}, query, tree->sql(), resolve, "quickstart");
  return out ? *out : "<unsupported>";
}

TEST(MzPrettyTest, FitsOnOneLine) {
  // operator.slt:121, 130, 145: operators as written.
  EXPECT_EQ(show("CREATE VIEW pg_adder AS SELECT 2 OPERATOR(pg_catalog.+) 2", "materialize.public.pg_adder"),
            "CREATE VIEW materialize.public.pg_adder AS SELECT 2 OPERATOR(pg_catalog.+) 2;");
  EXPECT_EQ(show("CREATE VIEW adder AS SELECT 2 OPERATOR(+) 2", "materialize.public.adder"),
            "CREATE VIEW materialize.public.adder AS SELECT 2 OPERATOR(+) 2;");
  EXPECT_EQ(show("CREATE VIEW m AS SELECT 2 operator(*) 2, 2 * 2", "materialize.public.m"),
            "CREATE VIEW materialize.public.m AS SELECT 2 OPERATOR(*) 2, 2 * 2;");
  // rename.slt:200: the query's parentheses go, relations are qualified.
  EXPECT_EQ(show("CREATE VIEW enemy.v2 AS (SELECT * FROM a1.t, b3.t)", "materialize.enemy.v2"),
            "CREATE VIEW materialize.enemy.v2 AS SELECT * FROM materialize.a1.t, materialize.b3.t;");
  // case_sensitive_names.slt:286: identifiers quoted only where needed.
  EXPECT_EQ(show("CREATE VIEW \"YV\" AS SELECT X, \"Y\" FROM foo", "materialize.public.\"YV\""),
            "CREATE VIEW materialize.public.\"YV\" AS SELECT x, \"Y\" FROM materialize.public.foo;");
}

TEST(MzPrettyTest, BreaksPastTheWidth) {
  // joins.slt:862.
  EXPECT_EQ(show("CREATE VIEW v1 AS SELECT x.* FROM t1 JOIN t2 USING (f1) AS x WHERE x.f1 = 3;", "materialize.public.v1"),
            "CREATE VIEW\n    materialize.public.v1\n    AS\n        SELECT x.*\n"
            "        FROM materialize.public.t1 JOIN materialize.public.t2 USING(f1) AS x\n        WHERE x.f1 = 3;");
  // materialized_views.slt:373.
  EXPECT_EQ(show("CREATE MATERIALIZED VIEW mv AS SELECT 1", "materialize.public.mv"),
            "CREATE MATERIALIZED VIEW materialize.public.mv\n    IN CLUSTER quickstart\n    WITH (REFRESH = ON COMMIT)\n    AS SELECT 1;");
  // pg_catalog_views.slt:37.
  EXPECT_EQ(show("CREATE VIEW pg_views AS SELECT s.name AS schemaname, v.name AS viewname, role_owner.oid AS viewowner, "
                 "v.definition AS definition FROM mz_views AS v LEFT JOIN mz_schemas AS s ON s.id = v.schema_id "
                 "LEFT JOIN mz_databases AS d ON d.id = s.database_id JOIN mz_roles AS role_owner ON role_owner.id = "
                 "v.owner_id WHERE s.database_id IS NULL OR d.name = current_database()",
                 "pg_catalog.pg_views"),
            "CREATE VIEW\n    pg_catalog.pg_views\n    AS\n        SELECT\n            s.name AS schemaname,\n"
            "            v.name AS viewname,\n            role_owner.oid AS viewowner,\n            v.definition AS definition\n"
            "        FROM\n            mz_catalog.mz_views AS v\n"
            "                LEFT JOIN mz_catalog.mz_schemas AS s ON s.id = v.schema_id\n"
            "                LEFT JOIN mz_catalog.mz_databases AS d ON d.id = s.database_id\n"
            "                JOIN mz_catalog.mz_roles AS role_owner ON role_owner.id = v.owner_id\n"
            "        WHERE s.database_id IS NULL OR d.name = pg_catalog.current_database();");
}

// Materialize's testdrive records (test/testdrive/*.td, file:line of the expected text).
TEST(MzPrettyTest, TestdriveRecords) {
  // rename.td:232: the view's definition breaks, the AS clause then fits on the name's line.
  EXPECT_EQ(show("CREATE VIEW renamed_mz_view AS SELECT * FROM renamed_mz_data_tbl", "materialize.public.renamed_mz_view"),
            "CREATE VIEW\n    materialize.public.renamed_mz_view AS SELECT * FROM materialize.public.renamed_mz_data_tbl;");
  // rename.td:265: a join broken under FROM.
  EXPECT_EQ(show("CREATE VIEW byzantine_view AS SELECT renamed_mz_data_tbl.a, renamed_mz_view.b FROM renamed_mz_data_tbl "
                 "JOIN renamed_mz_view ON renamed_mz_data_tbl.a = renamed_mz_view.a",
                 "materialize.public.byzantine_view"),
            "CREATE VIEW\n    materialize.public.byzantine_view\n    AS\n        SELECT renamed_mz_data_tbl.a, renamed_mz_view.b\n"
            "        FROM\n            materialize.public.renamed_mz_data_tbl\n"
            "                JOIN materialize.public.renamed_mz_view ON renamed_mz_data_tbl.a = renamed_mz_view.a;");
  // rename.td:271: a string with newlines counts its bytes.
  EXPECT_EQ(show("CREATE VIEW oppositional_view AS SELECT * FROM renamed_mz_view WHERE b = '\n  an adversarial string\n  "
                 "\"materialize\".\"public\".\"mz_data_tbl\"\n  '",
                 "materialize.public.oppositional_view"),
            "CREATE VIEW\n    materialize.public.oppositional_view\n    AS\n        SELECT *\n        FROM materialize.public.renamed_mz_view\n"
            "        WHERE b = '\n  an adversarial string\n  \"materialize\".\"public\".\"mz_data_tbl\"\n  ';");
  // rename.td:740: an IN list's line inside its parentheses.
  EXPECT_EQ(show("CREATE VIEW v9 AS SELECT b FROM t1 WHERE b IN ('v8')", "materialize.public.v9"),
            "CREATE VIEW materialize.public.v9 AS SELECT b FROM materialize.public.t1 WHERE b IN ( 'v8' );");
  // materializations.td:90.
  EXPECT_EQ(show("CREATE MATERIALIZED VIEW test1 AS SELECT b, sum(a) FROM data_tbl GROUP BY b", "materialize.public.test1"),
            "CREATE MATERIALIZED VIEW materialize.public.test1\n    IN CLUSTER quickstart\n    WITH (REFRESH = ON COMMIT)\n"
            "    AS SELECT b, pg_catalog.sum(a) FROM materialize.public.data_tbl GROUP BY b;");
  // rename.td:432: derived tables joined, other databases' names as the resolver gives them.
  auto tree = ParseTree::parse(
      "CREATE VIEW db1_db2_scm1_valid_qual AS SELECT * FROM (SELECT db1.scm1.v1.a FROM db1.scm1.v1) AS l "
      "JOIN (SELECT db2.scm1.v2.b FROM db2.scm1.v2) AS r ON l.a = r.b");
  RelationResolver by_db = [](std::string_view schema, std::string_view name) -> std::optional<std::string> {
    return std::string(name == "v1" ? "db1." : "db2.") + std::string(schema) + "." + std::string(name);
  };
  auto out = pretty_create_view(false, "materialize.public.db1_db2_scm1_valid_qual", {}, tree->statement(0)->view_stmt->query,
                                tree->sql(), by_db, "quickstart");
  EXPECT_EQ(out.value_or("<unsupported>"),
            "CREATE VIEW\n    materialize.public.db1_db2_scm1_valid_qual\n    AS\n        SELECT *\n        FROM\n"
            "            (SELECT db1.scm1.v1.a FROM db1.scm1.v1) AS l\n"
            "                JOIN (SELECT db2.scm1.v2.b FROM db2.scm1.v2) AS r ON l.a = r.b;");
}

TEST(MzPrettyTest, Expressions) {
  auto q = [](const std::string& sel) {
    std::string out = show("CREATE VIEW v AS " + sel, "v");
    const std::string prefix = "CREATE VIEW v AS ";
    return out.rfind(prefix, 0) == 0 ? out.substr(prefix.size(), out.size() - prefix.size() - 1) : out;
  };
  // Parentheses where precedence needs them (PostgreSQL's tree has none) and where written.
  EXPECT_EQ(q("SELECT (1 + 2) * 3, 1 + 2 * 3, 1 - (2 - 3), (1 - 2) - 3"), "SELECT (1 + 2) * 3, 1 + 2 * 3, 1 - (2 - 3), (1 - 2) - 3");
  EXPECT_EQ(q("SELECT a FROM t WHERE a AND (b OR c) AND NOT d"), "SELECT a FROM materialize.public.t WHERE a AND (b OR c) AND NOT d");
  EXPECT_EQ(q("SELECT sum(a), count(*), count(DISTINCT a)"),
            "SELECT pg_catalog.sum(a), pg_catalog.count(*), pg_catalog.count(DISTINCT a)");
  EXPECT_EQ(q("SELECT b FROM t GROUP BY b HAVING b IS NOT NULL"),
            "SELECT b FROM materialize.public.t GROUP BY b HAVING b IS NOT NULL");
  EXPECT_EQ(q("SELECT a::int, '1'::numeric(10,2), mz_now()"), "SELECT a::pg_catalog.int4, '1'::pg_catalog.numeric(10, 2), mz_catalog.mz_now()");
  EXPECT_EQ(q("SELECT INTERVAL '1 day', CAST(a AS text), DATE '2000-01-01'"),
            "SELECT INTERVAL '1 day', a::pg_catalog.text, '2000-01-01'::pg_catalog.date");
  // InList and InSubquery put a line (a space when flat) inside their parentheses.
  EXPECT_EQ(q("SELECT CASE WHEN a > 1 THEN 'x' ELSE NULL END, COALESCE(a, 1), a IN (1, 2)"),
            "SELECT CASE WHEN a > 1 THEN 'x' ELSE NULL END, COALESCE(a, 1), a IN ( 1, 2 )");
  EXPECT_EQ(q("SELECT a NOT IN (SELECT b FROM u), NULLIF(a, 1)"), "SELECT a NOT IN ( SELECT b FROM materialize.public.u ), NULLIF (a, 1)");
  // WITH names are not catalog relations; ORDER BY, LIMIT, set operations.
  EXPECT_EQ(q("WITH c AS (SELECT 1 AS x) SELECT x FROM c UNION ALL SELECT 2 ORDER BY 1 DESC"),
            "WITH c AS (SELECT 1 AS x) SELECT x FROM c UNION ALL SELECT 2 ORDER BY 1 DESC");
  // Past the width: one select item a line.
  EXPECT_EQ(show("CREATE VIEW v AS SELECT sum(a), count(*), count(DISTINCT a), mz_now() FROM t GROUP BY b", "v"),
            "CREATE VIEW\n    v\n    AS\n        SELECT\n            pg_catalog.sum(a),\n            pg_catalog.count(*),\n"
            "            pg_catalog.count(DISTINCT a),\n            mz_catalog.mz_now()\n        FROM materialize.public.t\n"
            "        GROUP BY b;");
  EXPECT_EQ(q("SELECT DISTINCT a FROM t"), "SELECT DISTINCT a FROM materialize.public.t");
  EXPECT_EQ(q("SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b NULLS FIRST"),
            "SELECT DISTINCT ON (a) a, b FROM materialize.public.t ORDER BY a, b NULLS FIRST");
  EXPECT_EQ(q("VALUES (1, 'a'), (2, 'b')"), "VALUES (1, 'a'), (2, 'b')");
  EXPECT_EQ(q("SELECT 1 UNION (SELECT 2 INTERSECT SELECT 3) EXCEPT ALL SELECT 4"),
            "SELECT 1 UNION SELECT 2 INTERSECT SELECT 3 EXCEPT ALL SELECT 4");
  EXPECT_EQ(q("(SELECT 1 UNION SELECT 2) INTERSECT SELECT 3"), "(SELECT 1 UNION SELECT 2) INTERSECT SELECT 3");
  EXPECT_EQ(q("SELECT 1 EXCEPT (SELECT 2 EXCEPT SELECT 3)"), "SELECT 1 EXCEPT (SELECT 2 EXCEPT SELECT 3)");
  EXPECT_EQ(q("SELECT a FROM t LIMIT 2 OFFSET 1"), "SELECT a FROM materialize.public.t LIMIT 2 OFFSET 1");
  EXPECT_EQ(q("SELECT * FROM t, LATERAL (SELECT t.a) AS s (x)"),
            "SELECT * FROM materialize.public.t, LATERAL (SELECT t.a) AS s (x)");
  // CROSS JOIN is Materialize's display of the Join, whose text starts with a space.
  EXPECT_EQ(show("CREATE VIEW v AS SELECT * FROM t LEFT JOIN u ON t.a = u.b CROSS JOIN w", "v"),
            "CREATE VIEW\n    v\n    AS\n        SELECT *\n        FROM\n            materialize.public.t\n"
            "                LEFT JOIN materialize.public.u ON t.a = u.b\n                 CROSS JOIN materialize.public.w;");
  EXPECT_EQ(q("SELECT - a, -1, NOT (a OR b), a IS DISTINCT FROM b, a BETWEEN 1 AND 2"),
            "SELECT - a, -1, NOT (a OR b), a IS DISTINCT FROM b, a BETWEEN 1 AND 2");
  // Parentheses as written (Materialize's Expr::Nested), not only where precedence needs them.
  EXPECT_EQ(q("SELECT (a), f(a), ((b)) FROM t WHERE (a > 1) AND (b OR c)"),
            "CREATE VIEW\n    v AS SELECT (a), pg_catalog.f(a), ((b)) FROM materialize.public.t WHERE (a > 1) AND (b OR c);");
  EXPECT_EQ(q("SELECT (a + b + c), (SELECT 1), (a, b) = (1, 2), a IN ((1), 2)"),
            "SELECT (a + b + c), (SELECT 1), ROW(a, b) = ROW(1, 2), a IN ( (1), 2 )");
  EXPECT_EQ(q("SELECT DISTINCT ON (a) a FROM t"), "SELECT DISTINCT ON (a) a FROM materialize.public.t");
  EXPECT_EQ(q("VALUES (1), ((2))"), "VALUES (1), ((2))");
  EXPECT_EQ(q("SELECT CASE WHEN (a = 1) THEN ('x') END, count(*) FILTER (WHERE (a > 1))"),
            "SELECT CASE WHEN (a = 1) THEN ('x') END, pg_catalog.count(*) FILTER (WHERE (a > 1))");
  // What the printer does not render: the caller keeps its own text.
  // SQL-syntax calls as Materialize's parser makes them.
  EXPECT_EQ(q("SELECT EXTRACT(YEAR FROM d), substring(c FROM 2 FOR 3)"), "SELECT pg_catalog.extract('year', d), pg_catalog.substring(c, 2, 3)");
  EXPECT_EQ(q("SELECT trim(both 'x' FROM c), position('a' IN c)"), "SELECT pg_catalog.btrim(c, 'x'), pg_catalog.position('a', c)");
  EXPECT_EQ(q("SELECT overlay(c PLACING 'x' FROM 2)"), "<unsupported>");
  // Window functions and aggregates with ORDER BY: Materialize's display, on one line.
  EXPECT_EQ(show("CREATE VIEW v AS SELECT row_number() OVER (ORDER BY a), sum(a) OVER (PARTITION BY b ORDER BY a DESC ROWS BETWEEN 1 "
                 "PRECEDING AND CURRENT ROW), lag(a) OVER (ROWS UNBOUNDED PRECEDING), string_agg(c, ',' ORDER BY c) FROM t",
                 "v"),
            "CREATE VIEW\n    v\n    AS\n        SELECT\n            pg_catalog.row_number() OVER (ORDER BY a),\n"
            "            pg_catalog.sum(a) OVER (PARTITION BY b ORDER BY a DESC ROWS BETWEEN 1 PRECEDING AND CURRENT ROW),\n"
            "            pg_catalog.lag(a) OVER (ROWS UNBOUNDED PRECEDING),\n"
            "            pg_catalog.string_agg(c, ',' ORDER BY c)\n        FROM materialize.public.t;");
  EXPECT_EQ(q("SELECT sum(a) OVER (ORDER BY a RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE TIES) FROM t"), "<unsupported>");
  EXPECT_EQ(q("SELECT a FROM nope"), "<unsupported>");
}

TEST(MzPrettyTest, TablesAndIndexes) {
  // alter.slt:152, 192.
  EXPECT_EQ(pretty_create_table("materialize.public.t", {{"a", "pg_catalog.int4", false, std::nullopt}}, {}, resolve),
            "CREATE TABLE materialize.public.t (a pg_catalog.int4);");
  EXPECT_EQ(pretty_create_index("i", "quickstart", "materialize.public.t", {"a"}),
            "CREATE INDEX i IN CLUSTER quickstart ON materialize.public.t (a);");
  // alter-table.slt:148: past the width the column list breaks, one column a line.
  EXPECT_EQ(pretty_create_table("materialize.public.t1",
                                {{"a", "pg_catalog.int4", true, std::nullopt},
                                 {"b", "pg_catalog.text VERSION ADDED 1", false, std::nullopt},
                                 {"c", "pg_catalog.timestamp VERSION ADDED 2", false, std::nullopt}},
                                {}, resolve),
            "CREATE TABLE\n    materialize.public.t1\n        (\n            a pg_catalog.int4 NOT NULL,\n"
            "            b pg_catalog.text VERSION ADDED 1,\n            c pg_catalog.timestamp VERSION ADDED 2\n        );");
  // Defaults in Materialize's form.
  EXPECT_EQ(pretty_create_table("materialize.public.d", {{"a", "pg_catalog.int4", false, std::string("1 + 2")}}, {"PRIMARY KEY (a)"}, resolve),
            "CREATE TABLE materialize.public.d (a pg_catalog.int4 DEFAULT 1 + 2, PRIMARY KEY (a));");
}

TEST(MzPrettyTest, Identifiers) {
  EXPECT_EQ(ident("abc_1"), "abc_1");
  EXPECT_EQ(ident("Abc"), "\"Abc\"");
  EXPECT_EQ(ident("select"), "\"select\"");
  EXPECT_EQ(ident("day"), "\"day\"");
  EXPECT_EQ(ident("view"), "view");
  EXPECT_EQ(ident("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(ident("1a"), "\"1a\"");
}

}  // namespace
}  // namespace freshet::sql::mz
