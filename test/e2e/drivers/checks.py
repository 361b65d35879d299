"""Result lines shared by the Python driver tests (psycopg, psycopg2, SQLAlchemy).

Each check prints `ok   name`, `FAIL name: why`, or, for a feature Freshet does not have yet,
`SKIP name: not yet supported on Freshet (...)` -- a skipped check is never counted as passed.
E2E_TARGET=postgres runs every check (PostgreSQL 15 is the reference); Freshet-only checks
(SUBSCRIBE) print `SKIP name: Freshet only` there.
"""
import os
import sys
import traceback

TARGET = os.environ.get("E2E_TARGET", "freshet")
ON_FRESHET = TARGET != "postgres"

passed = 0
failed = 0
skipped = 0


def check(name, unsupported=None, freshet_only=False):
    """Decorator: runs the function now and records its result.

    unsupported: a reason string when Freshet does not have the feature yet (the check runs
    only against PostgreSQL); freshet_only: the check uses Freshet's own SQL (SUBSCRIBE)."""

    def run(fn):
        global passed, failed, skipped
        if unsupported and ON_FRESHET:
            skipped += 1
            print(f"SKIP {name}: not yet supported on Freshet ({unsupported})", flush=True)
            return fn
        if freshet_only and not ON_FRESHET:
            skipped += 1
            print(f"SKIP {name}: Freshet only", flush=True)
            return fn
        try:
            fn()
            passed += 1
            print(f"ok   {name}", flush=True)
        except Exception as e:  # noqa: BLE001 -- any failure is the check's failure
            failed += 1
            tb = traceback.extract_tb(e.__traceback__)
            where = f"line {tb[-1].lineno}" if tb else ""
            msg = " ".join(str(e).split())[:400]
            print(f"FAIL {name}: {type(e).__name__}: {msg} ({where})", flush=True)
        return fn

    return run


def eq(got, want):
    if got != want:
        raise AssertionError(f"got {got!r}, want {want!r}")


def finish(client):
    print(f"{client}: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    sys.exit(1 if failed else 0)
