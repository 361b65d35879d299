#include "pgwire/protocol.hpp"

#include <cstring>

#include "common/error.hpp"

namespace freshet::pgwire {

void throw_protocol_violation(std::string message) {
  throw SqlError(sqlstate::kProtocolViolation, std::move(message));
}

namespace {

int32_t load_int32(const char* p) {
  uint32_t v = (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) |
               (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
               (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) |
               static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
  return static_cast<int32_t>(v);
}

void store_int32(char* p, int32_t v) {
  uint32_t u = static_cast<uint32_t>(v);
  p[0] = static_cast<char>(u >> 24);
  p[1] = static_cast<char>(u >> 16);
  p[2] = static_cast<char>(u >> 8);
  p[3] = static_cast<char>(u);
}

}  // namespace

// ---- Framing ------------------------------------------------------------------------------

bool is_frontend_message_type(char type) {
  switch (type) {
    case 'Q': case 'P': case 'B': case 'D': case 'E': case 'C': case 'S': case 'H':
    case 'X': case 'p': case 'd': case 'c': case 'f': case 'F':
      return true;
    default:
      return false;
  }
}

void FrameDecoder::feed(std::string_view bytes) {
  // Compact before growing so the buffer holds at most one partial message plus new bytes.
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ > (64u << 10))) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

std::optional<Frame> FrameDecoder::next() {
  size_t avail = buf_.size() - pos_;
  const char* p = buf_.data() + pos_;
  if (startup_mode_) {
    if (avail < 4) return std::nullopt;
    int32_t len = load_int32(p);
    if (len < 8 || static_cast<size_t>(len) > max_startup_bytes_) {
      throw_protocol_violation("invalid length of startup packet");
    }
    if (avail < static_cast<size_t>(len)) return std::nullopt;
    Frame f{0, std::string_view(p + 4, static_cast<size_t>(len) - 4)};
    pos_ += static_cast<size_t>(len);
    return f;
  }
  if (avail < 1) return std::nullopt;
  char type = p[0];
  if (!is_frontend_message_type(type)) {
    throw_protocol_violation("invalid frontend message type " +
                             std::to_string(static_cast<int>(static_cast<uint8_t>(type))));
  }
  if (avail < 5) return std::nullopt;
  int32_t len = load_int32(p + 1);
  if (len < 4) throw_protocol_violation("invalid message length");
  if (static_cast<size_t>(len) - 4 > max_message_bytes_) {
    throw_protocol_violation("message of " + std::to_string(len - 4) + " bytes exceeds the limit of " +
                             std::to_string(max_message_bytes_) + " bytes");
  }
  if (avail < 1 + static_cast<size_t>(len)) return std::nullopt;
  Frame f{type, std::string_view(p + 5, static_cast<size_t>(len) - 4)};
  pos_ += 1 + static_cast<size_t>(len);
  return f;
}

size_t FrameDecoder::bytes_wanted() const {
  size_t avail = buf_.size() - pos_;
  const char* p = buf_.data() + pos_;
  size_t header = startup_mode_ ? 4 : 5;
  if (avail < header) return header - avail;
  int32_t len = load_int32(p + header - 4);
  if (len < 4) return 1;
  size_t total = static_cast<size_t>(len) + header - 4;
  return total > avail ? total - avail : 1;
}

// ---- Body reading -----------------------------------------------------------------------------

uint8_t BodyReader::byte() {
  if (remaining() < 1) throw_protocol_violation("invalid message format");
  return static_cast<uint8_t>(body_[pos_++]);
}

int16_t BodyReader::int16() {
  if (remaining() < 2) throw_protocol_violation("invalid message format");
  uint16_t v = static_cast<uint16_t>((static_cast<uint8_t>(body_[pos_]) << 8) |
                                     static_cast<uint8_t>(body_[pos_ + 1]));
  pos_ += 2;
  return static_cast<int16_t>(v);
}

int32_t BodyReader::int32() {
  if (remaining() < 4) throw_protocol_violation("invalid message format");
  int32_t v = load_int32(body_.data() + pos_);
  pos_ += 4;
  return v;
}

std::string_view BodyReader::cstring() {
  size_t nul = body_.find('\0', pos_);
  if (nul == std::string_view::npos) throw_protocol_violation("invalid string in message");
  std::string_view s = body_.substr(pos_, nul - pos_);
  pos_ = nul + 1;
  return s;
}

std::string_view BodyReader::bytes(size_t n) {
  if (remaining() < n) throw_protocol_violation("insufficient data left in message");
  std::string_view s = body_.substr(pos_, n);
  pos_ += n;
  return s;
}

void BodyReader::expect_end() const {
  if (remaining() != 0) throw_protocol_violation("invalid message format");
}

// ---- Frontend messages ------------------------------------------------------------------------

StartupRequest parse_startup(std::string_view body) {
  BodyReader r(body);
  int32_t code = r.int32();
  if (code == kCancelRequestCode) {
    CancelRequest c;
    c.pid = r.int32();
    c.secret = r.int32();
    r.expect_end();
    return c;
  }
  if (code == kSslRequestCode) {
    r.expect_end();
    return SslRequest{};
  }
  if (code == kGssEncRequestCode) {
    r.expect_end();
    return GssEncRequest{};
  }
  StartupMessage m;
  m.protocol = code;
  if ((code >> 16) != 3) return m;  // the caller rejects the version; the rest is unread
  // name\0value\0 ... \0
  while (true) {
    std::string_view name = r.cstring();
    if (name.empty()) break;
    std::string_view value = r.cstring();
    m.params.emplace_back(std::string(name), std::string(value));
  }
  r.expect_end();
  return m;
}

namespace {

std::vector<int16_t> read_formats(BodyReader& r) {
  int16_t n = r.int16();
  if (n < 0) throw_protocol_violation("invalid format code count");
  if (static_cast<size_t>(n) * 2 > r.remaining()) throw_protocol_violation("insufficient data left in message");
  std::vector<int16_t> v;
  v.reserve(static_cast<size_t>(n));
  for (int16_t i = 0; i < n; ++i) v.push_back(r.int16());
  return v;
}

}  // namespace

FrontendMessage parse_frontend(const Frame& frame) {
  BodyReader r(frame.body);
  switch (frame.type) {
    case 'Q': {
      QueryMsg m{r.cstring()};
      r.expect_end();
      return m;
    }
    case 'P': {
      ParseMsg m;
      m.name = r.cstring();
      m.sql = r.cstring();
      int16_t n = r.int16();
      if (n < 0) throw_protocol_violation("invalid parameter count");
      if (static_cast<size_t>(n) * 4 > r.remaining()) throw_protocol_violation("insufficient data left in message");
      m.param_type_oids.reserve(static_cast<size_t>(n));
      for (int16_t i = 0; i < n; ++i) m.param_type_oids.push_back(static_cast<uint32_t>(r.int32()));
      r.expect_end();
      return m;
    }
    case 'B': {
      BindMsg m;
      m.portal = r.cstring();
      m.statement = r.cstring();
      m.param_formats = read_formats(r);
      int16_t n = r.int16();
      if (n < 0) throw_protocol_violation("invalid parameter count");
      if (static_cast<size_t>(n) * 4 > r.remaining()) throw_protocol_violation("insufficient data left in message");
      m.params.reserve(static_cast<size_t>(n));
      for (int16_t i = 0; i < n; ++i) {
        int32_t len = r.int32();
        if (len == -1) {
          m.params.emplace_back(std::nullopt);
        } else if (len < 0) {
          throw_protocol_violation("invalid parameter length");
        } else {
          m.params.emplace_back(r.bytes(static_cast<size_t>(len)));
        }
      }
      m.result_formats = read_formats(r);
      r.expect_end();
      return m;
    }
    case 'D':
    case 'C': {
      char kind = static_cast<char>(r.byte());
      if (kind != 'S' && kind != 'P') {
        throw_protocol_violation(std::string("invalid ") + (frame.type == 'D' ? "DESCRIBE" : "CLOSE") +
                                 " message subtype " + std::to_string(static_cast<int>(static_cast<uint8_t>(kind))));
      }
      std::string_view name = r.cstring();
      r.expect_end();
      if (frame.type == 'D') return DescribeMsg{kind, name};
      return CloseMsg{kind, name};
    }
    case 'E': {
      ExecuteMsg m;
      m.portal = r.cstring();
      m.max_rows = r.int32();
      r.expect_end();
      return m;
    }
    case 'S':
      r.expect_end();
      return SyncMsg{};
    case 'H':
      r.expect_end();
      return FlushMsg{};
    case 'X':
      r.expect_end();
      return TerminateMsg{};
    case 'p':
      return PasswordMsg{frame.body};
    case 'd':
    case 'c':
    case 'f':
      return CopyMsg{frame.type};
    case 'F':
      return FunctionCallMsg{};
    default:
      throw_protocol_violation("invalid frontend message type " +
                               std::to_string(static_cast<int>(static_cast<uint8_t>(frame.type))));
  }
}

SaslInitialResponse parse_sasl_initial(std::string_view body) {
  BodyReader r(body);
  SaslInitialResponse s;
  s.mechanism = r.cstring();
  int32_t len = r.int32();
  if (len == -1) {
    s.data = std::nullopt;
  } else if (len < 0) {
    throw_protocol_violation("invalid SASL initial response length");
  } else {
    s.data = r.bytes(static_cast<size_t>(len));
  }
  r.expect_end();
  return s;
}

// ---- Backend messages ---------------------------------------------------------------------------

void append_int16(std::string& out, int16_t v) {
  uint16_t u = static_cast<uint16_t>(v);
  out.push_back(static_cast<char>(u >> 8));
  out.push_back(static_cast<char>(u));
}

void append_int32(std::string& out, int32_t v) {
  char b[4];
  store_int32(b, v);
  out.append(b, 4);
}

void append_cstring(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c != '\0') out.push_back(c);
  }
  out.push_back('\0');
}

