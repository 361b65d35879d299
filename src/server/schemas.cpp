#include "server/schemas.hpp"

#include "common/error.hpp"

namespace freshet::server {

void check_new_schema_name(const std::string& name) {
  if (name.empty()) throw SqlError(sqlstate::kInvalidName, "zero-length schema name");
  if (name.rfind("pg_", 0) == 0)
    throw SqlError(sqlstate::kReservedName, "unacceptable schema name \"" + name + "\"")
        .with_detail("The prefix \"pg_\" is reserved for system schemas.");
  if (name.rfind("mz_", 0) == 0)
    throw SqlError(sqlstate::kReservedName, "unacceptable schema name \"" + name + "\"")
        .with_detail("The prefix \"mz_\" is reserved for system schemas (as in Materialize).");
}

void check_new_database(const std::string& name, size_t n_options) {
  if (name.empty()) throw SqlError(sqlstate::kInvalidName, "zero-length database name");
  if (n_options > 0) throw SqlError(sqlstate::kFeatureNotSupported, "CREATE DATABASE options are not supported");
}

}  // namespace freshet::server
