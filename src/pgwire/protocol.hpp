#pragma once
// The PostgreSQL frontend/backend protocol v3, separated from sockets: a decoder that cuts a
// byte stream into messages and parses each frontend message's fields, and a writer that
// builds backend messages into a byte buffer. Both are plain values with no I/O, so they can
// be unit-tested and fuzzed on byte buffers (fuzz_decoder.cpp).
//
// Message formats: https://www.postgresql.org/docs/current/protocol-message-formats.html
// Every parse error is a SqlError with SQLSTATE 08P01 (protocol_violation); it never asserts.
// Thread: none of this is shared; one connection owns its decoder and writer.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace freshet::pgwire {

// Limits (README.md, "Limits").
inline constexpr size_t kDefaultMaxMessageBytes = 64u << 20;   // 64 MiB
inline constexpr size_t kDefaultMaxStartupBytes = 10u << 10;   // 10 KiB
// Messages during authentication (SASLInitialResponse, SASLResponse, PasswordMessage):
// PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH.
inline constexpr size_t kDefaultMaxAuthMessageBytes = 65535;

// Startup-phase request codes (the int32 after the length of an untyped first message).
inline constexpr int32_t kProtocolVersion3 = 196608;  // 3 << 16
inline constexpr int32_t kCancelRequestCode = 80877102;
inline constexpr int32_t kSslRequestCode = 80877103;
inline constexpr int32_t kGssEncRequestCode = 80877104;

// ---- Framing ------------------------------------------------------------------------------

// One framed message. body borrows the decoder's buffer until the next feed()/next().
struct Frame {
  char type = 0;  // 0 for an untyped startup-phase message
  std::string_view body;
};

// Cuts a byte stream into frames. In startup mode a frame is `int32 len, body`; afterwards
// `byte type, int32 len, body` (len counts itself, not the type byte).
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_message_bytes = kDefaultMaxMessageBytes,
                        size_t max_startup_bytes = kDefaultMaxStartupBytes)
      : max_message_bytes_(max_message_bytes), max_startup_bytes_(max_startup_bytes) {}

  // Startup mode is on at construction; switch it off once the StartupMessage was read.
  void set_startup_mode(bool on) { startup_mode_ = on; }
  // The limit for typed messages from now on (lower during authentication).
  void set_max_message_bytes(size_t n) { max_message_bytes_ = n; }
  bool startup_mode() const { return startup_mode_; }

  // Appends received bytes.
  void feed(std::string_view bytes);
  // The next complete frame, or nullopt if more bytes are needed. Throws SqlError 08P01 on a
  // bad length (negative, below the minimum, above the limit) or, in normal mode, an unknown
  // message type byte. A frame returned stays valid until the next call to feed() or next().
  std::optional<Frame> next();
  // Bytes received and not yet returned as frames.
  size_t buffered() const { return buf_.size() - pos_; }
  // How many more bytes the frame being received needs, at least (1 when unknown). Lets a
  // reader avoid over-reading.
  size_t bytes_wanted() const;

 private:
  size_t max_message_bytes_;
  size_t max_startup_bytes_;
  bool startup_mode_ = true;
  std::string buf_;
  size_t pos_ = 0;  // start of the first unreturned byte in buf_
};

// True for a type byte a frontend may send in protocol 3.0.
bool is_frontend_message_type(char type);

// ---- Frontend messages ----------------------------------------------------------------------

struct StartupMessage {
  int32_t protocol = 0;                                      // major << 16 | minor
  std::vector<std::pair<std::string, std::string>> params;  // in the order sent
};
struct CancelRequest {
  int32_t pid = 0;
  int32_t secret = 0;
};
struct SslRequest {};
struct GssEncRequest {};
using StartupRequest = std::variant<StartupMessage, CancelRequest, SslRequest, GssEncRequest>;

// Parses an untyped startup-phase frame body (after the length). Unknown request codes with
// major version != 3 are returned as StartupMessage for the caller to reject by version.
StartupRequest parse_startup(std::string_view body);

struct QueryMsg {  // 'Q'
  std::string_view sql;
};
struct ParseMsg {  // 'P'
  std::string_view name;
  std::string_view sql;
  std::vector<uint32_t> param_type_oids;
};
struct BindMsg {  // 'B'
  std::string_view portal;
  std::string_view statement;
  std::vector<int16_t> param_formats;        // 0, 1 or n entries
  std::vector<std::optional<std::string_view>> params;  // nullopt: NULL
  std::vector<int16_t> result_formats;       // 0, 1 or n entries
};
struct DescribeMsg {  // 'D'
  char kind = 'S';    // 'S' statement, 'P' portal
  std::string_view name;
};
struct ExecuteMsg {  // 'E'
  std::string_view portal;
  int32_t max_rows = 0;  // 0: no limit
};
struct CloseMsg {  // 'C'
  char kind = 'S';
  std::string_view name;
};
struct SyncMsg {};       // 'S'
struct FlushMsg {};      // 'H'
struct TerminateMsg {};  // 'X'
struct PasswordMsg {     // 'p': password, SASLInitialResponse or SASLResponse by context
  std::string_view data;
};
struct CopyMsg {  // 'd', 'c', 'f': ignored outside COPY, as PostgreSQL does
  char type = 'd';
};
struct FunctionCallMsg {};  // 'F': not supported (0A000), the connection continues

