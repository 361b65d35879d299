#include "kafka/messages.hpp"

#include <gtest/gtest.h>

namespace freshet::kafka {
namespace {

TEST(Messages, ApiVersionsV3RequestKnownBytes) {
  // What librdkafka 2.x sends first: header v2 (client id "rdkafka", empty tags), body with
  // compact client software name/version and empty tags.
  static const char kBytes[] = "\x00\x12\x00\x03\x00\x00\x00\x01\x00\x07rdkafka\x00"
                              "\x0b" "librdkafka" "\x06" "2.0.2" "\x00";
  std::string frame(kBytes, sizeof(kBytes) - 1);
  Request r = decode_request(frame);
  EXPECT_EQ(r.header.api_key, api::kApiVersions);
  EXPECT_EQ(r.header.api_version, 3);
  EXPECT_EQ(r.header.correlation_id, 1);
  EXPECT_EQ(r.header.client_id, "rdkafka");
  auto* q = std::get_if<ApiVersionsRequest>(&r.body);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->client_software_name, "librdkafka");
  EXPECT_EQ(q->client_software_version, "2.0.2");
}

TEST(Messages, ApiVersionsResponsesV0AndV3) {
  ApiVersionsResponse r{0, {{18, 0, 3}}, 0};
  std::string v0, v3;
  encode_api_versions(r, 0, v0);
  encode_api_versions(r, 3, v3);
  EXPECT_EQ(v0, std::string("\x00\x00" "\x00\x00\x00\x01" "\x00\x12\x00\x00\x00\x03", 12));
  EXPECT_EQ(v3, std::string("\x00\x00" "\x02" "\x00\x12\x00\x00\x00\x03\x00" "\x00\x00\x00\x00" "\x00", 15));
  // The response header of ApiVersions is v0 even for v3 (no tagged fields).
  RequestHeader h{api::kApiVersions, 3, 7, std::nullopt};
  std::string framed = frame_response(h, v3);
  EXPECT_EQ(framed.substr(0, 8), std::string("\x00\x00\x00\x13\x00\x00\x00\x07", 8));
}

TEST(Messages, UnsupportedVersionDecodesHeaderOnly) {
  std::string frame("\x00\x01\x00\x63\x00\x00\x00\x05\xff\xffgarbage", 17);
  Request r = decode_request(frame);
  EXPECT_TRUE(std::holds_alternative<UnsupportedRequest>(r.body));
  EXPECT_EQ(r.header.correlation_id, 5);
  EXPECT_FALSE(r.header.client_id.has_value());
}

std::string header(int16_t key, int16_t version, int32_t corr) {
  std::string out;
  Writer w(out);
  w.i16(key);
  w.i16(version);
  w.i32(corr);
  w.string("test");
  return out;
}

TEST(Messages, FetchV11Decode) {
  std::string f = header(api::kFetch, 11, 9);
  Writer w(f);
  w.i32(-1);
  w.i32(500);
  w.i32(1);
  w.i32(52428800);
  w.i8(0);
  w.i32(0);
  w.i32(-1);
  w.array_len(1);
  w.string("t");
  w.array_len(1);
  w.i32(2);   // partition
  w.i32(-1);  // current leader epoch
  w.i64(42);
  w.i64(-1);
  w.i32(1048576);
  w.array_len(0);  // forgotten
  w.string("");    // rack
  Request r = decode_request(f);
  auto* q = std::get_if<FetchRequest>(&r.body);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->max_wait_ms, 500);
  ASSERT_EQ(q->topics.size(), 1u);
  EXPECT_EQ(q->topics[0].partitions[0].partition, 2);
  EXPECT_EQ(q->topics[0].partitions[0].fetch_offset, 42);
  // Trailing garbage is a malformed frame.
  f.push_back('x');
  EXPECT_THROW(decode_request(f), DecodeError);
}

TEST(Messages, MetadataV0EmptyMeansAllAndV1NullMeansAll) {
  std::string v0 = header(api::kMetadata, 0, 1);
  Writer(v0).array_len(0);
  EXPECT_FALSE(std::get<MetadataRequest>(decode_request(v0).body).topics.has_value());
  std::string v1 = header(api::kMetadata, 1, 1);
  Writer(v1).array_len(0);
  EXPECT_TRUE(std::get<MetadataRequest>(decode_request(v1).body).topics.has_value());
  std::string v4 = header(api::kMetadata, 4, 1);
  Writer w(v4);
  w.array_len(-1);
  w.boolean(false);
  EXPECT_FALSE(std::get<MetadataRequest>(decode_request(v4).body).topics.has_value());
}

