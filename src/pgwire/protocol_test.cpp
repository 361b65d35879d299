#include "pgwire/protocol.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace freshet::pgwire {
namespace {

std::string startup_body(std::initializer_list<std::pair<const char*, const char*>> params, int32_t version = kProtocolVersion3) {
  std::string b;
  append_int32(b, version);
  for (auto& [k, v] : params) {
    append_cstring(b, k);
    append_cstring(b, v);
  }
  b.push_back('\0');
  return b;
}

std::string expect_sqlstate(const std::function<void()>& f) {
  try {
    f();
  } catch (const SqlError& e) {
    return e.sqlstate();
  }
  return "none";
}

TEST(FrameDecoder, StartupThenTypedMessagesByteByByte) {
  std::string stream = frame_startup(startup_body({{"user", "alice"}, {"database", "db"}}));
  std::string q;
  append_cstring(q, "select 1");
  stream += frame_message('Q', q) + frame_message('X', "");
  FrameDecoder d;
  std::vector<Frame> frames;
  std::vector<std::string> bodies;
  for (char c : stream) {
    d.feed(std::string_view(&c, 1));
    while (auto f = d.next()) {
      frames.push_back(*f);
      bodies.emplace_back(f->body);
      if (d.startup_mode()) d.set_startup_mode(false);
    }
  }
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].type, 0);
  auto st = std::get<StartupMessage>(parse_startup(bodies[0]));
  EXPECT_EQ(st.protocol, kProtocolVersion3);
  ASSERT_EQ(st.params.size(), 2u);
  EXPECT_EQ(st.params[0].first, "user");
  EXPECT_EQ(st.params[0].second, "alice");
  EXPECT_EQ(frames[1].type, 'Q');
  EXPECT_EQ(std::get<QueryMsg>(parse_frontend(Frame{'Q', bodies[1]})).sql, "select 1");
  EXPECT_EQ(frames[2].type, 'X');
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoder, BytesWanted) {
  FrameDecoder d;
  d.set_startup_mode(false);
  EXPECT_EQ(d.bytes_wanted(), 5u);
  std::string m = frame_message('Q', std::string("abc\0", 4));
  d.feed(m.substr(0, 5));
  EXPECT_EQ(d.bytes_wanted(), 4u);
  EXPECT_FALSE(d.next());
  d.feed(m.substr(5));
  EXPECT_TRUE(d.next());
}

TEST(FrameDecoder, Limits) {
  {
    FrameDecoder d(100, 50);
    std::string s;
    append_int32(s, 51);
    d.feed(s);
    EXPECT_EQ(expect_sqlstate([&] { d.next(); }), "08P01");
  }
  {
    FrameDecoder d(100, 50);
    std::string s;
    append_int32(s, 4);  // shorter than the request code
    d.feed(s);
    EXPECT_EQ(expect_sqlstate([&] { d.next(); }), "08P01");
  }
  {
    FrameDecoder d(100, 50);
    d.set_startup_mode(false);
    std::string s = "Q";
    append_int32(s, 105);  // body of 101 bytes: over the limit, rejected before it arrives
    d.feed(s);
    EXPECT_EQ(expect_sqlstate([&] { d.next(); }), "08P01");
  }
  {
    FrameDecoder d;
    d.set_startup_mode(false);
    std::string s = "Q";
    append_int32(s, 3);
    d.feed(s);
    EXPECT_EQ(expect_sqlstate([&] { d.next(); }), "08P01");
  }
  {
    FrameDecoder d;
    d.set_startup_mode(false);
    d.feed("\x07");
    EXPECT_EQ(expect_sqlstate([&] { d.next(); }), "08P01");
  }
}

TEST(ParseStartup, SpecialRequests) {
  std::string b;
  append_int32(b, kSslRequestCode);
  EXPECT_TRUE(std::holds_alternative<SslRequest>(parse_startup(b)));
  b.clear();
  append_int32(b, kGssEncRequestCode);
  EXPECT_TRUE(std::holds_alternative<GssEncRequest>(parse_startup(b)));
  b.clear();
  append_int32(b, kCancelRequestCode);
  append_int32(b, 1234);
  append_int32(b, -5);
  auto c = std::get<CancelRequest>(parse_startup(b));
  EXPECT_EQ(c.pid, 1234);
  EXPECT_EQ(c.secret, -5);
  b.push_back('x');
  EXPECT_EQ(expect_sqlstate([&] { parse_startup(b); }), "08P01");
  // Unterminated parameter list.
  std::string bad = startup_body({{"user", "a"}});
  bad.pop_back();
  EXPECT_EQ(expect_sqlstate([&] { parse_startup(bad); }), "08P01");
  // Another major version comes back for the caller to reject.
  auto v2 = std::get<StartupMessage>(parse_startup(startup_body({}, 2 << 16)));
  EXPECT_EQ(v2.protocol >> 16, 2);
}

