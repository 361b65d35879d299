#!/usr/bin/env bash
# The long CDC crash run (for `make test-slow`): 20 kill -9 of Freshet per upstream
# (PostgreSQL and MariaDB) under load, 3 upstream restarts with kills plus one with Freshet up.
# Prints PASS/FAIL cdc_crash like the short version in `make test`; exit status 0 on PASS.
export CDC_CRASH_KILLS=${CDC_CRASH_KILLS:-20} CDC_CRASH_UPSTREAM_RESTARTS=${CDC_CRASH_UPSTREAM_RESTARTS:-3}
exec bash "$(dirname "$0")/../cdc_crash_test.sh"
