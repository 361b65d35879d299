// KafkaServer over a real socket with a minimal hand-rolled client: framing, ApiVersions,
// Metadata, ListOffsets, Fetch (with long polling), Produce, SASL, offsets and the limits.

#include "kafka/kafka_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include "kafka/errors.hpp"
#include "kafka/memory_backend.hpp"
#include "kafka/record_batch.hpp"
#include "kafka/schema_registry.hpp"
#include "common/format.hpp"

namespace freshet::kafka {
namespace {

struct Client {
  int fd = -1;
  int32_t corr = 0;
  explicit Client(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  }
  ~Client() { ::close(fd); }
  void send_raw(std::string_view s) { ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size())); }
  // Sends a request (header v1) and returns the response body after the correlation id,
  // or nullopt if the server closed the connection.
  std::optional<std::string> call(int16_t key, int16_t version, const std::string& body) {
    std::string f;
    Writer w(f);
    w.i32(0);
    w.i16(key);
    w.i16(version);
    w.i32(++corr);
    w.string("test-client");
    w.raw(body);
    w.patch_i32(0, static_cast<int32_t>(f.size() - 4));
    send_raw(f);
    return read_response();
  }
  std::optional<std::string> read_response() {
    std::string size(4, '\0');
    if (!read_exact(size.data(), 4)) return std::nullopt;
    int32_t n = Reader(size).i32();
    std::string body(static_cast<size_t>(n), '\0');
    if (!read_exact(body.data(), body.size())) return std::nullopt;
    Reader r(body);
    EXPECT_EQ(r.i32(), corr);
    return std::string(r.rest());
  }
  bool read_exact(char* p, size_t n) {
    while (n > 0) {
      ssize_t got = ::recv(fd, p, n, 0);
      if (got <= 0) return false;
      p += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }
  bool closed() {
    char c;
    return ::recv(fd, &c, 1, 0) <= 0;
  }
};

struct Fixture : ::testing::Test {
  MemoryBackend backend;
  std::unique_ptr<SchemaCatalog> catalog;
  std::unique_ptr<KafkaServer> server;
  std::vector<TopicColumn> key{{"id", Type(TypeId::kInt8), false}};
  std::vector<TopicColumn> value{{"id", Type(TypeId::kInt8), false}, {"s", Type(TypeId::kText), true}};

