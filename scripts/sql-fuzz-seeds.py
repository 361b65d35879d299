#!/usr/bin/env python3
"""Adds to src/sql/fuzz_corpus/ every query-like statement of test/sql/*.slt and
test/sql/materialize_dialect/*.slt (seeds slt_mz_<file>_<n>.sql: LIST syntax, Materialize's
types) (SELECT, WITH,
VALUES, TABLE, EXPLAIN, CREATE [MATERIALIZED] VIEW) that no seed holds yet, one file each,
named slt_<file>_<n>.sql. Run after adding .slt files, so that the SQL fuzz target
(src/sql/fuzz_sql.cpp) mutates them too. Existing seeds are never changed or removed.

    scripts/sql-fuzz-seeds.py            # prints how many seeds it added
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "src/sql/fuzz_corpus")
QUERY_LIKE = re.compile(r"(?is)\s*(select|with|values|table|explain|\(|create\s+(or\s+replace\s+)?(materialized\s+)?view)\b")


def norm(s):
    return " ".join(s.split()).rstrip(";")


def statements(path):
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith(("statement", "query")):
            i += 1
            buf = []
            while i < len(lines) and lines[i].strip() not in ("", "----"):
                buf.append(lines[i])
                i += 1
            yield "\n".join(buf)
        else:
            i += 1


def main():
    held = " ;; ".join(norm(open(f, encoding="utf-8", errors="replace").read())
                       for f in glob.glob(os.path.join(CORPUS, "*")))
    added = 0
    paths = [(p, "") for p in sorted(glob.glob(os.path.join(ROOT, "test/sql/*.slt")))]
    paths += [(p, "mz_") for p in sorted(glob.glob(os.path.join(ROOT, "test/sql/materialize_dialect/*.slt")))]
    for path, prefix in paths:
        name = prefix + os.path.splitext(os.path.basename(path))[0]
        n = 0
        for stmt in statements(path):
            text = norm(stmt)
            if not text or not QUERY_LIKE.match(text) or "\0" in text or len(text) > 16384 or text in held:
                continue
            n += 1
            out = os.path.join(CORPUS, f"slt_{name}_{n:03d}.sql")
            while os.path.exists(out):  # a file seeded before: the next free number
                n += 1
                out = os.path.join(CORPUS, f"slt_{name}_{n:03d}.sql")
            with open(out, "w", encoding="utf-8") as f:
                f.write(stmt.strip() + "\n")
            held += " ;; " + text
            added += 1
    print(f"added {added} seeds to src/sql/fuzz_corpus")


if __name__ == "__main__":
    sys.exit(main())
