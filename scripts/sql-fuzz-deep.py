#!/usr/bin/env python3
"""Writes deeply nested and very long SQL statements, one file each, into DIR: every kind of
expression, subquery, join, CTE, set operation, JSON and array nested 2,000-30,000 deep or
repeated thousands of times, each under the driver's 64 KiB. Random mutation rarely builds
such inputs, and they are where a recursive binder, lowerer or optimizer overflows its stack
(a chain of 800 JOIN LATERALs did, in the ASan build). `make test-slow` runs the SQL fuzz driver over them once (scripts/
run-tests.sh fuzz-slow); each must answer (a result or a SqlError such as 54001), never crash.

    scripts/sql-fuzz-deep.py DIR
"""
import os
import sys


def shapes():
    n = 2000
    yield "sum_nested", "SELECT " + "1+(" * 10000 + "1" + ")" * 10000
    yield "not", "SELECT " + "NOT " * 15000 + "true"
    yield "scalar_subquery", "SELECT " + "(SELECT " * 300 + "1" + ")" * 300
    yield "parens", "SELECT " + "(" * 30000 + "1" + ")" * 30000
    yield "unary_minus", "SELECT " + "-" * 30000 + "1"
    yield "case", "SELECT " + "CASE WHEN true THEN " * 2500 + "1" + " END" * 2500
    yield "array_literal", "SELECT ARRAY" + "[" * 20000 + "1" + "]" * 20000
    yield "union_all", "SELECT 1 " + "UNION ALL SELECT 1 " * 3000
    yield "join_using", "SELECT * FROM t1 " + "JOIN t1 AS x USING (a) " * 500
    yield "coalesce_nested", "SELECT " + "coalesce(" * 5000 + "1" + ")" * 5000
    yield "jsonb_arrow", "SELECT '{}'::jsonb" + "->'a'" * 3000
    yield "ctes_flat", "WITH " + ", ".join(f"c{i} AS (SELECT {i})" for i in range(2500)) + " SELECT * FROM c2499"
    yield "in_nested", "SELECT 1 WHERE " + "1 IN (" * 3000 + "1" + ")" * 3000
    yield "abs_nested", "SELECT " + "abs(" * 8000 + "1" + ")" * 8000
    yield "lateral_chain", "SELECT x FROM (SELECT 1 AS x) AS s" + "".join(
        f" CROSS JOIN LATERAL (SELECT s.x) AS s{i}" for i in range(800))
    yield "join_chain", "SELECT count(*) FROM (SELECT 1 AS x) AS s0" + "".join(
        f" JOIN (SELECT 1 AS x) AS s{i + 1} ON true" for i in range(1500))
    yield "union_right_deep", "SELECT 1 " + "UNION (SELECT 1 " * n + ")" * n
    yield "from_subselect", "SELECT * FROM " + "(SELECT * FROM " * n + "t1" + ") AS x" * n
    yield "join_right_deep", "SELECT 1 FROM " + "t1 AS a JOIN (" * n + "t1" + ") ON true" * n
    yield "row", "SELECT " + "ROW(" * n + "1" + ")" * n
    yield "casts", "SELECT 1" + "::int" * 5000
    yield "exists", "SELECT a FROM t1 WHERE " + "EXISTS (SELECT " * n + "1" + ")" * n
    yield "is_null", "SELECT 1 IS NULL" + " IS NULL" * 5000
    yield "ctes_nested", "WITH a AS (" * n + "SELECT 1" + ") SELECT * FROM a" * n
    yield "window", "SELECT sum(a) OVER (PARTITION BY " + "abs(" * 3000 + "a" + ")" * 3000 + ") FROM t1"
    yield "order_by", "SELECT a FROM t1 ORDER BY " + "-" * 5000 + "a"
    yield "group_by", "SELECT count(*) FROM t1 GROUP BY " + "(a+" * 3000 + "1" + ")" * 3000
    yield "values", "SELECT * FROM (VALUES " + ",".join(f"({i})" for i in range(5000)) + ") AS v(x)"
    yield "in_list", "SELECT a IN (" + ",".join(str(i) for i in range(8000)) + ") FROM t1"
    yield "and", "SELECT 1 FROM t1 WHERE " + " AND ".join(f"a <> {i}" for i in range(4500))
    yield "or_subqueries", "SELECT 1 FROM t1 WHERE " + " OR ".join(f"a = (SELECT {i})" for i in range(200))
    yield "lateral_nested", "SELECT * FROM t1, " + "LATERAL (SELECT * FROM " * n + "t2" + ") AS z" * n
    yield "subscripts", "SELECT ARRAY[1]" + "[1]" * 5000
    yield "jsonb_literal", "SELECT '" + "[" * 5000 + "]" * 5000 + "'::jsonb"
    yield "jsonb_path", "SELECT '{}'::jsonb #> '{" + ",".join(["a"] * 5000) + "}'"
    yield "mutually_recursive", "WITH MUTUALLY RECURSIVE " + ", ".join(
        f"c{i} (x int) AS (SELECT 1 UNION SELECT x FROM c{(i + 1) % 300})" for i in range(300)) + " SELECT * FROM c0"
    yield "regex", "SELECT 'a' ~ '" + "(" * 3000 + "a" + ")" * 3000 + "'"
    yield "like", "SELECT 'a' LIKE '" + "%_" * 10000 + "'"
    yield "case_arms", "SELECT CASE a " + " ".join(f"WHEN {i} THEN {i}" for i in range(3000)) + " END FROM t1"
    yield "coalesce_args", "SELECT coalesce(" + ",".join(["a"] * 8000) + ") FROM t1"
    yield "concat_args", "SELECT concat(" + ",".join(["b"] * 8000) + ") FROM t2"
    yield "to_char", "SELECT to_char(now(), '" + "YYYY" * 10000 + "')"
    yield "to_timestamp", "SELECT to_timestamp('2020', '" + "FMYYYY" * 5000 + "')"


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    os.makedirs(sys.argv[1], exist_ok=True)
    count = 0
    for name, sql in shapes():
        with open(os.path.join(sys.argv[1], f"deep_{name}.sql"), "w", encoding="utf-8") as f:
            f.write(sql)
        count += 1
    print(f"wrote {count} statements to {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