  void start(bool sasl, const std::function<void(KafkaServerOptions&)>& tweak = {}) {
    backend.add_topic(TopicInfo{"t", 2, key, value, TopicFormat::kAvro});
    backend.add_topic(TopicInfo{"j", 1, key, value, TopicFormat::kJson});
    backend.add_user("alice", "pw");
    for (int i = 0; i < 5; ++i) append(i);
    catalog = std::make_unique<SchemaCatalog>(backend);
    KafkaServerOptions o;
    o.port = 0;
    o.sasl_required = sasl;
    o.max_request_bytes = 1 << 20;
    if (tweak) tweak(o);
    server = std::make_unique<KafkaServer>(backend, *catalog, o);
    ASSERT_TRUE(server->start().is_ok());
  }
  void append(int i) {
    std::vector<Datum> k{Datum::from_int(i)};
    std::string s = "row" + std::to_string(i);
    std::vector<Datum> v{Datum::from_int(i), Datum::from_string(s)};
    backend.append("t", 0, Row::pack(k), Row::pack(v), 1000 + i);
  }
  void TearDown() override {
    if (server) server->stop();
  }
};

std::string fetch_body(const std::string& topic, int32_t partition, int64_t offset, int32_t max_wait_ms) {
  std::string b;
  Writer w(b);
  w.i32(-1);
  w.i32(max_wait_ms);
  w.i32(1);
  w.i32(1 << 20);
  w.i8(0);
  w.array_len(1);
  w.string(topic);
  w.array_len(1);
  w.i32(partition);
  w.i64(offset);
  w.i64(-1);
  w.i32(1 << 20);
  return b;  // v5
}

// Parses a v5 fetch response with one partition: error, high watermark, record batches.
std::tuple<int16_t, int64_t, std::vector<RecordBatch>> parse_fetch(const std::string& body) {
  Reader r(body);
  r.i32();
  EXPECT_EQ(r.array_len(), 1);
  r.string();
  EXPECT_EQ(r.array_len(), 1);
  r.i32();
  int16_t err = r.i16();
  int64_t hw = r.i64();
  r.i64();
  r.i64();
  EXPECT_EQ(r.array_len(), -1);
  std::string records = r.bytes();
  std::vector<RecordBatch> batches;
  EXPECT_EQ(decode_record_batches(records, batches), BatchError::kNone);
  return {err, hw, batches};
}

TEST_F(Fixture, ApiVersionsMetadataFetch) {
  start(false);
  Client c(server->port());
  auto av = c.call(api::kApiVersions, 0, "");
  ASSERT_TRUE(av.has_value());
  EXPECT_EQ(Reader(*av).i16(), 0);
  // An unsupported ApiVersions version gets a v0 response with error 35.
  auto av9 = c.call(api::kApiVersions, 9, "");
  ASSERT_TRUE(av9.has_value());
  EXPECT_EQ(Reader(*av9).i16(), error::kUnsupportedVersion);
  // An unknown API key: error 35, connection kept.
  auto unknown = c.call(999, 0, "");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(Reader(*unknown).i16(), error::kUnsupportedVersion);

  std::string mb;
  Writer(mb).array_len(-1);
  auto md = c.call(api::kMetadata, 1, mb);
  ASSERT_TRUE(md.has_value());
  Reader r(*md);
  EXPECT_EQ(r.array_len(), 1);
  EXPECT_EQ(r.i32(), 0);
  EXPECT_EQ(r.string(), "127.0.0.1");
  EXPECT_EQ(r.i32(), server->port());

  auto [err, hw, batches] = parse_fetch(*c.call(api::kFetch, 5, fetch_body("t", 0, 2, 0)));
  EXPECT_EQ(err, 0);
  EXPECT_EQ(hw, 5);
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].records.size(), 3u);
  EXPECT_EQ(batches[0].records[0].offset, 2);
  // Avro value in the Confluent frame: magic 0, value schema id, then id=2 and "row2".
  const std::string& v = *batches[0].records[0].value;
  EXPECT_EQ(v.substr(0, 1), std::string(1, '\0'));
  EXPECT_EQ(v.substr(5), std::string("\x04\x02\x08row2", 7));

  auto [err2, hw2, b2] = parse_fetch(*c.call(api::kFetch, 5, fetch_body("t", 0, 9, 0)));
  EXPECT_EQ(err2, error::kOffsetOutOfRange);
}

TEST_F(Fixture, FetchWaitsForData) {
  start(false);
  Client c(server->port());
  auto t0 = std::chrono::steady_clock::now();
  auto later = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    append(5);
  });
  auto [err, hw, batches] = parse_fetch(*c.call(api::kFetch, 5, fetch_body("t", 0, 5, 5000)));
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(err, 0);
  EXPECT_EQ(hw, 6);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_LT(waited, std::chrono::milliseconds(4000));
  // Nothing arrives: the wait ends at max_wait_ms with an empty record set.
  auto [e3, hw3, none] = parse_fetch(*c.call(api::kFetch, 5, fetch_body("t", 1, 0, 100)));
  EXPECT_EQ(e3, 0);
  EXPECT_TRUE(none.empty());
}