std::string frame_message(char type, std::string_view body) {
  std::string s;
  s.push_back(type);
  append_int32(s, static_cast<int32_t>(body.size() + 4));
  s.append(body);
  return s;
}

std::string frame_startup(std::string_view body) {
  std::string s;
  append_int32(s, static_cast<int32_t>(body.size() + 4));
  s.append(body);
  return s;
}

void MessageWriter::begin(char type) {
  FRESHET_ASSERT(!in_message_);
  in_message_ = true;
  out_.push_back(type);
  msg_start_ = out_.size();
  out_.append(4, '\0');
}

void MessageWriter::end() {
  FRESHET_ASSERT(in_message_);
  in_message_ = false;
  size_t len = out_.size() - msg_start_;
  FRESHET_ASSERT(len <= 0x7fffffffu);
  store_int32(out_.data() + msg_start_, static_cast<int32_t>(len));
}

void MessageWriter::put_int16(int16_t v) { append_int16(out_, v); }
void MessageWriter::put_int32(int32_t v) { append_int32(out_, v); }
void MessageWriter::put_cstring(std::string_view s) { append_cstring(out_, s); }

void MessageWriter::begin_field() {
  field_start_ = out_.size();
  out_.append(4, '\0');
}

void MessageWriter::end_field() {
  size_t len = out_.size() - field_start_ - 4;
  FRESHET_ASSERT(len <= 0x7fffffffu);
  store_int32(out_.data() + field_start_, static_cast<int32_t>(len));
}

