#include "capture/kafka/registry_client.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>

#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace freshet::capture::kafka {
namespace {

constexpr size_t kMaxResponseBytes = 16 << 20;

std::string base64(std::string_view in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += k[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string ssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

struct Conn {
  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  ~Conn() {
    if (ssl) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    if (ctx) SSL_CTX_free(ctx);
    if (fd >= 0) ::close(fd);
  }
  bool write_all(std::string_view d) {
    while (!d.empty()) {
      ssize_t n = ssl ? SSL_write(ssl, d.data(), static_cast<int>(d.size())) : ::send(fd, d.data(), d.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      d.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads until EOF (the server closes: Connection: close).
  Status read_all(std::string& out) {
    char buf[16384];
    while (true) {
      ssize_t n = ssl ? SSL_read(ssl, buf, sizeof buf) : ::recv(fd, buf, sizeof buf, 0);
      if (n == 0) return Status::ok();
      if (n < 0) {
        if (ssl) {
          int e = SSL_get_error(ssl, static_cast<int>(n));
          if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !out.empty())) return Status::ok();
        }
        return Status::error("reading the registry's answer failed (or timed out)");
      }
      out.append(buf, static_cast<size_t>(n));
      if (out.size() > kMaxResponseBytes) return Status::error("the registry's answer is larger than 16 MiB");
    }
  }
};

// Decodes a chunked body; returns false when it is malformed.
bool dechunk(std::string_view in, std::string& out) {
  while (true) {
    size_t eol = in.find("\r\n");
    if (eol == std::string_view::npos) return false;
    size_t n = 0;
    try {
      n = std::stoul(std::string(in.substr(0, eol)), nullptr, 16);
    } catch (...) {
      return false;
    }
    in.remove_prefix(eol + 2);
    if (n == 0) return true;
    if (in.size() < n + 2) return false;
    out.append(in.substr(0, n));
    in.remove_prefix(n + 2);
  }
}

}  // namespace

Result<HttpResponse> http_get(const RegistryOptions& o, const std::string& path) { return http_request(o, "GET", path, ""); }

Result<HttpResponse> http_request(const RegistryOptions& o, const std::string& method, const std::string& path,
                                  const std::string& body) {
  std::string url = o.url;
  bool tls = false;
  if (url.rfind("https://", 0) == 0) {
    tls = true;
    url = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    url = url.substr(7);
  } else {
    return Status::error("the registry URL must start with http:// or https:// (got \"" + o.url + "\")");
  }
  std::string prefix;
  if (auto slash = url.find('/'); slash != std::string::npos) {
    prefix = url.substr(slash);
    url = url.substr(0, slash);
  }
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::string host = url, port = tls ? "443" : "80";
  if (!url.empty() && url[0] == '[') {
    auto close = url.find(']');
    if (close == std::string::npos) return Status::error("bad registry URL \"" + o.url + "\"");
    host = url.substr(1, close - 1);
    if (close + 1 < url.size() && url[close + 1] == ':') port = url.substr(close + 2);
  } else if (auto colon = url.rfind(':'); colon != std::string::npos) {
    host = url.substr(0, colon);
    port = url.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return Status::error("cannot resolve the registry host " + host + ": " + gai_strerror(rc));
  Conn c;
  std::string last = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{o.timeout_ms / 1000, (o.timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      c.fd = fd;
      break;
    }
    last = std::strerror(errno);
    ::close(fd);
  }
  freeaddrinfo(res);
  if (c.fd < 0) return Status::error("cannot connect to the registry at " + host + ":" + port + ": " + last);
  if (tls) {
    c.ctx = SSL_CTX_new(TLS_client_method());
    if (!c.ctx) return Status::error(ssl_error());
    if (o.verify) {
      SSL_CTX_set_verify(c.ctx, SSL_VERIFY_PEER, nullptr);
      if (!o.ca_pem.empty()) {
        BIO* bio = BIO_new_mem_buf(o.ca_pem.data(), static_cast<int>(o.ca_pem.size()));
        X509_STORE* store = SSL_CTX_get_cert_store(c.ctx);
        int added = 0;
        while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
          added += X509_STORE_add_cert(store, x);
          X509_free(x);
        }
        BIO_free(bio);
        ERR_clear_error();
        if (added == 0) return Status::error("the registry's CA is not a PEM certificate");
      } else if (!o.ca_file.empty()) {
        if (SSL_CTX_load_verify_locations(c.ctx, o.ca_file.c_str(), nullptr) != 1)
          return Status::error("cannot load the CA file " + o.ca_file + ": " + ssl_error());
      } else {
        SSL_CTX_set_default_verify_paths(c.ctx);
      }
    }
    c.ssl = SSL_new(c.ctx);
    SSL_set_fd(c.ssl, c.fd);
    in6_addr a6;
    in_addr a4;
    bool is_ip = inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
    if (!is_ip) SSL_set_tlsext_host_name(c.ssl, host.c_str());
    if (o.verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(c.ssl);
      if (is_ip) X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
      else X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    }
    if (SSL_connect(c.ssl) != 1) return Status::error("TLS handshake with the registry failed: " + ssl_error());
  }
  std::string req = method + " " + prefix + path + " HTTP/1.1\r\nHost: " + host + ":" + port +
                    "\r\nAccept: application/vnd.schemaregistry.v1+json, application/json\r\nConnection: close\r\nUser-Agent: freshet\r\n";
  if (!o.username.empty()) req += "Authorization: Basic " + base64(o.username + ":" + o.password) + "\r\n";
  if (method != "GET")
    req += "Content-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  req += body;
  if (!c.write_all(req)) return Status::error("sending the request to the registry failed");
  std::string raw;
  if (Status s = c.read_all(raw); !s) return s;
  size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos || raw.size() < 12)
    return Status::error("the registry's answer is not HTTP");
  HttpResponse r;
  try {
    r.status = std::stoi(raw.substr(9, 3));
  } catch (...) {
    return Status::error("the registry's answer has no status");
  }
  std::string head = raw.substr(0, head_end);
  for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string_view answer = std::string_view(raw).substr(head_end + 4);
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    if (!dechunk(answer, r.body)) return Status::error("malformed chunked answer from the registry");
  } else {
    r.body = std::string(answer);
  }
  return r;
}

namespace {

std::string describe(const HttpResponse& r) {
  std::string msg = "HTTP " + std::to_string(r.status);
  try {
    auto j = nlohmann::json::parse(r.body);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) msg += ": " + j["message"].get<std::string>();
  } catch (...) {
  }
  return msg;
}

std::string escape_path(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

Result<std::optional<RegisteredSchema>> RegistryClient::latest(const std::string& subject) {
  auto r = http_get(o_, "/subjects/" + escape_path(subject) + "/versions/latest");
  if (!r) return r.status();
  if (r->status == 404) return std::optional<RegisteredSchema>();
  if (r->status == 401 || r->status == 403) return Status::error("the schema registry refused the credentials (" + describe(*r) + ")");
  if (r->status != 200) return Status::error("the schema registry answered " + describe(*r) + " for subject " + subject);
  try {
    auto j = nlohmann::json::parse(r->body);
    RegisteredSchema s;
    s.id = j.at("id").get<int32_t>();
    s.schema = j.at("schema").get<std::string>();
    if (j.contains("schemaType") && j["schemaType"] != "AVRO") return Status::error("subject " + subject + " does not hold an Avro schema");
    by_id_[s.id] = s.schema;
    return std::optional<RegisteredSchema>(std::move(s));
  } catch (const nlohmann::json::exception& e) {
    return Status::error(std::string("malformed answer from the schema registry: ") + e.what());
  }
}

Result<int32_t> RegistryClient::register_schema(const std::string& subject, const std::string& schema) {
  nlohmann::json body = {{"schema", schema}};
  auto r = http_request(o_, "POST", "/subjects/" + escape_path(subject) + "/versions", body.dump());
  if (!r) return r.status();
  if (r->status == 401 || r->status == 403) return Status::error("the schema registry refused the credentials (" + describe(*r) + ")");
  if (r->status == 409)
    return Status::error("the schema registry refused the schema of subject " + subject + " as incompatible (" + describe(*r) + ")");
  if (r->status != 200) return Status::error("the schema registry answered " + describe(*r) + " when registering subject " + subject);
  try {
    auto j = nlohmann::json::parse(r->body);
    int32_t id = j.at("id").get<int32_t>();
    by_id_[id] = schema;
    return id;
  } catch (const nlohmann::json::exception& e) {
    return Status::error(std::string("malformed answer from the schema registry: ") + e.what());
  }
}

Result<std::string> RegistryClient::schema_by_id(int32_t id) {
  if (auto it = by_id_.find(id); it != by_id_.end()) return it->second;
  auto r = http_get(o_, "/schemas/ids/" + std::to_string(id));
  if (!r) return r.status();
  if (r->status != 200) return Status::error("the schema registry answered " + describe(*r) + " for schema id " + std::to_string(id));
  try {
    auto j = nlohmann::json::parse(r->body);
    std::string s = j.at("schema").get<std::string>();
    by_id_[id] = s;
    return s;
  } catch (const nlohmann::json::exception& e) {
    return Status::error(std::string("malformed answer from the schema registry: ") + e.what());
  }
}

}  // namespace freshet::capture::kafka