TEST_F(Fixture, ProduceJsonAndInvalidRecords) {
  start(false);
  Client c(server->port());
  auto produce = [&](std::optional<std::string> key, std::optional<std::string> value) {
    std::string records;
    encode_record_batch({Record{0, 5000, key, value, {}}}, records);
    std::string b;
    Writer w(b);
    w.nullable_string(std::nullopt);
    w.i16(-1);
    w.i32(1000);
    w.array_len(1);
    w.string("j");
    w.array_len(1);
    w.i32(0);
    w.bytes(records);
    std::string r_bytes = *c.call(api::kProduce, 8, b);
    Reader r(r_bytes);
    r.array_len();
    r.string();
    r.array_len();
    r.i32();
    int16_t err = r.i16();
    int64_t base = r.i64();
    return std::make_pair(err, base);
  };
  EXPECT_EQ(produce("{\"id\": 1}", "{\"id\": 1, \"s\": \"x\"}"), std::make_pair(int16_t{0}, int64_t{0}));
  EXPECT_EQ(produce("7", std::nullopt), std::make_pair(int16_t{0}, int64_t{1}));  // tombstone, bare key
  EXPECT_EQ(produce("{\"id\": \"nope\"}", "{}").first, error::kInvalidRecord);
  std::vector<StoredRecord> out;
  ASSERT_EQ(backend.read("j", 0, 0, 1 << 20, out), 0);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].value->get(1).as_string(), "x");
  EXPECT_EQ(out[0].timestamp_ms, 5000);
  EXPECT_FALSE(out[1].value.has_value());
}

TEST_F(Fixture, OffsetsCommitAndFetch) {
  start(false);
  Client c(server->port());
  std::string b;
  Writer w(b);
  w.string("grp");
  w.i32(-1);
  w.string("");
  w.i64(-1);
  w.array_len(1);
  w.string("t");
  w.array_len(1);
  w.i32(1);
  w.i64(3);
  w.nullable_string(std::string("meta"));
  ASSERT_TRUE(c.call(api::kOffsetCommit, 2, b).has_value());
  std::string fb;
  Writer fw(fb);
  fw.string("grp");
  fw.array_len(1);
  fw.string("t");
  fw.array_len(2);
  fw.i32(0);
  fw.i32(1);
  std::string r_bytes = *c.call(api::kOffsetFetch, 3, fb);
    Reader r(r_bytes);
  r.i32();
  r.array_len();
  r.string();
  EXPECT_EQ(r.array_len(), 2);
  EXPECT_EQ(r.i32(), 0);
  EXPECT_EQ(r.i64(), -1);
  r.nullable_string();
  r.i16();
  EXPECT_EQ(r.i32(), 1);
  EXPECT_EQ(r.i64(), 3);
  EXPECT_EQ(r.nullable_string(), "meta");
}

// Consumer-group authorization (README.md "Authorization"): a group the backend refuses answers
// GROUP_AUTHORIZATION_FAILED (30) to FindCoordinator, JoinGroup, Heartbeat, OffsetCommit and
// OffsetFetch, and nothing is committed; an allowed group works as before.
TEST_F(Fixture, GroupAuthorization) {
  backend.denied_groups.insert("theirs");
  start(false);
  Client c(server->port());
  auto commit = [&](const std::string& group) {
    std::string b;
    Writer w(b);
    w.string(group);
    w.i32(-1);
    w.string("");
    w.i64(-1);
    w.array_len(1);
    w.string("t");
    w.array_len(1);
    w.i32(0);
    w.i64(4);
    w.nullable_string(std::string("m"));
    std::string resp = *c.call(api::kOffsetCommit, 2, b);
    Reader r(resp);
    EXPECT_EQ(r.array_len(), 1);
    r.string();
    EXPECT_EQ(r.array_len(), 1);
    EXPECT_EQ(r.i32(), 0);
    return r.i16();
  };
  auto fetch = [&](const std::string& group) {  // OffsetFetch v3: {top-level error, partition 0's offset}
    std::string b;
    Writer w(b);
    w.string(group);
    w.array_len(1);
    w.string("t");
    w.array_len(1);
    w.i32(0);
    std::string resp = *c.call(api::kOffsetFetch, 3, b);
    Reader r(resp);
    r.i32();
    EXPECT_EQ(r.array_len(), 1);
    r.string();
    EXPECT_EQ(r.array_len(), 1);
    r.i32();
    int64_t offset = r.i64();
    r.nullable_string();
    r.i16();
    return std::pair<int16_t, int64_t>{r.i16(), offset};
  };
  EXPECT_EQ(commit("theirs"), error::kGroupAuthorizationFailed);
  EXPECT_EQ(fetch("theirs").first, error::kGroupAuthorizationFailed);
  EXPECT_TRUE(backend.committed_offsets("theirs").empty());
  EXPECT_EQ(commit("mine"), 0);
  EXPECT_EQ(fetch("mine"), (std::pair<int16_t, int64_t>{0, 4}));

  std::string fc;
  Writer(fc).string("theirs");
  EXPECT_EQ(Reader(*c.call(api::kFindCoordinator, 0, fc)).i16(), error::kGroupAuthorizationFailed);
  std::string fc_mine;
  Writer(fc_mine).string("mine");
  EXPECT_EQ(Reader(*c.call(api::kFindCoordinator, 0, fc_mine)).i16(), 0);

  std::string join;
  Writer jw(join);
  jw.string("theirs");
  jw.i32(10000);
  jw.string("");
  jw.string("consumer");
  jw.array_len(1);
  jw.string("range");
  jw.bytes(std::string_view(""));
  EXPECT_EQ(Reader(*c.call(api::kJoinGroup, 0, join)).i16(), error::kGroupAuthorizationFailed);

  std::string hb;
  Writer hw(hb);
  hw.string("theirs");
  hw.i32(1);
  hw.string("m-1");
  EXPECT_EQ(Reader(*c.call(api::kHeartbeat, 0, hb)).i16(), error::kGroupAuthorizationFailed);
}