void MessageWriter::authentication_ok() {
  begin('R');
  put_int32(0);
  end();
}

void MessageWriter::authentication_sasl(std::string_view mechanism) {
  begin('R');
  put_int32(10);
  put_cstring(mechanism);
  put_byte('\0');
  end();
}

void MessageWriter::authentication_sasl_continue(std::string_view data) {
  begin('R');
  put_int32(11);
  put_bytes(data);
  end();
}

void MessageWriter::authentication_sasl_final(std::string_view data) {
  begin('R');
  put_int32(12);
  put_bytes(data);
  end();
}

void MessageWriter::parameter_status(std::string_view name, std::string_view value) {
  begin('S');
  put_cstring(name);
  put_cstring(value);
  end();
}

void MessageWriter::backend_key_data(int32_t pid, int32_t secret) {
  begin('K');
  put_int32(pid);
  put_int32(secret);
  end();
}

void MessageWriter::ready_for_query(char transaction_status) {
  begin('Z');
  put_byte(transaction_status);
  end();
}

void MessageWriter::error_or_notice(char type, const ErrorFields& e) {
  begin(type);
  put_byte('S');
  put_cstring(e.severity);
  put_byte('V');
  put_cstring(e.severity);
  put_byte('C');
  put_cstring(e.sqlstate);
  put_byte('M');
  put_cstring(e.message);
  if (!e.detail.empty()) {
    put_byte('D');
    put_cstring(e.detail);
  }
  if (!e.hint.empty()) {
    put_byte('H');
    put_cstring(e.hint);
  }
  if (e.position > 0) {
    put_byte('P');
    put_cstring(std::to_string(e.position));
  }
  if (!e.context.empty()) {
    put_byte('W');
    put_cstring(e.context);
  }
  put_byte('\0');
  end();
}

