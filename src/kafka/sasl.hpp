#pragma once
// SASL for the Kafka API (KIP-43, KIP-152): PLAIN (RFC 4616) and SCRAM-SHA-256 (RFC 5802,
// RFC 7677, as Kafka does it: no channel binding, 4096 iterations, SASLname escaping of the
// user name "=2C"/"=3D"). One SaslSession is one connection's exchange, owned by its thread.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace freshet::kafka {

inline constexpr int kScramIterations = 4096;

struct ScramCredential {
  std::string salt;  // raw bytes
  int iterations = kScramIterations;
  std::array<uint8_t, 32> stored_key{};
  std::array<uint8_t, 32> server_key{};
};

ScramCredential make_scram_credential(std::string_view password, std::string_view salt,
                                      int iterations = kScramIterations);

std::string base64_encode(std::string_view in);
// nullopt when in is not valid base64.
std::optional<std::string> base64_decode(std::string_view in);

// Parses a PLAIN message "authzid \0 user \0 password"; nullopt when malformed.
struct PlainCredentials {
  std::string user;
  std::string password;
};
std::optional<PlainCredentials> parse_sasl_plain(std::string_view message);

// The server side of one SCRAM-SHA-256 exchange.
class ScramServer {
 public:
  // lookup: the user's credential, nullopt for an unknown user (the exchange then fails at
  // the proof, telling the client nothing more). nonce: the server's nonce part.
  using Lookup = std::function<std::optional<ScramCredential>(const std::string& user)>;
  ScramServer(Lookup lookup, std::string server_nonce);

  // client-first-message -> server-first-message; nullopt when malformed.
  std::optional<std::string> client_first(std::string_view message);
  // client-final-message -> server-final-message ("v=..."); nullopt when the proof is wrong
  // or the message is malformed.
  std::optional<std::string> client_final(std::string_view message);
  const std::string& user() const { return user_; }

 private:
  Lookup lookup_;
  std::string server_nonce_;
  std::string user_;
  std::optional<ScramCredential> credential_;
  ScramCredential fake_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;
};

// Client side, for tests: computes client-final-message for a password.
std::string scram_client_final(std::string_view password, std::string_view client_first_bare,
                               std::string_view server_first, std::string_view channel_binding = "biws");

std::string random_nonce();

}  // namespace freshet::kafka