TEST_F(Fixture, SaslPlainRequiredAndLimits) {
  start(true);
  {
    Client c(server->port());
    std::string mb;
    Writer(mb).array_len(-1);
    EXPECT_FALSE(c.call(api::kMetadata, 1, mb).has_value());  // not authenticated: closed
  }
  {
    Client c(server->port());
    std::string hs;
    Writer(hs).string("PLAIN");
    EXPECT_EQ(Reader(*c.call(api::kSaslHandshake, 1, hs)).i16(), 0);
    std::string ab;
    Writer(ab).bytes(std::string_view("\0alice\0pw", 9));
    EXPECT_EQ(Reader(*c.call(api::kSaslAuthenticate, 1, ab)).i16(), 0);
    std::string mb;
    Writer(mb).array_len(-1);
    EXPECT_TRUE(c.call(api::kMetadata, 1, mb).has_value());
  }
  {
    Client c(server->port());
    std::string hs;
    Writer(hs).string("SCRAM-SHA-256");
    EXPECT_EQ(Reader(*c.call(api::kSaslHandshake, 1, hs)).i16(), 0);
    std::string first;
    Writer(first).bytes("n,,n=alice,r=abc");
    std::string r_bytes = *c.call(api::kSaslAuthenticate, 1, first);
    Reader r(r_bytes);
    EXPECT_EQ(r.i16(), 0);
    r.nullable_string();
    std::string server_first = r.bytes();
    std::string fin;
    Writer(fin).bytes(scram_client_final("pw", "n=alice,r=abc", server_first));
    std::string r2_bytes = *c.call(api::kSaslAuthenticate, 1, fin);
    Reader r2(r2_bytes);
    EXPECT_EQ(r2.i16(), 0);
  }
  {
    Client c(server->port());
    std::string hs;
    Writer(hs).string("PLAIN");
    c.call(api::kSaslHandshake, 1, hs);
    std::string ab;
    Writer(ab).bytes(std::string_view("\0alice\0bad", 10));
    EXPECT_EQ(Reader(*c.call(api::kSaslAuthenticate, 1, ab)).i16(), error::kSaslAuthenticationFailed);
    EXPECT_TRUE(c.closed());
  }
  {
    Client c(server->port());
    c.send_raw(std::string("\x7f\x00\x00\x00", 4));  // 2 GiB frame: closed
    EXPECT_TRUE(c.closed());
  }
  {
    Client c(server->port());
    c.send_raw(std::string("\x00\x00\x00\x09\x00\x12\x00\x00\x00\x00\x00\x01\x00\x07", 13));  // truncated string
    EXPECT_TRUE(c.closed());
  }
}


