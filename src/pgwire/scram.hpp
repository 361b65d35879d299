#pragma once
// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL's server does it: no channel binding
// (SCRAM-SHA-256-PLUS is not offered; "y" and "n" flags are accepted), no authorization
// identity, the user name in the client-first message is ignored (the StartupMessage's user
// is the one authenticated). Passwords are used as given (PostgreSQL applies SASLprep, which
// leaves ASCII passwords unchanged).
//
// A ScramServer is one exchange, owned by one connection thread. Verifiers are computed once
// (PBKDF2 with 4096 iterations costs a few milliseconds) and are immutable, so they can be
// shared by all threads.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace freshet::pgwire {

inline constexpr int kScramIterations = 4096;

struct ScramVerifier {
  std::string salt;  // raw bytes
  int iterations = kScramIterations;
  std::array<uint8_t, 32> stored_key{};
  std::array<uint8_t, 32> server_key{};
};

// SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations); StoredKey = H(HMAC(
// SaltedPassword, "Client Key")); ServerKey = HMAC(SaltedPassword, "Server Key").
ScramVerifier make_scram_verifier(std::string_view password, std::string_view salt,
                                  int iterations = kScramIterations);

class ScramServer {
 public:
  // verifier: the role's verifier; a made-up one (with a salt that is stable per role name)
  // for a role without a password, so that the exchange runs to the end and fails the same
  // way as a wrong password does, telling an attacker nothing. ok_possible=false for those.
  ScramServer(ScramVerifier verifier, std::string server_nonce, bool ok_possible = true);

  // Handles client-first-message and returns server-first-message. Throws SqlError (08P01
  // for a malformed message, 0A000 for channel binding or an authorization identity).
  std::string handle_client_first(std::string_view message);
  // Handles client-final-message. Returns server-final-message ("v=...") when the proof is
  // right, nullopt when it is wrong. Throws SqlError 08P01 for a malformed message.
  std::optional<std::string> handle_client_final(std::string_view message);

 private:
  ScramVerifier verifier_;
  std::string server_nonce_;
  bool ok_possible_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;  // client nonce + server nonce
};

// Cryptographically random bytes (OpenSSL RAND_bytes). Aborts if the RNG fails.
std::string random_bytes(size_t n);
// A fresh server nonce: 18 random bytes, base64 (as PostgreSQL).
std::string make_scram_nonce();

std::string base64_encode(std::string_view bytes);
// Strict base64 with padding; nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace freshet::pgwire
