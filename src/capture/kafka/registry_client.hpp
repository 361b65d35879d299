#pragma once
// A client of a Confluent-compatible schema registry (Freshet's own, Confluent's, Redpanda's,
// Estuary's): GET /subjects/{subject}/versions/latest, GET /schemas/ids/{id} and (for sinks)
// POST /subjects/{subject}/versions over HTTP/1.1
// or HTTPS (OpenSSL, verifying the server's certificate against the given CA or the system's),
// with Basic auth. One request per connection (Connection: close): the source asks only at
// start and when a message names a schema id it has not seen, and caches every answer.
//
// Threads: a RegistryClient is used by one thread (the source's connector thread).
// Limits: responses over 16 MiB are refused; each request times out after timeout_ms.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/error.hpp"

namespace freshet::capture::kafka {

struct RegistryOptions {
  std::string url;        // http://host:port[/prefix] or https://...
  std::string username;   // Basic auth when not empty
  std::string password;
  std::string ca_pem;     // PEM text of the CA to trust for https (else ca_file, else the system's)
  std::string ca_file;
  bool verify = true;     // false only when the user asked for it
  int timeout_ms = 10000;
};

struct RegisteredSchema {
  int32_t id = 0;
  std::string schema;  // the Avro schema's JSON text
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

// One GET. Returns an error Status when the server cannot be reached or the answer is not
// HTTP. REQUIRES: path starts with '/'.
Result<HttpResponse> http_get(const RegistryOptions& o, const std::string& path);
// One request with a JSON body (method "POST", ...).
Result<HttpResponse> http_request(const RegistryOptions& o, const std::string& method, const std::string& path,
                                  const std::string& body);

class RegistryClient {
 public:
  explicit RegistryClient(RegistryOptions o) : o_(std::move(o)) {}
  // The subject's latest version; nullopt when the subject does not exist (404).
  Result<std::optional<RegisteredSchema>> latest(const std::string& subject);
  // Registers an Avro schema under subject (POST /subjects/{subject}/versions) and returns its
  // id; registering the same schema again returns the same id.
  Result<int32_t> register_schema(const std::string& subject, const std::string& schema);
  // The schema with this id (cached).
  Result<std::string> schema_by_id(int32_t id);

 private:
  RegistryOptions o_;
  std::map<int32_t, std::string> by_id_;
};

}  // namespace freshet::capture::kafka