// Authenticates c with SASL PLAIN as alice and checks that a Metadata request is answered.
void authenticate_and_query(Client& c) {
  std::string hs;
  Writer(hs).string("PLAIN");
  auto h = c.call(api::kSaslHandshake, 1, hs);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(Reader(*h).i16(), 0);
  std::string ab;
  Writer(ab).bytes(std::string_view("\0alice\0pw", 9));
  auto a = c.call(api::kSaslAuthenticate, 1, ab);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(Reader(*a).i16(), 0);
  std::string mb;
  Writer(mb).array_len(-1);
  EXPECT_TRUE(c.call(api::kMetadata, 1, mb).has_value());
}

std::string be32(uint32_t n) {
  return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
}

TEST_F(Fixture, PreauthFrameCapAndPendingPool) {
  start(true, [](KafkaServerOptions& o) {
    o.max_preauth_request_bytes = 4096;
    o.max_pending_connections = 3;
  });
  {
    Client c(server->port());
    c.send_raw(be32(4097));  // over the pre-auth cap (though under max_request_bytes): closed
    EXPECT_TRUE(c.closed());
  }
  // Half-sent frames under the cap, more than the pending pool holds: the oldest are closed,
  // and a real client still gets in and is served.
  std::vector<std::unique_ptr<Client>> silent;
  for (int i = 0; i < 8; ++i) {
    silent.push_back(std::make_unique<Client>(server->port()));
    silent.back()->send_raw(be32(4000) + std::string(100, 'x'));
  }
  Client ok(server->port());
  authenticate_and_query(ok);
  EXPECT_TRUE(silent[0]->closed());
  // Once authenticated, the connection is no longer pending: more silent ones do not evict it.
  for (int i = 0; i < 8; ++i) silent.push_back(std::make_unique<Client>(server->port()));
  std::string mb;
  Writer(mb).array_len(-1);
  EXPECT_TRUE(ok.call(api::kMetadata, 1, mb).has_value());
  // After authentication the cap is max_request_bytes (1 MiB): a 600 KiB Metadata v4 request
  // (3,000 unknown topic names, no auto-creation) is read and answered.
  std::string many;
  Writer mw(many);
  mw.array_len(3000);
  for (int i = 0; i < 3000; ++i) mw.string("no-such-topic-" + std::to_string(i) + std::string(180, 'x'));
  mw.boolean(false);
  ASSERT_GT(many.size(), 550u << 10);
  auto answer = ok.call(api::kMetadata, 4, many);
  ASSERT_TRUE(answer.has_value());
  EXPECT_NE(answer->find("no-such-topic-2999"), std::string::npos);
}

