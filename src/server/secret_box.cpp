#include "server/secret_box.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

namespace freshet::server {
namespace {

constexpr std::string_view kMagic = "FSK1";
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

std::string aad_of(uint64_t object_id) { return "freshet-secret:" + std::to_string(object_id); }

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out(3 * in.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

Status errno_status(const std::string& what, const std::string& path) {
  return Status::error(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Result<SecretBox> SecretBox::open_or_create(const std::string& path) {
  std::array<uint8_t, 32> key{};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      Status s = errno_status("stat", path);
      ::close(fd);
      return s;
    }
    if ((st.st_mode & 077) != 0) {
      ::close(fd);
      return Status::error("secret key file " + path + " is readable by group or others (chmod 600 it)");
    }
    uint8_t buf[64];  // one byte more than a key tells a longer file
    ssize_t n = ::read(fd, buf, key.size() + 1);
    ::close(fd);
    if (n != static_cast<ssize_t>(key.size())) {
      return Status::error("secret key file " + path + " is not a Freshet key (" + std::to_string(key.size()) + " bytes)");
    }
    std::memcpy(key.data(), buf, key.size());
    return SecretBox(key);
  }
  if (errno != ENOENT) return errno_status("open", path);
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) return Status::error("cannot generate a secret key");
  fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return errno_status("create", path);
  bool ok = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
  Status s = ok ? Status::ok() : errno_status("write", path);
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return s;
  }
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  if (dir.empty()) dir = "/";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return SecretBox(key);
}

std::string SecretBox::seal(std::string_view plaintext, uint64_t object_id) const {
  std::string out(kMagic);
  unsigned char nonce[kNonceBytes];
  FRESHET_ASSERT(RAND_bytes(nonce, sizeof nonce) == 1);
  out.append(reinterpret_cast<const char*>(nonce), sizeof nonce);
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  FRESHET_ASSERT(ctx != nullptr);
  FRESHET_ASSERT(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) == 1);
  std::string aad = aad_of(object_id);
  int len = 0;
  FRESHET_ASSERT(EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                                   static_cast<int>(aad.size())) == 1);
  size_t at = out.size();
  out.resize(at + plaintext.size() + kTagBytes);
  auto* dst = reinterpret_cast<unsigned char*>(out.data() + at);
  FRESHET_ASSERT(EVP_EncryptUpdate(ctx.get(), dst, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                                   static_cast<int>(plaintext.size())) == 1);
  int fin = 0;
  FRESHET_ASSERT(EVP_EncryptFinal_ex(ctx.get(), dst + len, &fin) == 1);
  FRESHET_ASSERT(static_cast<size_t>(len + fin) == plaintext.size());
  FRESHET_ASSERT(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, dst + plaintext.size()) == 1);
  return base64(out);
}

Result<std::string> SecretBox::open(std::string_view sealed, uint64_t object_id) const {
  auto raw = unbase64(sealed);
  if (!raw || raw->size() < kMagic.size() + kNonceBytes + kTagBytes || raw->compare(0, kMagic.size(), kMagic) != 0) {
    return Status::error("not a sealed secret");
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(raw->data() + kMagic.size());
  const auto* ct = nonce + kNonceBytes;
  size_t ct_len = raw->size() - kMagic.size() - kNonceBytes - kTagBytes;
  std::string tag(raw->data() + raw->size() - kTagBytes, kTagBytes);
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) != 1) {
    return Status::error("cannot set up AES-256-GCM");
  }
  std::string aad = aad_of(object_id);
  int len = 0;
  if (EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1) {
    return Status::error("cannot decrypt");
  }
  std::string out(ct_len, '\0');
  if (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, ct, static_cast<int>(ct_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1) {
    return Status::error("cannot decrypt");
  }
  int fin = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &fin) != 1) {
    return Status::error("the secret does not open with this key (another data directory's key file, or damage)");
  }
  return out;
}

}  // namespace freshet::server
