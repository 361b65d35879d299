#pragma once
// SecretBox: encryption at rest for CREATE SECRET values (issue 12). The catalog stores a
// secret as AES-256-GCM ciphertext, never as plaintext; the 32-byte key lives in its own file,
// apart from the segment files (default DATA_DIR/secret.key, `freshet serve
// --secret-key-file`), created on first start with mode 0600.
//
// Sealed form (base64 of): "FSK1" | 12-byte random nonce | ciphertext | 16-byte GCM tag.
// The additional authenticated data is the owning object's id, so a sealed value copied onto
// another object does not open.
//
// Thread-safe after construction (const methods; each call builds its own EVP context).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace freshet::server {

class SecretBox {
 public:
  // Reads the key from path, or, when path does not exist, creates it (0600, durably: fsync
  // of the file and its directory). Fails on a file of the wrong size, one readable by group
  // or others, or I/O errors.
  static Result<SecretBox> open_or_create(const std::string& path);
  // A box with the given key (tests).
  explicit SecretBox(const std::array<uint8_t, 32>& key) : key_(key) {}

  std::string seal(std::string_view plaintext, uint64_t object_id) const;
  // The plaintext, or an error when the sealed text is malformed or the key/object id do not
  // match (tampering, or another data directory's key).
  Result<std::string> open(std::string_view sealed, uint64_t object_id) const;

 private:
  std::array<uint8_t, 32> key_{};
};

}  // namespace freshet::server