TEST_F(Fixture, IdleConnectionsAreClosed) {
  start(false, [](KafkaServerOptions& o) { o.idle_timeout_ms = 200; });
  Client silent(server->port());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.closed());
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_LT(waited, std::chrono::seconds(5));
  // A connection that keeps talking stays.
  Client busy(server->port());
  std::string mb;
  Writer(mb).array_len(-1);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(busy.call(api::kMetadata, 1, mb).has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// CreateTopics v4 request body for one topic.
std::string create_body(const std::string& name, int32_t partitions, int16_t rf, bool validate_only) {
  std::string b;
  Writer w(b);
  w.array_len(1);
  w.string(name);
  w.i32(partitions);
  w.i16(rf);
  w.array_len(0);  // assignments
  w.array_len(1);  // configs (ignored)
  w.string("cleanup.policy");
  w.nullable_string("delete");
  w.i32(1000);
  w.boolean(validate_only);
  return b;
}

// The (error, message) of the one topic in a CreateTopics v4 response.
std::pair<int16_t, std::optional<std::string>> parse_create(const std::string& body) {
  Reader r(body);
  r.i32();
  EXPECT_EQ(r.array_len(), 1);
  r.string();
  int16_t e = r.i16();
  auto m = r.nullable_string();
  return {e, m};
}

std::pair<int16_t, int64_t> produce_to(Client& c, const std::string& topic, int32_t partition, const std::vector<Record>& recs) {
  std::string records;
  encode_record_batch(recs, records);
  std::string b;
  Writer w(b);
  w.nullable_string(std::nullopt);
  w.i16(-1);
  w.i32(1000);
  w.array_len(1);
  w.string(topic);
  w.array_len(1);
  w.i32(partition);
  w.bytes(records);
  std::string r_bytes = *c.call(api::kProduce, 8, b);
  Reader r(r_bytes);
  r.array_len();
  r.string();
  r.array_len();
  r.i32();
  int16_t err = r.i16();
  int64_t base = r.i64();
  return {err, base};
}

TEST_F(Fixture, CreateTopicsAndRawRecords) {
  backend.set_default_partitions(3);
  start(false);
  Client c(server->port());
  EXPECT_EQ(parse_create(*c.call(api::kCreateTopics, 4, create_body("raw", -1, -1, false))).first, 0);
  auto info = backend.topic("raw");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->partitions, 3);
  EXPECT_EQ(info->format, TopicFormat::kRaw);
  EXPECT_EQ(parse_create(*c.call(api::kCreateTopics, 4, create_body("raw", 1, 1, false))).first, error::kTopicAlreadyExists);
  EXPECT_EQ(parse_create(*c.call(api::kCreateTopics, 4, create_body("t", 1, 1, false))).first, error::kTopicAlreadyExists);
  auto bad = parse_create(*c.call(api::kCreateTopics, 4, create_body("bad name!", 1, 1, false)));
  EXPECT_EQ(bad.first, error::kInvalidTopicException);
  EXPECT_TRUE(bad.second.has_value());
  EXPECT_EQ(parse_create(*c.call(api::kCreateTopics, 4, create_body("..", 1, 1, false))).first, error::kInvalidTopicException);
  EXPECT_EQ(parse_create(*c.call(api::kCreateTopics, 4, create_body(std::string(250, 'a'), 1, 1, false))).first,
            error::kInvalidTopicException);
  EXPECT_EQ(parse_create(*c.call(api::kCreateTopics, 4, create_body("p", 0, 1, false))).first, error::kInvalidPartitions);
  EXPECT_EQ(parse_create(*c.call(api::kCreateTopics, 4, create_body("p", 1001, 1, false))).first, error::kInvalidPartitions);
  EXPECT_EQ(parse_create(*c.call(api::kCreateTopics, 4, create_body("p", 1, 3, false))).first,
            error::kInvalidReplicationFactor);
  EXPECT_EQ(parse_create(*c.call(api::kCreateTopics, 4, create_body("v", 2, 1, true))).first, 0);
  EXPECT_FALSE(backend.topic("v").has_value());  // validate_only
  // v0: no validate_only, no messages, no throttle time.
  std::string v0;
  Writer w0(v0);
  w0.array_len(1);
  w0.string("old");
  w0.i32(2);
  w0.i16(1);
  w0.array_len(0);
  w0.array_len(0);
  w0.i32(1000);
  auto r0 = *c.call(api::kCreateTopics, 0, v0);
  Reader rr(r0);
  EXPECT_EQ(rr.array_len(), 1);
  EXPECT_EQ(rr.string(), "old");
  EXPECT_EQ(rr.i16(), 0);
  EXPECT_TRUE(rr.done());
  EXPECT_EQ(backend.topic("old")->partitions, 2);

  // Produce stores the bytes as they are: binary, a null key, a tombstone, headers.
  std::string bin("\x00\xff\x01 not avro", 12);
  std::vector<Record> recs = {Record{0, 1234, std::nullopt, bin, {{"h", "v"}, {"n", std::nullopt}}},
                              Record{1, 1235, std::string("k1"), std::nullopt, {}}};
  EXPECT_EQ(produce_to(c, "raw", 2, recs), std::make_pair(int16_t{0}, int64_t{0}));
  EXPECT_EQ(produce_to(c, "raw", 2, {Record{0, 1300, std::string("k2"), std::string(""), {}}}),
            std::make_pair(int16_t{0}, int64_t{2}));
  EXPECT_EQ(produce_to(c, "raw", 3, recs).first, error::kUnknownTopicOrPartition);
  auto [err, hw, batches] = parse_fetch(*c.call(api::kFetch, 5, fetch_body("raw", 2, 0, 0)));
  EXPECT_EQ(err, 0);
  EXPECT_EQ(hw, 3);
  std::vector<Record> got;
  for (auto& b : batches)
    for (auto& r : b.records) got.push_back(r);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].offset, 0);
  EXPECT_FALSE(got[0].key.has_value());
  EXPECT_EQ(got[0].value, bin);
  EXPECT_EQ(got[0].timestamp_ms, 1234);
  ASSERT_EQ(got[0].headers.size(), 2u);
  EXPECT_EQ(got[0].headers[0].first, "h");
  EXPECT_EQ(got[0].headers[0].second, std::optional<std::string>("v"));
  EXPECT_FALSE(got[0].headers[1].second.has_value());
  EXPECT_EQ(got[1].key, std::optional<std::string>("k1"));
  EXPECT_FALSE(got[1].value.has_value());  // the tombstone is kept
  EXPECT_EQ(got[2].offset, 2);
  EXPECT_EQ(got[2].value, std::optional<std::string>(""));
  EXPECT_EQ(backend.offset_for_time("raw", 2, 1235), 1);
  // The other partitions are empty.
  auto [e1, hw1, none] = parse_fetch(*c.call(api::kFetch, 5, fetch_body("raw", 0, 0, 0)));
  EXPECT_EQ(e1, 0);
  EXPECT_EQ(hw1, 0);

  // DeleteTopics v1: raw topics only.
  std::string db;
  Writer wd(db);
  wd.array_len(3);
  wd.string("raw");
  wd.string("t");
  wd.string("nope");
  wd.i32(1000);
  auto dr = *c.call(api::kDeleteTopics, 1, db);
  Reader rd(dr);
  rd.i32();
  EXPECT_EQ(rd.array_len(), 3);
  EXPECT_EQ(rd.string(), "raw");
  EXPECT_EQ(rd.i16(), 0);
  EXPECT_EQ(rd.string(), "t");
  EXPECT_EQ(rd.i16(), error::kPolicyViolation);
  EXPECT_EQ(rd.string(), "nope");
  EXPECT_EQ(rd.i16(), error::kUnknownTopicOrPartition);
  EXPECT_FALSE(backend.topic("raw").has_value());
  EXPECT_TRUE(backend.topic("t").has_value());
}