TEST(ParseFrontend, ParseBindDescribeExecuteClose) {
  std::string p;
  append_cstring(p, "s1");
  append_cstring(p, "select $1");
  append_int16(p, 1);
  append_int32(p, 23);
  auto parse = std::get<ParseMsg>(parse_frontend(Frame{'P', p}));
  EXPECT_EQ(parse.name, "s1");
  EXPECT_EQ(parse.sql, "select $1");
  EXPECT_EQ(parse.param_type_oids, std::vector<uint32_t>{23});

  std::string b;
  append_cstring(b, "");
  append_cstring(b, "s1");
  append_int16(b, 1);
  append_int16(b, 1);
  append_int16(b, 2);
  append_int32(b, 4);
  b += std::string("\0\0\0\x2a", 4);
  append_int32(b, -1);
  append_int16(b, 0);
  auto bind = std::get<BindMsg>(parse_frontend(Frame{'B', b}));
  EXPECT_EQ(bind.statement, "s1");
  ASSERT_EQ(bind.params.size(), 2u);
  EXPECT_EQ(*bind.params[0], std::string_view("\0\0\0\x2a", 4));
  EXPECT_FALSE(bind.params[1].has_value());
  EXPECT_TRUE(bind.result_formats.empty());

  // Truncated Bind: a parameter longer than the message.
  std::string tb = b.substr(0, b.size() - 8);
  EXPECT_EQ(expect_sqlstate([&] { parse_frontend(Frame{'B', tb}); }), "08P01");

  const std::string describe_body("Pcur\0", 5);
  auto d = std::get<DescribeMsg>(parse_frontend(Frame{'D', describe_body}));
  EXPECT_EQ(d.kind, 'P');
  EXPECT_EQ(d.name, "cur");
  EXPECT_EQ(expect_sqlstate([&] { parse_frontend(Frame{'D', std::string("Xcur\0", 5)}); }), "08P01");

  std::string e;
  append_cstring(e, "cur");
  append_int32(e, 10);
  auto ex = std::get<ExecuteMsg>(parse_frontend(Frame{'E', e}));
  EXPECT_EQ(ex.portal, "cur");
  EXPECT_EQ(ex.max_rows, 10);

  EXPECT_TRUE(std::holds_alternative<SyncMsg>(parse_frontend(Frame{'S', ""})));
  EXPECT_EQ(expect_sqlstate([&] { parse_frontend(Frame{'S', "x"}); }), "08P01");
  const std::string close_body("S\0", 2);
  auto c = std::get<CloseMsg>(parse_frontend(Frame{'C', close_body}));
  EXPECT_EQ(c.kind, 'S');
  EXPECT_EQ(c.name, "");
}

TEST(ParseFrontend, SaslInitial) {
  std::string b;
  append_cstring(b, "SCRAM-SHA-256");
  append_int32(b, 3);
  b += "abc";
  auto s = parse_sasl_initial(b);
  EXPECT_EQ(s.mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(*s.data, "abc");
  b.pop_back();
  EXPECT_EQ(expect_sqlstate([&] { parse_sasl_initial(b); }), "08P01");
}

TEST(MessageWriter, ErrorResponseFields) {
  MessageWriter w;
  ErrorFields e;
  e.sqlstate = "42601";
  e.message = "syntax error";
  e.position = 8;
  e.hint = "h";
  w.error_response(e);
  std::string expected = "E";
  std::string body;
  body += 'S';
  append_cstring(body, "ERROR");
  body += 'V';
  append_cstring(body, "ERROR");
  body += 'C';
  append_cstring(body, "42601");
  body += 'M';
  append_cstring(body, "syntax error");
  body += 'H';
  append_cstring(body, "h");
  body += 'P';
  append_cstring(body, "8");
  body += '\0';
  EXPECT_EQ(w.buffer(), frame_message('E', body));
}

TEST(MessageWriter, DataRowAndRollback) {
  MessageWriter w;
  w.begin_data_row(2);
  w.null_field();
  w.begin_field();
  w.buffer() += "xy";
  w.end_field();
  w.end();
  std::string body;
  append_int16(body, 2);
  append_int32(body, -1);
  append_int32(body, 2);
  body += "xy";
  EXPECT_EQ(w.buffer(), frame_message('D', body));
  size_t mark = w.size();
  w.begin_data_row(1);
  w.rollback(mark);
  EXPECT_EQ(w.size(), mark);
  w.ready_for_query('I');
  EXPECT_EQ(w.buffer().substr(mark), frame_message('Z', "I"));
}

}  // namespace
}  // namespace freshet::pgwire
