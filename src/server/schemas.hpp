#pragma once
// CREATE SCHEMA / CREATE DATABASE: the checks that need no catalog (the statements themselves
// run in the sequencer (sequencer/schemas.cpp), through the catalog like every DDL). Schemas and databases
// are catalog objects (sql::ObjectKind::kSchema / kDatabase): durable, transactional, listed
// in pg_namespace / information_schema.schemata / pg_database. src/server/README.md,
// "Schemas and databases", has the rules.

#include <string>

namespace freshet::server {

// Throws 42939 for a name PostgreSQL reserves (pg_*) or Materialize does (mz_*), 42602 for
// an empty name.
void check_new_schema_name(const std::string& name);
// Throws 42602 for an empty name, 0A000 when options are given (none is supported: a database
// here is a name, see the README).
void check_new_database(const std::string& name, size_t n_options);

}  // namespace freshet::server