TEST_F(Fixture, MetadataAutoCreatesTopics) {
  backend.set_default_partitions(2);
  start(false);
  Client c(server->port());
  auto metadata = [&](const std::string& name, bool allow) {
    std::string b;
    Writer w(b);
    w.array_len(1);
    w.string(name);
    w.boolean(allow);
    std::string resp = *c.call(api::kMetadata, 4, b);
    Reader r(resp);
    r.i32();  // throttle
    int32_t nb = r.array_len();
    for (int32_t i = 0; i < nb; ++i) {
      r.i32();
      r.string();
      r.i32();
      r.nullable_string();
    }
    r.nullable_string();
    r.i32();
    EXPECT_EQ(r.array_len(), 1);
    int16_t e = r.i16();
    EXPECT_EQ(r.string(), name);
    r.boolean();
    return std::make_pair(e, r.array_len());
  };
  EXPECT_EQ(metadata("not-created", false), std::make_pair(error::kUnknownTopicOrPartition, 0));
  EXPECT_FALSE(backend.topic("not-created").has_value());
  EXPECT_EQ(metadata("auto", true), std::make_pair(int16_t{0}, 2));
  EXPECT_EQ(backend.topic("auto")->format, TopicFormat::kRaw);
  EXPECT_EQ(metadata("auto", true), std::make_pair(int16_t{0}, 2));
  EXPECT_EQ(metadata("bad/name", true).first, error::kUnknownTopicOrPartition);
  EXPECT_EQ(produce_to(c, "auto", 1, {Record{0, 1, std::string("k"), std::string("v"), {}}}),
            std::make_pair(int16_t{0}, int64_t{0}));
}

