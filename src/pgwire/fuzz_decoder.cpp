// Fuzz target for the pgwire decoder: the bytes are a client's stream (startup-phase frames,
// then typed messages), cut into frames and parsed field by field; password messages go
// through the SASL and SCRAM parsers; Bind parameters through the binary codecs. Any input
// must end in a parsed message or a SqlError, never a crash, an assertion or a sanitizer
// report. README.md says how to run it under libFuzzer.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "common/arena.hpp"
#include "common/error.hpp"
#include "pgwire/binary_format.hpp"
#include "pgwire/protocol.hpp"
#include "pgwire/scram.hpp"

namespace {

using namespace freshet;
using namespace freshet::pgwire;

// Types whose binary decoding is pgwire's own code (text types go to common's parse_datum).
constexpr TypeId kBinaryTypes[] = {TypeId::kBool,     TypeId::kInt2,      TypeId::kInt4,        TypeId::kInt8,
                                   TypeId::kFloat4,   TypeId::kFloat8,    TypeId::kNumeric,     TypeId::kBytea,
                                   TypeId::kDate,     TypeId::kTime,      TypeId::kTimestamp,   TypeId::kTimestampTz,
                                   TypeId::kInterval, TypeId::kUuid,      TypeId::kOid};

void fuzz_bind(const BindMsg& b) {
  Arena arena;
  size_t i = 0;
  for (const auto& p : b.params) {
    if (!p) continue;
    TypeId t = kBinaryTypes[(i++ + p->size()) % std::size(kBinaryTypes)];
    try {
      Datum d = decode_binary(*p, Type(t), arena);
      std::string out;
      encode_binary(d, Type(t), out);
      // Round trip: what we decode, we encode back to a value that decodes the same.
      Datum again = decode_binary(out, Type(t), arena);
      std::string out2;
      encode_binary(again, Type(t), out2);
      FRESHET_ASSERT(out == out2);
    } catch (const SqlError&) {
    }
  }
}

void fuzz_password(std::string_view body, bool initial) {
  try {
    if (initial) {
      SaslInitialResponse s = parse_sasl_initial(body);
      if (s.data) {
        ScramServer scram(ScramVerifier{}, "srvnonce", false);
        scram.handle_client_first(*s.data);
      }
    } else {
      ScramServer scram(ScramVerifier{}, "srvnonce", false);
      scram.handle_client_first("n,,n=,r=abc");
      (void)scram.handle_client_final(body);
    }
  } catch (const SqlError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  FrameDecoder decoder(1 << 16, 10 << 10);
  // Feed in two pieces to exercise partial frames.
  size_t split = size > 0 ? data[0] % (size + 1) : 0;
  int passwords = 0;
  try {
    for (int piece = 0; piece < 2; ++piece) {
      decoder.feed(piece == 0 ? input.substr(0, split) : input.substr(split));
      while (auto f = decoder.next()) {
        (void)decoder.bytes_wanted();
        if (decoder.startup_mode()) {
          StartupRequest r = parse_startup(f->body);
          if (std::holds_alternative<StartupMessage>(r)) decoder.set_startup_mode(false);
          continue;
        }
        FrontendMessage m = parse_frontend(*f);
        if (auto* b = std::get_if<BindMsg>(&m)) fuzz_bind(*b);
        if (auto* p = std::get_if<PasswordMsg>(&m)) fuzz_password(p->data, passwords++ == 0);
      }
    }
  } catch (const SqlError&) {
  }
  return 0;
}
