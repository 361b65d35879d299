#include "kafka/schema_registry.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/format.hpp"
#include "kafka/sasl.hpp"

namespace freshet::kafka {

SchemaCatalog::SchemaCatalog(KafkaBackend& backend) : backend_(backend) {
  for (StoredSchema& s : backend_.load_schemas()) {
    next_id_ = std::max(next_id_, s.id + 1);
    by_id_[s.id] = s.schema;
    id_of_schema_[s.schema] = s.id;
    by_subject_[s.subject].push_back(std::move(s));
  }
  for (auto& [subject, list] : by_subject_) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  }
}

Result<int32_t> SchemaCatalog::register_locked(const std::string& subject, const std::string& schema) {
  auto& list = by_subject_[subject];
  if (!list.empty() && list.back().schema == schema) return list.back().id;
  for (const StoredSchema& s : list) {
    if (s.schema == schema) return s.id;  // an older version of this subject
  }
  StoredSchema s;
  auto known = id_of_schema_.find(schema);
  s.id = known != id_of_schema_.end() ? known->second : next_id_;
  s.subject = subject;
  s.version = list.empty() ? 1 : list.back().version + 1;
  s.schema = schema;
  Status st = backend_.store_schema(s);
  if (!st) return st;
  if (s.id == next_id_) ++next_id_;
  by_id_[s.id] = schema;
  id_of_schema_[schema] = s.id;
  list.push_back(s);
  return s.id;
}

Result<int32_t> SchemaCatalog::register_schema(const std::string& subject, const std::string& schema) {
  std::lock_guard lock(mutex_);
  return register_locked(subject, schema);
}

Result<std::shared_ptr<const TopicCodec>> SchemaCatalog::codec(const TopicInfo& info) {
  std::string key_schema = info.key_columns.empty() ? "" : avro_schema(info.key_columns, info.name, "key");
  std::string value_schema = avro_schema(info.value_columns, info.name, "value");
  std::string signature = std::to_string(static_cast<int>(info.format)) + "|" + key_schema + "|" + value_schema;
  std::lock_guard lock(mutex_);
  auto it = codecs_.find(info.name);
  if (it != codecs_.end() && it->second.signature == signature) return it->second.codec;
  int32_t key_id = 0, value_id = 0;
  if (info.format == TopicFormat::kAvro) {
    if (!key_schema.empty()) {
      auto k = register_locked(info.name + "-key", key_schema);
      if (!k) return k.status();
      key_id = *k;
    }
    auto v = register_locked(info.name + "-value", value_schema);
    if (!v) return v.status();
    value_id = *v;
  }
  auto codec = std::make_shared<const TopicCodec>(info, key_id, value_id);
  codecs_[info.name] = CachedCodec{signature, codec};
  return std::shared_ptr<const TopicCodec>(codec);
}

Status SchemaCatalog::sync_topics() {
  for (const TopicInfo& t : backend_.topics()) {
    if (t.format != TopicFormat::kAvro) continue;
    auto c = codec(t);
    if (!c) return c.status();
  }
  return Status::ok();
}

std::vector<std::string> SchemaCatalog::subjects() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [s, list] : by_subject_) {
    if (!list.empty()) out.push_back(s);
  }
  return out;
}

std::vector<int32_t> SchemaCatalog::versions(const std::string& subject) {
  std::lock_guard lock(mutex_);
  std::vector<int32_t> out;
  auto it = by_subject_.find(subject);
  if (it != by_subject_.end()) {
    for (const auto& s : it->second) out.push_back(s.version);
  }
  return out;
}

std::optional<StoredSchema> SchemaCatalog::lookup(const std::string& subject, int32_t version) {
  std::lock_guard lock(mutex_);
  auto it = by_subject_.find(subject);
  if (it == by_subject_.end() || it->second.empty()) return std::nullopt;
  if (version == -1) return it->second.back();
  for (const auto& s : it->second) {
    if (s.version == version) return s;
  }
  return std::nullopt;
}

std::optional<std::string> SchemaCatalog::schema_by_id(int32_t id) {
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

// ---- HTTP -----------------------------------------------------------------------------

SchemaRegistryServer::SchemaRegistryServer(KafkaBackend& backend, SchemaCatalog& catalog, Options options)
    : backend_(backend), catalog_(catalog), options_(std::move(options)) {}

SchemaRegistryServer::~SchemaRegistryServer() { stop(); }

Status SchemaRegistryServer::start() {
  auto fd = listen_tcp(options_.host, options_.port);
  if (!fd) return fd.status();
  listen_fd_ = *fd;
  port_ = bound_port(listen_fd_);
  accept_thread_ = std::thread([this] { accept_loop(); });
  return Status::ok();
}

void SchemaRegistryServer::stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  std::unique_lock lock(mutex_);
  for (auto& [fd, c] : connections_) c->shutdown();
  idle_cv_.wait(lock, [&] { return active_ == 0; });
}

void SchemaRegistryServer::accept_loop() {
  while (!stopping_) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) {
        if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      return;
    }
    auto conn = std::make_shared<Connection>(fd, nullptr);
    std::lock_guard lock(mutex_);
    if (active_ >= options_.max_connections) continue;  // conn closes as it goes out of scope
    ++active_;
    connections_[fd] = conn;
    std::thread([this, conn] { serve(conn); }).detach();
  }
}

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string error_json(int code, const std::string& message) {
  std::string out = "{\"error_code\":" + std::to_string(code) + ",\"message\":";
  json_quote(message, out);
  out += "}";
  return out;
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::optional<int32_t> parse_int(const std::string& s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return std::stoi(s);
}

}  // namespace