TEST_F(Fixture, SchemaRegistryPost) {
  start(false);
  SchemaRegistryServer reg(backend, *catalog, {});
  const std::string schema = R"({"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"],"default":null}]})";
  std::string body = "{\"schema\":";
  json_quote(schema, body);
  body += "}";
  auto [s1, b1] = reg.handle("POST", "/subjects/orders-value/versions", "", body);
  EXPECT_EQ(s1, 200);
  EXPECT_EQ(b1.substr(0, 6), "{\"id\":");
  // The same schema with other whitespace: same id, no new version.
  std::string spaced = "{ \"schema\" : ";
  json_quote("{\n  \"type\": \"record\", \"name\": \"Order\",\n  \"fields\": [{\"name\": \"id\", \"type\": \"long\"}, "
             "{\"name\": \"note\", \"type\": [\"null\", \"string\"], \"default\": null}]\n}",
             spaced);
  spaced += ", \"schemaType\": \"AVRO\" }";
  EXPECT_EQ(reg.handle("POST", "/subjects/orders-value/versions", "", spaced), std::make_pair(200, b1));
  EXPECT_EQ(reg.handle("GET", "/subjects/orders-value/versions", ""), std::make_pair(200, std::string("[1]")));
  // Under another subject: the same global id.
  EXPECT_EQ(reg.handle("POST", "/subjects/other-value/versions", "", body), std::make_pair(200, b1));
  // A new schema: version 2, a new id.
  std::string body2 = "{\"schema\":";
  json_quote(R"({"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]})", body2);
  body2 += "}";
  auto [s2, b2] = reg.handle("POST", "/subjects/orders-value/versions", "", body2);
  EXPECT_EQ(s2, 200);
  EXPECT_NE(b2, b1);
  EXPECT_EQ(reg.handle("GET", "/subjects/orders-value/versions", ""), std::make_pair(200, std::string("[1,2]")));
  // Lookup.
  auto [s3, b3] = reg.handle("POST", "/subjects/orders-value", "", body);
  EXPECT_EQ(s3, 200);
  EXPECT_NE(b3.find("\"version\":1"), std::string::npos);
  EXPECT_EQ(reg.handle("POST", "/subjects/nope-value", "", body).first, 404);
  EXPECT_NE(reg.handle("POST", "/subjects/nope-value", "", body).second.find("40401"), std::string::npos);
  std::string body3 = "{\"schema\":\"\\\"string\\\"\"}";
  EXPECT_NE(reg.handle("POST", "/subjects/orders-value", "", body3).second.find("40403"), std::string::npos);
  // Invalid requests: 422 42201.
  for (const std::string& b : {std::string("not json"), std::string("{}"), std::string("{\"schema\":\"{\\\"type\\\":\\\"recordz\\\"}\"}"),
                               std::string("{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"x\\\"}\"}"),
                               std::string("{\"schema\":\"\\\"long\\\"\",\"schemaType\":\"PROTOBUF\"}")}) {
    auto [st, bb] = reg.handle("POST", "/subjects/x/versions", "", b);
    EXPECT_EQ(st, 422) << b;
    EXPECT_NE(bb.find("42201"), std::string::npos) << b;
  }
  // A Freshet topic's subject takes only its derived schema.
  EXPECT_EQ(reg.handle("POST", "/subjects/t-value/versions", "", body).first, 409);
  std::string derived = "{\"schema\":";
  json_quote(avro_schema(value, "t", "value"), derived);
  derived += "}";
  auto existing = catalog->lookup("t-value", -1);
  ASSERT_TRUE(existing.has_value());
  EXPECT_EQ(reg.handle("POST", "/subjects/t-value/versions", "", derived),
            std::make_pair(200, "{\"id\":" + std::to_string(existing->id) + "}"));
}

}  // namespace
}  // namespace freshet::kafka