void MessageWriter::negotiate_protocol_version(int32_t newest_minor,
                                               const std::vector<std::string>& unsupported) {
  begin('v');
  put_int32(newest_minor);
  put_int32(static_cast<int32_t>(unsupported.size()));
  for (const auto& s : unsupported) put_cstring(s);
  end();
}

void MessageWriter::command_complete(std::string_view tag) {
  begin('C');
  put_cstring(tag);
  end();
}

void MessageWriter::empty_query_response() {
  begin('I');
  end();
}
void MessageWriter::parse_complete() {
  begin('1');
  end();
}
void MessageWriter::bind_complete() {
  begin('2');
  end();
}
void MessageWriter::close_complete() {
  begin('3');
  end();
}
void MessageWriter::no_data() {
  begin('n');
  end();
}
void MessageWriter::portal_suspended() {
  begin('s');
  end();
}

void MessageWriter::copy_response(char type, bool binary, int16_t ncols) {
  begin(type);
  put_byte(binary ? 1 : 0);
  put_int16(ncols);
  for (int16_t i = 0; i < ncols; ++i) put_int16(binary ? 1 : 0);
  end();
}

void MessageWriter::copy_data(std::string_view bytes) {
  begin('d');
  put_bytes(bytes);
  end();
}

void MessageWriter::copy_done() {
  begin('c');
  end();
}

void MessageWriter::parameter_description(const std::vector<uint32_t>& oids) {
  begin('t');
  put_int16(static_cast<int16_t>(oids.size()));
  for (uint32_t o : oids) put_int32(static_cast<int32_t>(o));
  end();
}

void MessageWriter::row_description(const std::vector<FieldDescription>& fields) {
  begin('T');
  put_int16(static_cast<int16_t>(fields.size()));
  for (const auto& f : fields) {
    put_cstring(f.name);
    put_int32(static_cast<int32_t>(f.table_oid));
    put_int16(f.attnum);
    put_int32(static_cast<int32_t>(f.type_oid));
    put_int16(f.type_len);
    put_int32(f.typmod);
    put_int16(f.format);
  }
  end();
}

void MessageWriter::begin_data_row(int16_t nfields) {
  begin('D');
  put_int16(nfields);
}

}  // namespace freshet::pgwire
