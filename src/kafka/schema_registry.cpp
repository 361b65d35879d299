#include "kafka/schema_registry.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <set>

#include "common/format.hpp"
#include "kafka/http.hpp"
#include "kafka/sasl.hpp"

namespace freshet::kafka {

namespace {

std::string canonical_or_text(const std::string& text) {
  try {
    return canonical_schema(text);
  } catch (const SqlError&) {
    return text;
  }
}

bool avro_name_ok(std::string_view n) {
  if (n.empty()) return false;
  bool start = true;
  for (char c : n) {
    if (c == '.') {
      if (start) return false;
      start = true;
      continue;
    }
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(c >= '0' && c <= '9' && !start)) return false;
    start = false;
  }
  return !start;
}

const JsonValue* member(const JsonValue& o, std::string_view name) {
  for (const auto& [k, v] : o.object)
    if (k == name) return &v;
  return nullptr;
}

struct AvroChecker {
  std::set<std::string> names;  // defined named types, full names
  int depth = 0;

  std::string full_name(const std::string& name, const std::string& ns) const {
    return name.find('.') != std::string::npos || ns.empty() ? name : ns + "." + name;
  }
  // Defines a named type; returns its namespace for nested names.
  std::string define(const JsonValue& o, const std::string& ns) {
    const JsonValue* name = member(o, "name");
    if (!name || name->kind != JsonValue::Kind::kString || !avro_name_ok(name->str))
      throw std::string("a named type needs a valid \"name\"");
    std::string inner_ns = ns;
    if (const JsonValue* n = member(o, "namespace"); n && n->kind == JsonValue::Kind::kString) inner_ns = n->str;
    std::string full = full_name(name->str, inner_ns);
    if (!names.insert(full).second) throw std::string("type " + full + " is defined twice");
    size_t dot = full.rfind('.');
    return dot == std::string::npos ? "" : full.substr(0, dot);
  }
  void check(const JsonValue& v, const std::string& ns, bool in_union = false) {
    if (++depth > 64) throw std::string("schema nested too deeply");
    static const std::set<std::string> kPrimitive = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"};
    switch (v.kind) {
      case JsonValue::Kind::kString:
        if (kPrimitive.count(v.str) == 0 && names.count(full_name(v.str, ns)) == 0 && names.count(v.str) == 0)
          throw std::string("unknown type \"" + v.str + "\"");
        break;
      case JsonValue::Kind::kArray:
        if (in_union) throw std::string("a union cannot directly contain a union");
        for (const JsonValue& b : v.array) check(b, ns, true);
        break;
      case JsonValue::Kind::kObject: {
        const JsonValue* type = member(v, "type");
        if (!type) throw std::string("a schema object needs \"type\"");
        if (type->kind != JsonValue::Kind::kString) {
          check(*type, ns);
          break;
        }
        const std::string& t = type->str;
        if (t == "record" || t == "error") {
          std::string inner = define(v, ns);
          const JsonValue* fields = member(v, "fields");
          if (!fields || fields->kind != JsonValue::Kind::kArray) throw std::string("a record needs a \"fields\" array");
          std::set<std::string> field_names;
          for (const JsonValue& f : fields->array) {
            const JsonValue* fname = f.kind == JsonValue::Kind::kObject ? member(f, "name") : nullptr;
            const JsonValue* ftype = f.kind == JsonValue::Kind::kObject ? member(f, "type") : nullptr;
            if (!fname || fname->kind != JsonValue::Kind::kString || !avro_name_ok(fname->str) ||
                fname->str.find('.') != std::string::npos)
              throw std::string("a record field needs a valid \"name\"");
            if (!field_names.insert(fname->str).second) throw std::string("field " + fname->str + " appears twice");
            if (!ftype) throw std::string("field " + fname->str + " needs a \"type\"");
            check(*ftype, inner);
          }
        } else if (t == "enum") {
          define(v, ns);
          const JsonValue* symbols = member(v, "symbols");
          if (!symbols || symbols->kind != JsonValue::Kind::kArray) throw std::string("an enum needs a \"symbols\" array");
          for (const JsonValue& sym : symbols->array)
            if (sym.kind != JsonValue::Kind::kString || !avro_name_ok(sym.str) || sym.str.find('.') != std::string::npos)
              throw std::string("invalid enum symbol");
        } else if (t == "fixed") {
          define(v, ns);
          const JsonValue* size = member(v, "size");
          if (!size || size->kind != JsonValue::Kind::kNumber || size->str.find_first_not_of("0123456789") != std::string::npos)
            throw std::string("a fixed needs a non-negative integer \"size\"");
        } else if (t == "array") {
          const JsonValue* items = member(v, "items");
          if (!items) throw std::string("an array needs \"items\"");
          check(*items, ns);
        } else if (t == "map") {
          const JsonValue* values = member(v, "values");
          if (!values) throw std::string("a map needs \"values\"");
          check(*values, ns);
        } else {
          check(*type, ns);  // a primitive, maybe with a logicalType, or a named reference
        }
        break;
      }
      default:
        throw std::string("a schema is a type name, an object or a union array");
    }
    --depth;
  }
};

}  // namespace