std::pair<int, std::string> SchemaRegistryServer::handle(const std::string& method, const std::string& raw_path,
                                                         const std::string& authorization) {
  if (options_.basic_auth_required) {
    bool ok = false;
    if (lower(authorization.substr(0, 6)) == "basic ") {
      auto decoded = base64_decode(authorization.substr(6));
      if (decoded) {
        size_t colon = decoded->find(':');
        ok = colon != std::string::npos && backend_.authenticate_plain(decoded->substr(0, colon), decoded->substr(colon + 1));
      }
    }
    if (!ok) return {401, error_json(401, "Unauthorized")};
  }
  if (method != "GET") return {405, error_json(405, "HTTP " + method + " not supported")};
  std::string path = raw_path.substr(0, raw_path.find('?'));
  std::vector<std::string> parts;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) parts.push_back(url_decode(std::string_view(path).substr(pos, slash - pos)));
    pos = slash + 1;
  }
  (void)catalog_.sync_topics();  // new topics appear without a restart
  if (parts.size() == 1 && parts[0] == "subjects") {
    std::string out = "[";
    for (const auto& s : catalog_.subjects()) {
      if (out.size() > 1) out += ",";
      json_quote(s, out);
    }
    return {200, out + "]"};
  }
  if (parts.size() == 1 && parts[0] == "config") return {200, "{\"compatibilityLevel\":\"NONE\"}"};
  if (parts.size() >= 3 && parts[0] == "subjects" && parts[2] == "versions") {
    const std::string& subject = parts[1];
    auto versions = catalog_.versions(subject);
    if (versions.empty()) return {404, error_json(40401, "Subject '" + subject + "' not found.")};
    if (parts.size() == 3) {
      std::string out = "[";
      for (int32_t v : versions) out += (out.size() > 1 ? "," : "") + std::to_string(v);
      return {200, out + "]"};
    }
    if (parts.size() == 4 || (parts.size() == 5 && parts[4] == "schema")) {
      std::optional<int32_t> v = parts[3] == "latest" || parts[3] == "-1" ? std::optional<int32_t>(-1) : parse_int(parts[3]);
      if (!v) return {422, error_json(42202, "The specified version '" + parts[3] + "' is not a valid version id.")};
      auto s = catalog_.lookup(subject, *v);
      if (!s) return {404, error_json(40402, "Version " + parts[3] + " not found.")};
      if (parts.size() == 5) return {200, s->schema};
      std::string out = "{\"subject\":";
      json_quote(s->subject, out);
      out += ",\"version\":" + std::to_string(s->version) + ",\"id\":" + std::to_string(s->id) + ",\"schema\":";
      json_quote(s->schema, out);
      return {200, out + "}"};
    }
  }
  if (parts.size() >= 3 && parts[0] == "schemas" && parts[1] == "ids") {
    auto id = parse_int(parts[2]);
    auto schema = id ? catalog_.schema_by_id(*id) : std::nullopt;
    if (!schema) return {404, error_json(40403, "Schema " + parts[2] + " not found")};
    if (parts.size() == 4 && parts[3] == "schema") return {200, *schema};
    std::string out = "{\"schema\":";
    json_quote(*schema, out);
    return {200, out + "}"};
  }
  return {404, error_json(404, "HTTP 404 Not Found")};
}

void SchemaRegistryServer::serve(std::shared_ptr<Connection> conn) {
  std::string buf;
  char chunk[4096];
  for (;;) {
    size_t header_end;
    while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > options_.max_header_bytes) goto done;
      size_t n = conn->read_some(chunk, sizeof(chunk));
      if (n == 0) goto done;
      buf.append(chunk, n);
    }
    {
      std::string head = buf.substr(0, header_end);
      buf.erase(0, header_end + 4);
      size_t line_end = head.find("\r\n");
      std::string request_line = head.substr(0, line_end);
      size_t sp1 = request_line.find(' ');
      size_t sp2 = sp1 == std::string::npos ? sp1 : request_line.find(' ', sp1 + 1);
      if (sp2 == std::string::npos) goto done;
      std::string method = request_line.substr(0, sp1);
      std::string path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
      std::string version = request_line.substr(sp2 + 1);
      std::string authorization;
      size_t content_length = 0;
      bool close = version == "HTTP/1.0";
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t e = head.find("\r\n", pos);
        if (e == std::string::npos) e = head.size();
        std::string line = head.substr(pos, e - pos);
        pos = e + 2;
        size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = lower(line.substr(0, colon));
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
        if (name == "authorization") authorization = value;
        if (name == "content-length") {
          auto n = parse_int(value);
          if (!n) goto done;
          content_length = static_cast<size_t>(*n);
        }
        if (name == "connection") {
          if (lower(value) == "close") close = true;
          if (lower(value) == "keep-alive") close = false;
        }
      }
      if (content_length > 16 * 1024 * 1024) goto done;
      while (buf.size() < content_length) {
        size_t n = conn->read_some(chunk, sizeof(chunk));
        if (n == 0) goto done;
        buf.append(chunk, n);
      }
      buf.erase(0, content_length);
      auto [status, body] = handle(method, path, authorization);
      const char* reason = status == 200 ? "OK" : status == 401 ? "Unauthorized" : status == 404 ? "Not Found"
                         : status == 405 ? "Method Not Allowed" : "Unprocessable Entity";
      std::string resp = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                         "\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n";
      if (status == 401) resp += "WWW-Authenticate: Basic realm=\"freshet\"\r\n";
      resp += close ? "Connection: close\r\n\r\n" : "\r\n";
      resp += body;
      if (!conn->write_all(resp) || close) goto done;
    }
  }
done:
  std::lock_guard lock(mutex_);
  connections_.erase(conn->fd());
  if (--active_ == 0) idle_cv_.notify_all();
}

}  // namespace freshet::kafka
