#include "kafka/sasl.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstring>
#include <vector>

#include "common/error.hpp"

namespace freshet::kafka {

namespace {

using Digest = std::array<uint8_t, 32>;

Digest hmac(std::string_view key, std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out.data(), &len);
  FRESHET_ASSERT(len == 32);
  return out;
}

Digest sha256(std::string_view data) {
  Digest out{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

std::string_view as_view(const Digest& d) { return std::string_view(reinterpret_cast<const char*>(d.data()), d.size()); }

// Splits "a=..,b=.." into attribute values by key; nullopt if a required key is missing.
std::optional<std::string> attr(std::string_view msg, char key) {
  size_t pos = 0;
  while (pos <= msg.size()) {
    size_t end = msg.find(',', pos);
    if (end == std::string_view::npos) end = msg.size();
    std::string_view part = msg.substr(pos, end - pos);
    if (part.size() >= 2 && part[0] == key && part[1] == '=') return std::string(part.substr(2));
    pos = end + 1;
  }
  return std::nullopt;
}

std::optional<std::string> unescape_saslname(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=') {
      if (s.substr(i, 3) == "=2C") {
        out.push_back(',');
      } else if (s.substr(i, 3) == "=3D") {
        out.push_back('=');
      } else {
        return std::nullopt;
      }
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

ScramCredential make_scram_credential(std::string_view password, std::string_view salt, int iterations) {
  ScramCredential c;
  c.salt = std::string(salt);
  c.iterations = iterations;
  Digest salted{};
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), 32, salted.data());
  Digest client_key = hmac(as_view(salted), "Client Key");
  c.stored_key = sha256(as_view(client_key));
  c.server_key = hmac(as_view(salted), "Server Key");
  return c;
}

std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  for (char c : in) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) return std::nullopt;
  }
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  if (!in.empty() && in.back() == '=') --len;
  if (in.size() >= 2 && in[in.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::optional<PlainCredentials> parse_sasl_plain(std::string_view m) {
  size_t a = m.find('\0');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = m.find('\0', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  if (m.find('\0', b + 1) != std::string_view::npos) return std::nullopt;
  PlainCredentials c{std::string(m.substr(a + 1, b - a - 1)), std::string(m.substr(b + 1))};
  if (c.user.empty()) return std::nullopt;
  return c;
}

std::string random_nonce() {
  unsigned char buf[18];
  FRESHET_ASSERT(RAND_bytes(buf, sizeof(buf)) == 1);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(buf), sizeof(buf)));
}

ScramServer::ScramServer(Lookup lookup, std::string server_nonce)
    : lookup_(std::move(lookup)), server_nonce_(std::move(server_nonce)) {}

std::optional<std::string> ScramServer::client_first(std::string_view m) {
  // gs2-header: "n,," or "y,," (no channel binding), no authzid support beyond ignoring it.
  if (m.size() < 3 || (m[0] != 'n' && m[0] != 'y') || m[1] != ',') return std::nullopt;
  size_t second = m.find(',', 2);
  if (second == std::string_view::npos) return std::nullopt;
  client_first_bare_ = std::string(m.substr(second + 1));
  auto n = attr(client_first_bare_, 'n');
  auto r = attr(client_first_bare_, 'r');
  if (!n || !r || r->empty()) return std::nullopt;
  auto user = unescape_saslname(*n);
  if (!user) return std::nullopt;
  user_ = *user;
  credential_ = lookup_(user_);
  if (!credential_) {
    fake_ = make_scram_credential(random_nonce(), "freshet-unknown-user:" + user_);
  }
  const ScramCredential& c = credential_ ? *credential_ : fake_;
  nonce_ = *r + server_nonce_;
  server_first_ = "r=" + nonce_ + ",s=" + base64_encode(c.salt) + ",i=" + std::to_string(c.iterations);
  return server_first_;
}

std::optional<std::string> ScramServer::client_final(std::string_view m) {
  if (server_first_.empty()) return std::nullopt;
  size_t p = m.rfind(",p=");
  if (p == std::string_view::npos) return std::nullopt;
  std::string without_proof(m.substr(0, p));
  auto r = attr(without_proof, 'r');
  auto cb = attr(without_proof, 'c');
  // librdkafka sends the client nonce followed by the whole combined nonce; Kafka's broker
  // accepts any r that ends with the combined nonce, so do we (the proof covers r anyway).
  if (!r || !cb || r->size() < nonce_.size() || r->compare(r->size() - nonce_.size(), nonce_.size(), nonce_) != 0) {
    return std::nullopt;
  }
  auto proof = base64_decode(m.substr(p + 3));
  if (!proof || proof->size() != 32) return std::nullopt;
  const ScramCredential& c = credential_ ? *credential_ : fake_;
  std::string auth_message = client_first_bare_ + "," + server_first_ + "," + without_proof;
  Digest signature = hmac(as_view(c.stored_key), auth_message);
  Digest client_key{};
  for (size_t i = 0; i < 32; ++i) client_key[i] = static_cast<uint8_t>((*proof)[i]) ^ signature[i];
  Digest stored = sha256(as_view(client_key));
  if (!credential_ || CRYPTO_memcmp(stored.data(), c.stored_key.data(), 32) != 0) return std::nullopt;
  Digest server_sig = hmac(as_view(c.server_key), auth_message);
  return "v=" + base64_encode(as_view(server_sig));
}

std::string scram_client_final(std::string_view password, std::string_view client_first_bare,
                               std::string_view server_first, std::string_view channel_binding) {
  auto r = attr(server_first, 'r');
  auto s = attr(server_first, 's');
  auto i = attr(server_first, 'i');
  FRESHET_ASSERT(r && s && i);
  auto salt = base64_decode(*s);
  FRESHET_ASSERT(salt.has_value());
  Digest salted{};
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), reinterpret_cast<const unsigned char*>(salt->data()),
                    static_cast<int>(salt->size()), std::stoi(*i), EVP_sha256(), 32, salted.data());
  Digest client_key = hmac(as_view(salted), "Client Key");
  Digest stored = sha256(as_view(client_key));
  std::string without_proof = "c=" + std::string(channel_binding) + ",r=" + *r;
  std::string auth_message = std::string(client_first_bare) + "," + std::string(server_first) + "," + without_proof;
  Digest sig = hmac(as_view(stored), auth_message);
  std::string proof(32, '\0');
  for (size_t k = 0; k < 32; ++k) proof[k] = static_cast<char>(client_key[k] ^ sig[k]);
  return without_proof + ",p=" + base64_encode(proof);
}

}  // namespace freshet::kafka