TEST(Messages, MetadataV8ResponseLayout) {
  MetadataResponse r;
  r.brokers.push_back({0, "h", 9092});
  r.cluster_id = "c";
  r.topics.push_back({0, "t", {{0, 0, 0, 0}}});
  std::string out;
  encode_metadata(r, 8, out);
  Reader rd(out);
  EXPECT_EQ(rd.i32(), 0);  // throttle
  EXPECT_EQ(rd.array_len(), 1);
  EXPECT_EQ(rd.i32(), 0);
  EXPECT_EQ(rd.string(), "h");
  EXPECT_EQ(rd.i32(), 9092);
  EXPECT_FALSE(rd.nullable_string().has_value());
  EXPECT_EQ(rd.nullable_string(), "c");
  EXPECT_EQ(rd.i32(), 0);  // controller
  EXPECT_EQ(rd.array_len(), 1);
  EXPECT_EQ(rd.i16(), 0);
  EXPECT_EQ(rd.string(), "t");
  EXPECT_FALSE(rd.boolean());
  EXPECT_EQ(rd.array_len(), 1);
  EXPECT_EQ(rd.i16(), 0);
  EXPECT_EQ(rd.i32(), 0);  // partition
  EXPECT_EQ(rd.i32(), 0);  // leader
  EXPECT_EQ(rd.i32(), 0);  // leader epoch
  EXPECT_EQ(rd.array_len(), 1);
  EXPECT_EQ(rd.i32(), 0);
  EXPECT_EQ(rd.array_len(), 1);
  EXPECT_EQ(rd.i32(), 0);
  EXPECT_EQ(rd.array_len(), 0);
  EXPECT_EQ(rd.i32(), INT32_MIN);
  EXPECT_EQ(rd.i32(), INT32_MIN);
  EXPECT_TRUE(rd.done());
}

TEST(Messages, GroupRequestsDecode) {
  std::string j = header(api::kJoinGroup, 5, 3);
  Writer w(j);
  w.string("g");
  w.i32(30000);
  w.i32(60000);
  w.string("");
  w.nullable_string(std::nullopt);
  w.string("consumer");
  w.array_len(2);
  w.string("range");
  w.bytes("m1");
  w.string("roundrobin");
  w.bytes("m2");
  auto q = std::get<JoinGroupRequest>(decode_request(j).body);
  EXPECT_EQ(q.group_id, "g");
  EXPECT_EQ(q.rebalance_timeout_ms, 60000);
  ASSERT_EQ(q.protocols.size(), 2u);
  EXPECT_EQ(q.protocols[1].metadata, "m2");

  std::string c = header(api::kOffsetCommit, 2, 4);
  Writer cw(c);
  cw.string("g");
  cw.i32(1);
  cw.string("m");
  cw.i64(-1);
  cw.array_len(1);
  cw.string("t");
  cw.array_len(1);
  cw.i32(0);
  cw.i64(17);
  cw.nullable_string(std::nullopt);
  auto oc = std::get<OffsetCommitRequest>(decode_request(c).body);
  EXPECT_EQ(oc.topics[0].partitions[0].committed_offset, 17);
  EXPECT_EQ(oc.generation_id, 1);
}

TEST(Messages, ListGroupsRequests) {
  // v0-2: an empty body.
  Request r0 = decode_request(header(api::kListGroups, 2, 11));
  ASSERT_TRUE(std::holds_alternative<ListGroupsRequest>(r0.body));
  EXPECT_TRUE(std::get<ListGroupsRequest>(r0.body).states_filter.empty());
  // v4 (flexible): header v2 (client id, empty tags), compact array of states, body tags.
  std::string f = header(api::kListGroups, 4, 12);
  f += std::string("\x00" "\x03" "\x07" "Stable" "\x06" "Empty" "\x00", 16);
  auto q = std::get<ListGroupsRequest>(decode_request(f).body);
  EXPECT_EQ(q.states_filter, (std::vector<std::string>{"Stable", "Empty"}));
  // A truncated states array is a decode error, not a crash.
  std::string bad = header(api::kListGroups, 4, 13) + std::string("\x00\x05\x07Sta", 6);
  EXPECT_THROW(decode_request(bad), DecodeError);
}

TEST(Messages, ListGroupsResponses) {
  ListGroupsResponse r;
  r.groups.push_back({"g1", "consumer", "Stable"});
  std::string v0, v1, v4;
  encode_list_groups(r, 0, v0);
  encode_list_groups(r, 1, v1);
  encode_list_groups(r, 4, v4);
  // v0: error_code, [group_id, protocol_type].
  EXPECT_EQ(v0, std::string("\x00\x00" "\x00\x00\x00\x01" "\x00\x02g1" "\x00\x08" "consumer", 20));
  // v1 adds throttle_time_ms first.
  EXPECT_EQ(v1, std::string("\x00\x00\x00\x00", 4) + v0);
  // v4: compact strings and arrays, group_state, tags after each group and the body.
  EXPECT_EQ(v4, std::string("\x00\x00\x00\x00" "\x00\x00" "\x02" "\x03g1" "\x09" "consumer" "\x07" "Stable" "\x00" "\x00", 28));
}