std::string canonical_schema(std::string_view text) {
  std::string out;
  json_write(json_parse(text), out);
  return out;
}

std::string compact_json(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) {
        out.push_back(text[++i]);
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

std::string check_avro_schema(std::string_view text) {
  JsonValue doc;
  try {
    doc = json_parse(text);
  } catch (const SqlError& e) {
    return "Invalid schema: not JSON (" + e.message() + ")";
  }
  try {
    AvroChecker c;
    c.check(doc, "");
  } catch (const std::string& why) {
    return "Invalid schema: " + why;
  }
  return "";
}

SchemaCatalog::SchemaCatalog(KafkaBackend& backend) : backend_(backend) {
  for (StoredSchema& s : backend_.load_schemas()) {
    next_id_ = std::max(next_id_, s.id + 1);
    by_id_[s.id] = s.schema;
    id_of_schema_[canonical_or_text(s.schema)] = s.id;
    by_subject_[s.subject].push_back(std::move(s));
  }
  for (auto& [subject, list] : by_subject_) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  }
}

Result<int32_t> SchemaCatalog::register_locked(const std::string& subject, const std::string& schema) {
  auto& list = by_subject_[subject];
  if (!list.empty() && list.back().schema == schema) return list.back().id;
  const std::string canonical = canonical_or_text(schema);
  for (const StoredSchema& s : list) {
    if (s.schema == schema || canonical_or_text(s.schema) == canonical) return s.id;  // an older version
  }
  StoredSchema s;
  auto known = id_of_schema_.find(canonical);
  s.id = known != id_of_schema_.end() ? known->second : next_id_;
  s.subject = subject;
  s.version = list.empty() ? 1 : list.back().version + 1;
  s.schema = schema;
  Status st = backend_.store_schema(s);
  if (!st) return st;
  if (s.id == next_id_) ++next_id_;
  by_id_[s.id] = schema;
  id_of_schema_[canonical] = s.id;
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

SchemaCatalog::Registration SchemaCatalog::register_client_schema(const std::string& subject, const std::string& schema) {
  Registration reg;
  // A subject of one of our own Avro topics takes only the schema we derive for it.
  std::optional<std::string> derived;
  for (const TopicInfo& t : backend_.topics()) {
    if (t.format != TopicFormat::kAvro) continue;
    if (subject == t.name + "-value") derived = avro_schema(t.value_columns, t.name, "value");
    if (subject == t.name + "-key" && !t.key_columns.empty()) derived = avro_schema(t.key_columns, t.name, "key");
  }
  const std::string canonical = canonical_or_text(schema);
  std::lock_guard lock(mutex_);
  if (derived && canonical_or_text(*derived) != canonical) {
    reg.http_status = 409;
    reg.message = "Schema being registered is incompatible with an earlier schema for subject \"" + subject +
                  "\": it belongs to a Freshet topic, whose schema is derived from its columns";
    return reg;
  }
  auto id = register_locked(subject, derived ? *derived : compact_json(schema));
  if (!id) {
    reg.http_status = 500;
    reg.message = "Error while registering the schema: " + id.status().message();
    return reg;
  }
  reg.id = *id;
  return reg;
}

std::optional<StoredSchema> SchemaCatalog::find_in_subject(const std::string& subject, const std::string& schema) {
  const std::string canonical = canonical_or_text(schema);
  std::lock_guard lock(mutex_);
  auto it = by_subject_.find(subject);
  if (it == by_subject_.end()) return std::nullopt;
  for (auto s = it->second.rbegin(); s != it->second.rend(); ++s) {
    if (canonical_or_text(s->schema) == canonical) return *s;
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
    : backend_(backend),
      catalog_(catalog),
      options_(std::move(options)),
      gate_(options_.max_waiting_connections, options_.max_connections) {}

SchemaRegistryServer::~SchemaRegistryServer() { stop(); }

Status SchemaRegistryServer::start() {
  if (!options_.tls_cert_file.empty()) {
    auto ctx = make_server_tls(options_.tls_cert_file, options_.tls_key_file);
    if (!ctx) return ctx.status();
    tls_ = std::move(*ctx);
  }
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

size_t SchemaRegistryServer::open_connections() {
  std::lock_guard lock(mutex_);
  return connections_.size();
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
    accepted_.fetch_add(1, std::memory_order_relaxed);
    auto conn = std::make_shared<Connection>(fd, tls_.get());
    std::lock_guard lock(mutex_);
    // Threads: waiting plus handling connections, and evicted ones on their way out.
    if (active_ >= options_.max_connections + 2 * options_.max_waiting_connections) continue;  // conn closes
    ConnectionGate::TicketPtr ticket = gate_.admit(fd);
    ++active_;
    connections_[fd] = conn;
    try {
      std::thread([this, conn, ticket] {
        serve(conn, *ticket);  // releases the ticket before it lets stop() return
      }).detach();
    } catch (const std::system_error&) {
      gate_.release(*ticket);
      connections_.erase(fd);
      if (--active_ == 0) idle_cv_.notify_all();
    }
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

std::optional<int32_t> parse_int(const std::string& s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return std::stoi(s);
}

}  // namespace

std::pair<int, std::string> SchemaRegistryServer::handle(const std::string& method, const std::string& raw_path,
                                                         const std::string& authorization, const std::string& body) {
  std::string principal;  // the Basic user; "" without authentication (trust)
  if (options_.basic_auth_required) {
    bool ok = false;
    if (lower(authorization.substr(0, 6)) == "basic ") {
      auto decoded = base64_decode(authorization.substr(6));
      if (decoded) {
        size_t colon = decoded->find(':');
        ok = colon != std::string::npos && backend_.authenticate_plain(decoded->substr(0, colon), decoded->substr(colon + 1));
        if (ok) principal = decoded->substr(0, colon);
      }
    }
    if (!ok) return {401, error_json(401, "Unauthorized")};
  }
  // Authorization: a subject `<topic>-key` / `<topic>-value` is read with the topic's Read
  // permission (SELECT on its relation) and registered with Write (INSERT); 403 with
  // Confluent's 40301 otherwise. Subjects of no topic are open to every user.
  using Op = KafkaBackend::TopicOperation;
  auto subject_allowed = [&](const std::string& subject, Op op) {
    std::string topic = subject;
    for (std::string_view suffix : {"-key", "-value"})
      if (topic.size() > suffix.size() && topic.compare(topic.size() - suffix.size(), suffix.size(), suffix) == 0) {
        topic.resize(topic.size() - suffix.size());
        break;
      }
    if (!backend_.topic(topic)) return true;
    return backend_.authorize(principal, topic, op);
  };
  auto denied = [](const std::string& op, const std::string& subject) -> std::pair<int, std::string> {
    return {403, error_json(40301, "User is denied operation " + op + " on Subject: " + subject)};
  };
  if (method != "GET" && method != "POST") return {405, error_json(405, "HTTP " + method + " not supported")};
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
  if (parts.size() >= 2 && parts[0] == "subjects") {
    bool post = method == "POST";
    if (!subject_allowed(parts[1], post && parts.size() == 3 ? Op::kWrite : Op::kRead))
      return denied(post && parts.size() == 3 ? "Write" : "Read", parts[1]);
  }
  if (method == "POST") return handle_post(parts, body);
  if (parts.size() == 1 && parts[0] == "subjects") {
    std::string out = "[";
    for (const auto& s : catalog_.subjects()) {
      if (!subject_allowed(s, Op::kRead)) continue;  // only what the user may read
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
    // Readable when some subject using it is.
    bool readable = false, used = false;
    for (const auto& s : catalog_.subjects())
      for (int32_t v : catalog_.versions(s))
        if (auto e = catalog_.lookup(s, v); e && e->id == *id) {
          used = true;
          readable = readable || subject_allowed(s, Op::kRead);
        }
    if (used && !readable) return {403, error_json(40301, "User is denied operation Read on schema id " + parts[2])};
    if (parts.size() == 4 && parts[3] == "schema") return {200, *schema};
    std::string out = "{\"schema\":";
    json_quote(*schema, out);
    return {200, out + "}"};
  }
  return {404, error_json(404, "HTTP 404 Not Found")};
}

std::pair<int, std::string> SchemaRegistryServer::handle_post(const std::vector<std::string>& parts,
                                                              const std::string& body) {
  bool register_version = parts.size() == 3 && parts[0] == "subjects" && parts[2] == "versions";
  bool lookup = parts.size() == 2 && parts[0] == "subjects";
  if (!register_version && !lookup) return {405, error_json(405, "HTTP POST not supported here")};
  const std::string& subject = parts[1];
  JsonValue req;
  try {
    req = json_parse(body);
  } catch (const SqlError& e) {
    return {422, error_json(42201, "Invalid schema: the request body is not JSON")};
  }
  const JsonValue* schema = req.kind == JsonValue::Kind::kObject ? member(req, "schema") : nullptr;
  if (!schema || schema->kind != JsonValue::Kind::kString)
    return {422, error_json(42201, "Invalid schema: the request needs a \"schema\" string")};
  if (const JsonValue* type = member(req, "schemaType"); type && !(type->kind == JsonValue::Kind::kString && type->str == "AVRO") &&
                                                       type->kind != JsonValue::Kind::kNull) {
    return {422, error_json(42201, "Invalid schema: only schemaType AVRO is supported")};
  }
  if (const JsonValue* refs = member(req, "references"); refs && refs->kind == JsonValue::Kind::kArray && !refs->array.empty())
    return {422, error_json(42201, "Invalid schema: schema references are not supported")};
  std::string why = check_avro_schema(schema->str);
  if (!why.empty()) return {422, error_json(42201, why)};
  if (register_version) {
    auto reg = catalog_.register_client_schema(subject, schema->str);
    if (reg.http_status == 409) return {409, error_json(409, reg.message)};
    if (reg.http_status != 200) return {500, error_json(50001, reg.message)};
    return {200, "{\"id\":" + std::to_string(reg.id) + "}"};
  }
  if (catalog_.versions(subject).empty()) return {404, error_json(40401, "Subject '" + subject + "' not found.")};
  auto s = catalog_.find_in_subject(subject, schema->str);
  if (!s) return {404, error_json(40403, "Schema not found")};
  std::string out = "{\"subject\":";
  json_quote(s->subject, out);
  out += ",\"version\":" + std::to_string(s->version) + ",\"id\":" + std::to_string(s->id) + ",\"schema\":";
  json_quote(s->schema, out);
  return {200, out + "}"};
}

namespace {

// The exchange of one request on a registry connection (see http.hpp).
class ConnectionExchange final : public HttpExchange {
 public:
  explicit ConnectionExchange(Connection& conn) : conn_(conn) {}
  bool begin_stream(int status, std::string_view content_type,
                    const std::vector<std::pair<std::string, std::string>>& headers) override {
    streaming_ = true;
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + http_reason(status) + "\r\nContent-Type: ";
    head.append(content_type);
    head += "\r\n";
    for (const auto& [k, v] : headers) head += k + ": " + v + "\r\n";
    head += "Connection: close\r\n\r\n";
    return conn_.write_all(head);
  }
  bool write(std::string_view data) override { return conn_.write_all(data); }
  bool streaming() const override { return streaming_; }
  bool client_gone() const override {
    // POLLRDHUP: the peer shut its side; POLLHUP/POLLERR: reset. Data that a client sends
    // early (a pipelined request) does not count.
    pollfd p{conn_.fd(), POLLRDHUP, 0};
    int n = ::poll(&p, 1, 0);
    return n > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
  }

 private:
  Connection& conn_;
  bool streaming_ = false;
};

}  // namespace

void SchemaRegistryServer::serve(std::shared_ptr<Connection> conn, ConnectionGate::Ticket& ticket) {
  using Clock = std::chrono::steady_clock;
  std::string buf;
  char chunk[4096];
  Clock::time_point deadline;
  // Reads what is there within the request deadline (0: EOF, error or timeout).
  auto read_timed = [&]() -> size_t {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return 0;
    conn->set_idle_timeout(static_cast<int>(std::min<int64_t>(left, INT32_MAX)));
    size_t n = conn->read_some(chunk, sizeof(chunk));
    if (n > 0) buf.append(chunk, n);
    return n;
  };
  auto send_simple = [&](int status, const std::string& body) {
    std::string resp = "HTTP/1.1 " + std::to_string(status) + " " + http_reason(status) +
                       "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\nConnection: close\r\n\r\n" + body;
    (void)conn->write_all(resp);  // the connection closes either way
  };
  conn->set_write_timeout(options_.write_timeout_ms);
  if (tls_) {
    conn->set_idle_timeout(options_.request_timeout_ms);
    if (!conn->handshake()) goto done;
  }
  for (;;) {
    // Waiting for a request: counted among the waiting connections (evictable).
    if (!gate_.demote(ticket)) goto done;
    if (buf.empty()) {
      deadline = Clock::now() + std::chrono::milliseconds(options_.idle_timeout_ms);
      if (read_timed() == 0) goto done;
    }
    deadline = Clock::now() + std::chrono::milliseconds(options_.request_timeout_ms);
    size_t header_end;
    while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > options_.max_header_bytes) {
        send_simple(431, "request header fields too large\n");
        goto done;
      }
      if (read_timed() == 0) goto done;
    }
    {
      std::optional<HttpRequest> req = parse_http_head(std::string_view(buf).substr(0, header_end));
      buf.erase(0, header_end + 4);
      if (!req) {
        send_simple(400, "malformed HTTP request\n");
        goto done;
      }
      if (req->content_length > options_.max_body_bytes) {
        send_simple(413, "request body too large\n");
        goto done;
      }
      if (buf.size() < req->content_length) {
        // curl asks before sending a body over 1 KiB; answering saves it a 1 s wait.
        if (const std::string* expect = req->header("expect"); expect && lower(*expect) == "100-continue") {
          if (!conn->write_all("HTTP/1.1 100 Continue\r\n\r\n")) goto done;
        }
      }
      while (buf.size() < req->content_length) {
        if (read_timed() == 0) goto done;
      }
      // A whole request: handled as an established connection (limited by max_connections).
      if (gate_.promote(ticket) != ConnectionGate::Promote::kOk) goto done;
      req->body = buf.substr(0, req->content_length);
      buf.erase(0, req->content_length);
      requests_.fetch_add(1, std::memory_order_relaxed);
      // Handlers may run long (a query, a stream): no read deadline while they do.
      conn->set_idle_timeout(0);
      ConnectionExchange exchange(*conn);
      std::optional<HttpResponse> answer;
      if (options_.handler) {
        try {
          answer = options_.handler(*req, exchange);
        } catch (const std::exception& e) {
          if (exchange.streaming()) goto done;
          answer = HttpResponse{500, "text/plain", std::string("internal error: ") + e.what() + "\n", {}};
        }
        if (exchange.streaming()) goto done;
      }
      if (!answer) {
        const std::string* auth = req->header("authorization");
        auto [status, body] = handle(req->method, req->target, auth ? *auth : std::string(), req->body);
        answer = HttpResponse{status, "application/vnd.schemaregistry.v1+json", std::move(body), {}};
        if (status == 401) answer->headers.emplace_back("WWW-Authenticate", "Basic realm=\"freshet\"");
      }
      std::string resp = "HTTP/1.1 " + std::to_string(answer->status) + " " + http_reason(answer->status) +
                         "\r\nContent-Type: " + answer->content_type +
                         "\r\nContent-Length: " + std::to_string(answer->body.size()) + "\r\n";
      for (const auto& [k, v] : answer->headers) resp += k + ": " + v + "\r\n";
      resp += req->close ? "Connection: close\r\n\r\n" : "\r\n";
      if (req->method != "HEAD") resp += answer->body;
      if (!conn->write_all(resp) || req->close) goto done;
    }
  }
done:
  // Before active_ drops (stop() may then destroy the gate), and before conn closes the fd.
  gate_.release(ticket);
  std::lock_guard lock(mutex_);
  connections_.erase(conn->fd());
  if (--active_ == 0) idle_cv_.notify_all();
}

}  // namespace freshet::kafka
