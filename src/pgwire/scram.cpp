#include "pgwire/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <vector>

#include "common/error.hpp"

namespace freshet::pgwire {
namespace {

using Digest = std::array<uint8_t, 32>;

Digest hmac_sha256(const uint8_t* key, size_t key_len, std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  uint8_t* r = HMAC(EVP_sha256(), key, static_cast<int>(key_len), reinterpret_cast<const uint8_t*>(data.data()),
                    data.size(), out.data(), &len);
  FRESHET_ASSERT(r != nullptr && len == 32);
  return out;
}

Digest sha256(const uint8_t* data, size_t len) {
  Digest out{};
  SHA256(data, len, out.data());
  return out;
}

[[noreturn]] void malformed(std::string detail) {
  throw SqlError(sqlstate::kProtocolViolation, "malformed SCRAM message").with_detail(std::move(detail));
}

// Reads "<attr>=<value>" up to the next ',' (or the end) at pos.
std::string_view read_attr(std::string_view msg, size_t& pos, char attr) {
  if (pos + 2 > msg.size() || msg[pos] != attr || msg[pos + 1] != '=') {
    malformed(std::string("Expected attribute \"") + attr + "\".");
  }
  size_t start = pos + 2;
  size_t comma = msg.find(',', start);
  size_t end = comma == std::string_view::npos ? msg.size() : comma;
  pos = comma == std::string_view::npos ? msg.size() : comma + 1;
  return msg.substr(start, end - start);
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = b(i) << 16;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    uint32_t v = (b(i) << 16) | (b(i + 1) << 8);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int pad = 0;
    if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      int x = k >= 4 - pad ? 0 : val(text[i + static_cast<size_t>(k)]);
      if (x < 0) return std::nullopt;
      v = (v << 6) | static_cast<uint32_t>(x);
    }
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) out.push_back(static_cast<char>(v >> 8));
    if (pad < 1) out.push_back(static_cast<char>(v));
  }
  return out;
}

std::string random_bytes(size_t n) {
  std::string s(n, '\0');
  if (RAND_bytes(reinterpret_cast<uint8_t*>(s.data()), static_cast<int>(n)) != 1) {
    FRESHET_ASSERT(!"RAND_bytes failed");
  }
  return s;
}

std::string make_scram_nonce() { return base64_encode(random_bytes(18)); }

ScramVerifier make_scram_verifier(std::string_view password, std::string_view salt, int iterations) {
  ScramVerifier v;
  v.salt = std::string(salt);
  v.iterations = iterations;
  Digest salted{};
  int ok = PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                             reinterpret_cast<const uint8_t*>(salt.data()), static_cast<int>(salt.size()), iterations,
                             EVP_sha256(), 32, salted.data());
  FRESHET_ASSERT(ok == 1);
  Digest client_key = hmac_sha256(salted.data(), salted.size(), "Client Key");
  v.stored_key = sha256(client_key.data(), client_key.size());
  v.server_key = hmac_sha256(salted.data(), salted.size(), "Server Key");
  return v;
}

ScramServer::ScramServer(ScramVerifier verifier, std::string server_nonce, bool ok_possible)
    : verifier_(std::move(verifier)), server_nonce_(std::move(server_nonce)), ok_possible_(ok_possible) {}

std::string ScramServer::handle_client_first(std::string_view msg) {
  // gs2-header: cbind-flag "," [authzid] ","
  size_t pos = 0;
  if (msg.empty()) malformed("The message is empty.");
  char flag = msg[0];
  if (flag == 'p') {
    throw SqlError(sqlstate::kProtocolViolation, "unsupported SCRAM channel-binding type");
  }
  if (flag != 'n' && flag != 'y') malformed("Unexpected channel-binding flag.");
  if (msg.size() < 2 || msg[1] != ',') malformed("Comma expected.");
  pos = 2;
  if (pos < msg.size() && msg[pos] == 'a') {
    throw SqlError(sqlstate::kFeatureNotSupported, "client uses authorization identity, but it is not supported");
  }
  if (pos >= msg.size() || msg[pos] != ',') malformed("Unexpected attribute in client-first-message.");
  ++pos;
  gs2_header_ = std::string(msg.substr(0, pos));
  client_first_bare_ = std::string(msg.substr(pos));
  if (pos < msg.size() && msg[pos] == 'm') {
    throw SqlError(sqlstate::kFeatureNotSupported, "client requires an unsupported SCRAM extension");
  }
  read_attr(msg, pos, 'n');  // ignored: the startup packet's user is authenticated
  std::string_view client_nonce = read_attr(msg, pos, 'r');
  if (client_nonce.empty()) malformed("The client nonce is empty.");
  for (char c : client_nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') malformed("The client nonce contains an invalid character.");
  }
  // Any extensions after the nonce are ignored, as PostgreSQL does.
  nonce_ = std::string(client_nonce) + server_nonce_;
  server_first_ = "r=" + nonce_ + ",s=" + base64_encode(verifier_.salt) + ",i=" + std::to_string(verifier_.iterations);
  return server_first_;
}

std::optional<std::string> ScramServer::handle_client_final(std::string_view msg) {
  if (server_first_.empty()) malformed("client-final-message before client-first-message.");
  size_t pos = 0;
  std::string_view cbind = read_attr(msg, pos, 'c');
  auto cbind_raw = base64_decode(cbind);
  if (!cbind_raw || *cbind_raw != gs2_header_) {
    malformed("SCRAM channel binding check failed.");
  }
  std::string_view nonce = read_attr(msg, pos, 'r');
  if (nonce != nonce_) malformed("Nonce does not match.");
  // Skip extensions up to the proof, which is last.
  size_t proof_at = msg.rfind(",p=");
  if (proof_at == std::string_view::npos || proof_at + 1 < pos) malformed("Could not find proof.");
  std::string_view without_proof = msg.substr(0, proof_at);
  size_t ppos = proof_at + 1;
  std::string_view proof_b64 = read_attr(msg, ppos, 'p');
  if (ppos != msg.size()) malformed("Garbage found at the end of client-final-message.");
  auto proof = base64_decode(proof_b64);
  if (!proof || proof->size() != 32) malformed("Malformed proof in client-final-message.");

  std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  Digest client_signature = hmac_sha256(verifier_.stored_key.data(), 32, auth_message);
  Digest client_key{};
  for (size_t i = 0; i < 32; ++i) client_key[i] = static_cast<uint8_t>((*proof)[i]) ^ client_signature[i];
  Digest stored = sha256(client_key.data(), 32);
  bool ok = CRYPTO_memcmp(stored.data(), verifier_.stored_key.data(), 32) == 0;
  if (!ok || !ok_possible_) return std::nullopt;
  Digest server_signature = hmac_sha256(verifier_.server_key.data(), 32, auth_message);
  return "v=" + base64_encode(std::string_view(reinterpret_cast<const char*>(server_signature.data()), 32));
}

}  // namespace freshet::pgwire