TEST(Messages, DescribeGroupsRequests) {
  std::string f0 = header(api::kDescribeGroups, 0, 21);
  Writer w(f0);
  w.array_len(2);
  w.string("a");
  w.string("b");
  auto q0 = std::get<DescribeGroupsRequest>(decode_request(f0).body);
  EXPECT_EQ(q0.groups, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(q0.include_authorized_operations);
  std::string f3 = header(api::kDescribeGroups, 3, 22);
  Writer w3(f3);
  w3.array_len(1);
  w3.string("a");
  w3.boolean(true);
  EXPECT_TRUE(std::get<DescribeGroupsRequest>(decode_request(f3).body).include_authorized_operations);
  std::string f5 = header(api::kDescribeGroups, 5, 23) + std::string("\x00" "\x02" "\x02g" "\x00" "\x00", 6);
  auto q5 = std::get<DescribeGroupsRequest>(decode_request(f5).body);
  EXPECT_EQ(q5.groups, std::vector<std::string>{"g"});
  // Bytes after the body are refused.
  std::string trailing = f0 + "x";
  EXPECT_THROW(decode_request(trailing), DecodeError);
}

TEST(Messages, DescribeGroupsResponses) {
  DescribeGroupsResponse r;
  DescribeGroupsResponse::Group g;
  g.group_id = "g";
  g.group_state = "Stable";
  g.protocol_type = "consumer";
  g.protocol_data = "range";
  g.members.push_back({"m", std::nullopt, "c", "/h", "MD", "AS"});
  r.groups.push_back(g);
  std::string v0, v3, v4, v5;
  encode_describe_groups(r, 0, v0);
  encode_describe_groups(r, 3, v3);
  encode_describe_groups(r, 4, v4);
  encode_describe_groups(r, 5, v5);
  const std::string member0("\x00\x01m" "\x00\x01" "c" "\x00\x02/h" "\x00\x00\x00\x02MD" "\x00\x00\x00\x02" "AS", 22);
  const std::string group_head("\x00\x00" "\x00\x01g" "\x00\x06Stable" "\x00\x08" "consumer" "\x00\x05range", 30);
  EXPECT_EQ(v0, std::string("\x00\x00\x00\x01", 4) + group_head + std::string("\x00\x00\x00\x01", 4) + member0);
  // v3: throttle first, authorized_operations (INT32_MIN: not requested) after the members.
  EXPECT_EQ(v3, std::string("\x00\x00\x00\x00" "\x00\x00\x00\x01", 8) + group_head + std::string("\x00\x00\x00\x01", 4) +
                    member0 + std::string("\x80\x00\x00\x00", 4));
  // v4: group_instance_id (null) after member_id.
  const std::string member4("\x00\x01m" "\xff\xff" "\x00\x01" "c" "\x00\x02/h" "\x00\x00\x00\x02MD" "\x00\x00\x00\x02" "AS", 24);
  EXPECT_EQ(v4, std::string("\x00\x00\x00\x00" "\x00\x00\x00\x01", 8) + group_head + std::string("\x00\x00\x00\x01", 4) +
                    member4 + std::string("\x80\x00\x00\x00", 4));
  // v5: flexible.
  EXPECT_EQ(v5, std::string("\x00\x00\x00\x00" "\x02" "\x00\x00" "\x02g" "\x07Stable" "\x09" "consumer" "\x06range"
                            "\x02" "\x02m" "\x00" "\x02" "c" "\x03/h" "\x03MD" "\x03" "AS" "\x00"
                            "\x80\x00\x00\x00" "\x00" "\x00", 53));
}

TEST(Messages, ApiVersionsAdvertisesGroupIntrospection) {
  bool list = false, describe = false;
  for (const ApiRange& a : supported_apis()) {
    if (a.api_key == api::kListGroups) list = a.min_version == 0 && a.max_version == 4;
    if (a.api_key == api::kDescribeGroups) describe = a.min_version == 0 && a.max_version == 5;
  }
  EXPECT_TRUE(list);
  EXPECT_TRUE(describe);
  EXPECT_STREQ(api_name(api::kListGroups), "ListGroups");
}

}  // namespace
}  // namespace freshet::kafka