using FrontendMessage = std::variant<QueryMsg, ParseMsg, BindMsg, DescribeMsg, ExecuteMsg, CloseMsg,
                                     SyncMsg, FlushMsg, TerminateMsg, PasswordMsg, CopyMsg,
                                     FunctionCallMsg>;

// Parses a typed frame's fields. The result borrows frame.body. Throws SqlError 08P01.
FrontendMessage parse_frontend(const Frame& frame);

struct SaslInitialResponse {
  std::string_view mechanism;
  std::optional<std::string_view> data;  // nullopt when the length is -1
};
SaslInitialResponse parse_sasl_initial(std::string_view body);

// ---- Backend messages -----------------------------------------------------------------------

// Fields of an ErrorResponse / NoticeResponse.
struct ErrorFields {
  std::string severity = "ERROR";  // ERROR, FATAL, PANIC; WARNING, NOTICE, DEBUG, INFO, LOG
  std::string sqlstate = "XX000";
  std::string message;
  std::string detail;
  std::string hint;
  std::string context;  // 'W': PostgreSQL's CONTEXT
  int position = 0;  // 1-based, in characters; sent only when > 0
};

// Appends backend messages to a byte buffer. Not thread-safe.
class MessageWriter {
 public:
  std::string& buffer() { return out_; }
  size_t size() const { return out_.size(); }
  void clear() { out_.clear(); }

  // Generic building: begin(type), put_*, end().
  void begin(char type);
  void put_byte(char c) { out_.push_back(c); }
  void put_int16(int16_t v);
  void put_int32(int32_t v);
  void put_cstring(std::string_view s);  // s must not contain NUL; NULs are dropped
  void put_bytes(std::string_view s) { out_.append(s); }
  void end();
  // Drops everything appended since mark (a size()), e.g. a DataRow whose encoding failed.
  void rollback(size_t mark) {
    out_.resize(mark);
    in_message_ = false;
  }

  void authentication_ok();
  void authentication_sasl(std::string_view mechanism);
  void authentication_sasl_continue(std::string_view data);
  void authentication_sasl_final(std::string_view data);
  void parameter_status(std::string_view name, std::string_view value);
  void backend_key_data(int32_t pid, int32_t secret);
  void ready_for_query(char transaction_status);
  void error_response(const ErrorFields& e) { error_or_notice('E', e); }
  void notice_response(const ErrorFields& e) { error_or_notice('N', e); }
  void negotiate_protocol_version(int32_t newest_minor, const std::vector<std::string>& unsupported);
  void command_complete(std::string_view tag);
  void empty_query_response();
  void parse_complete();
  void bind_complete();
  void close_complete();
  void no_data();
  void portal_suspended();
  // COPY: CopyInResponse 'G' / CopyOutResponse 'H' (overall format 0 text or 1 binary, the
  // same for each of ncols columns), CopyData 'd', CopyDone 'c'.
  void copy_response(char type, bool binary, int16_t ncols);
  void copy_data(std::string_view bytes);
  void copy_done();
  void parameter_description(const std::vector<uint32_t>& oids);

  // RowDescription is built field by field.
  struct FieldDescription {
    std::string_view name;
    uint32_t table_oid = 0;
    int16_t attnum = 0;
    uint32_t type_oid = 0;
    int16_t type_len = -1;
    int32_t typmod = -1;
    int16_t format = 0;
  };
  void row_description(const std::vector<FieldDescription>& fields);

  // DataRow: begin_data_row(n), then n times null_field() or field(bytes) (or
  // begin_field()/end_field() around appending to buffer() directly), then end().
  void begin_data_row(int16_t nfields);
  void null_field() { put_int32(-1); }
  void field(std::string_view bytes) {
    put_int32(static_cast<int32_t>(bytes.size()));
    out_.append(bytes);
  }
  void begin_field();
  void end_field();

 private:
  void error_or_notice(char type, const ErrorFields& e);
  std::string out_;
  size_t msg_start_ = 0;
  size_t field_start_ = 0;
  bool in_message_ = false;
};

// ---- Small helpers shared with tests and the fuzz target ------------------------------------

// Builds a typed frontend message (for tests): type byte, length, body.
std::string frame_message(char type, std::string_view body);
// Builds an untyped startup-phase message: length, body.
std::string frame_startup(std::string_view body);
void append_int16(std::string& out, int16_t v);
void append_int32(std::string& out, int32_t v);
void append_cstring(std::string& out, std::string_view s);

// Reads big-endian fields from a message body; every read checks bounds and throws SqlError
// 08P01 "invalid message format" when the body is too short.
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : body_(body) {}
  uint8_t byte();
  int16_t int16();
  int32_t int32();
  std::string_view cstring();  // up to the next NUL, which is consumed
  std::string_view bytes(size_t n);
  size_t remaining() const { return body_.size() - pos_; }
  // Throws unless every byte was read (PostgreSQL's pq_getmsgend).
  void expect_end() const;

 private:
  std::string_view body_;
  size_t pos_ = 0;
};

[[noreturn]] void throw_protocol_violation(std::string message);

}  // namespace freshet::pgwire
