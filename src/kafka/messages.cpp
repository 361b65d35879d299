#include "kafka/messages.hpp"

#include <algorithm>
#include <array>

namespace freshet::kafka {

namespace {

constexpr std::array<ApiRange, 19> kApis = {{
    {api::kProduce, 3, 8},
    {api::kFetch, 4, 11},
    {api::kListOffsets, 0, 5},
    {api::kMetadata, 0, 8},
    {api::kOffsetCommit, 2, 7},
    {api::kOffsetFetch, 1, 5},
    {api::kFindCoordinator, 0, 2},
    {api::kJoinGroup, 0, 5},
    {api::kHeartbeat, 0, 3},
    {api::kLeaveGroup, 0, 3},
    {api::kSyncGroup, 0, 3},
    {api::kDescribeGroups, 0, 5},
    {api::kListGroups, 0, 4},
    {api::kSaslHandshake, 0, 1},
    {api::kApiVersions, 0, 3},
    {api::kCreateTopics, 0, 4},
    {api::kDeleteTopics, 0, 3},
    {api::kInitProducerId, 0, 1},
    {api::kSaslAuthenticate, 0, 1},
}};

}  // namespace

std::span<const ApiRange> supported_apis() { return kApis; }

const char* api_name(int16_t api_key) {
  switch (api_key) {
    case api::kProduce: return "Produce";
    case api::kFetch: return "Fetch";
    case api::kListOffsets: return "ListOffsets";
    case api::kMetadata: return "Metadata";
    case api::kOffsetCommit: return "OffsetCommit";
    case api::kOffsetFetch: return "OffsetFetch";
    case api::kFindCoordinator: return "FindCoordinator";
    case api::kJoinGroup: return "JoinGroup";
    case api::kHeartbeat: return "Heartbeat";
    case api::kLeaveGroup: return "LeaveGroup";
    case api::kSyncGroup: return "SyncGroup";
    case api::kDescribeGroups: return "DescribeGroups";
    case api::kListGroups: return "ListGroups";
    case api::kSaslHandshake: return "SaslHandshake";
    case api::kApiVersions: return "ApiVersions";
    case api::kCreateTopics: return "CreateTopics";
    case api::kDeleteTopics: return "DeleteTopics";
    case api::kInitProducerId: return "InitProducerId";
    case api::kSaslAuthenticate: return "SaslAuthenticate";
    default: return "Unknown";
  }
}

bool version_supported(int16_t api_key, int16_t version) {
  for (const ApiRange& a : kApis) {
    if (a.api_key == api_key) return version >= a.min_version && version <= a.max_version;
  }
  return false;
}

bool request_is_flexible(int16_t api_key, int16_t version) {
  // The first flexible version of each API we know (from the JSON schemas).
  switch (api_key) {
    case api::kApiVersions: return version >= 3;
    case api::kProduce: return version >= 9;
    case api::kFetch: return version >= 12;
    case api::kListOffsets: return version >= 6;
    case api::kMetadata: return version >= 9;
    case api::kOffsetCommit: return version >= 8;
    case api::kOffsetFetch: return version >= 6;
    case api::kFindCoordinator: return version >= 3;
    case api::kJoinGroup: return version >= 6;
    case api::kHeartbeat: return version >= 4;
    case api::kLeaveGroup: return version >= 4;
    case api::kSyncGroup: return version >= 4;
    case api::kDescribeGroups: return version >= 5;
    case api::kListGroups: return version >= 3;
    case api::kSaslHandshake: return false;
    case api::kCreateTopics: return version >= 5;
    case api::kDeleteTopics: return version >= 4;
    case api::kInitProducerId: return version >= 2;
    case api::kSaslAuthenticate: return version >= 2;
    default: return false;
  }
}

bool response_header_is_flexible(int16_t api_key, int16_t version) {
  if (api_key == api::kApiVersions) return false;
  return request_is_flexible(api_key, version);
}

namespace {

ApiVersionsRequest decode_api_versions(Reader& r, int16_t v) {
  ApiVersionsRequest q;
  if (v >= 3) {
    q.client_software_name = r.compact_string();
    q.client_software_version = r.compact_string();
    r.skip_tagged_fields();
  }
  return q;
}

MetadataRequest decode_metadata(Reader& r, int16_t v) {
  MetadataRequest q;
  int32_t n = r.array_len(2);
  if (n >= 0) {
    q.topics.emplace();
    for (int32_t i = 0; i < n; ++i) q.topics->push_back(r.string());
    if (v == 0 && n == 0) q.topics.reset();  // v0: empty = all
  } else if (v == 0) {
    throw DecodeError("null topics in Metadata v0");
  }
  if (v >= 4) q.allow_auto_topic_creation = r.boolean();
  if (v >= 8) {
    (void)r.boolean();  // include_cluster_authorized_operations
    (void)r.boolean();  // include_topic_authorized_operations
  }
  return q;
}

ListOffsetsRequest decode_list_offsets(Reader& r, int16_t v) {
  ListOffsetsRequest q;
  q.replica_id = r.i32();
  if (v >= 2) q.isolation_level = r.i8();
  int32_t nt = r.array_len(6);
  for (int32_t i = 0; i < nt; ++i) {
    ListOffsetsRequest::Topic t;
    t.name = r.string();
    int32_t np = r.array_len(12);
    for (int32_t j = 0; j < np; ++j) {
      ListOffsetsRequest::Partition p;
      p.partition_index = r.i32();
      if (v >= 4) p.current_leader_epoch = r.i32();
      p.timestamp = r.i64();
      if (v == 0) p.max_num_offsets = r.i32();
      t.partitions.push_back(p);
    }
    q.topics.push_back(std::move(t));
  }
  return q;
}

FetchRequest decode_fetch(Reader& r, int16_t v) {
  FetchRequest q;
  q.replica_id = r.i32();
  q.max_wait_ms = r.i32();
  q.min_bytes = r.i32();
  if (v >= 3) q.max_bytes = r.i32();
  if (v >= 4) q.isolation_level = r.i8();
  if (v >= 7) {
    q.session_id = r.i32();
    q.session_epoch = r.i32();
  }
  int32_t nt = r.array_len(6);
  for (int32_t i = 0; i < nt; ++i) {
    FetchRequest::Topic t;
    t.topic = r.string();
    int32_t np = r.array_len(16);
    for (int32_t j = 0; j < np; ++j) {
      FetchRequest::Partition p;
      p.partition = r.i32();
      if (v >= 9) p.current_leader_epoch = r.i32();
      p.fetch_offset = r.i64();
      if (v >= 5) p.log_start_offset = r.i64();
      p.partition_max_bytes = r.i32();
      t.partitions.push_back(p);
    }
    q.topics.push_back(std::move(t));
  }
  if (v >= 7) {
    int32_t nf = r.array_len(6);
    for (int32_t i = 0; i < nf; ++i) {
      (void)r.string();
      int32_t np = r.array_len(4);
      for (int32_t j = 0; j < np; ++j) (void)r.i32();
    }
  }
  if (v >= 11) q.rack_id = r.string();
  return q;
}

ProduceRequest decode_produce(Reader& r, int16_t v) {
  ProduceRequest q;
  if (v >= 3) q.transactional_id = r.nullable_string();
  q.acks = r.i16();
  q.timeout_ms = r.i32();
  int32_t nt = r.array_len(6);
  for (int32_t i = 0; i < nt; ++i) {
    ProduceRequest::Topic t;
    t.name = r.string();
    int32_t np = r.array_len(8);
    for (int32_t j = 0; j < np; ++j) {
      ProduceRequest::Partition p;
      p.index = r.i32();
      p.records = r.nullable_bytes();
      t.partitions.push_back(std::move(p));
    }
    q.topics.push_back(std::move(t));
  }
  return q;
}

FindCoordinatorRequest decode_find_coordinator(Reader& r, int16_t v) {
  FindCoordinatorRequest q;
  q.key = r.string();
  if (v >= 1) q.key_type = r.i8();
  return q;
}

JoinGroupRequest decode_join_group(Reader& r, int16_t v) {
  JoinGroupRequest q;
  q.group_id = r.string();
  q.session_timeout_ms = r.i32();
  q.rebalance_timeout_ms = v >= 1 ? r.i32() : q.session_timeout_ms;
  q.member_id = r.string();
  if (v >= 5) q.group_instance_id = r.nullable_string();
  q.protocol_type = r.string();
  int32_t n = r.array_len(6);
  for (int32_t i = 0; i < n; ++i) {
    JoinGroupRequest::Protocol p;
    p.name = r.string();
    p.metadata = r.bytes();
    q.protocols.push_back(std::move(p));
  }
  return q;
}

SyncGroupRequest decode_sync_group(Reader& r, int16_t v) {
  SyncGroupRequest q;
  q.group_id = r.string();
  q.generation_id = r.i32();
  q.member_id = r.string();
  if (v >= 3) q.group_instance_id = r.nullable_string();
  int32_t n = r.array_len(6);
  for (int32_t i = 0; i < n; ++i) {
    SyncGroupRequest::Assignment a;
    a.member_id = r.string();
    a.assignment = r.bytes();
    q.assignments.push_back(std::move(a));
  }
  return q;
}

HeartbeatRequest decode_heartbeat(Reader& r, int16_t v) {
  HeartbeatRequest q;
  q.group_id = r.string();
  q.generation_id = r.i32();
  q.member_id = r.string();
  if (v >= 3) q.group_instance_id = r.nullable_string();
  return q;
}

ListGroupsRequest decode_list_groups(Reader& r, int16_t v) {
  ListGroupsRequest q;
  bool flex = v >= 3;
  if (v >= 4) {
    int32_t n = r.arr(flex);
    for (int32_t i = 0; i < n; ++i) q.states_filter.push_back(r.str(flex));
  }
  if (flex) r.skip_tagged_fields();
  return q;
}

DescribeGroupsRequest decode_describe_groups(Reader& r, int16_t v) {
  DescribeGroupsRequest q;
  bool flex = v >= 5;
  int32_t n = r.arr(flex);
  for (int32_t i = 0; i < n; ++i) q.groups.push_back(r.str(flex));
  if (v >= 3) q.include_authorized_operations = r.boolean();
  if (flex) r.skip_tagged_fields();
  return q;
}

LeaveGroupRequest decode_leave_group(Reader& r, int16_t v) {
  LeaveGroupRequest q;
  q.group_id = r.string();
  if (v <= 2) {
    q.member_ids.push_back(r.string());
  } else {
    int32_t n = r.array_len(4);
    for (int32_t i = 0; i < n; ++i) {
      q.member_ids.push_back(r.string());
      (void)r.nullable_string();  // group_instance_id
    }
  }
  return q;
}

OffsetCommitRequest decode_offset_commit(Reader& r, int16_t v) {
  OffsetCommitRequest q;
  q.group_id = r.string();
  if (v >= 1) {
    q.generation_id = r.i32();
    q.member_id = r.string();
  }
  if (v >= 7) q.group_instance_id = r.nullable_string();
  if (v >= 2 && v <= 4) q.retention_time_ms = r.i64();
  int32_t nt = r.array_len(6);
  for (int32_t i = 0; i < nt; ++i) {
    OffsetCommitRequest::Topic t;
    t.name = r.string();
    int32_t np = r.array_len(14);
    for (int32_t j = 0; j < np; ++j) {
      OffsetCommitRequest::Partition p;
      p.partition_index = r.i32();
      p.committed_offset = r.i64();
      if (v >= 6) p.committed_leader_epoch = r.i32();
      if (v == 1) p.commit_timestamp = r.i64();
      p.committed_metadata = r.nullable_string();
      t.partitions.push_back(std::move(p));
    }
    q.topics.push_back(std::move(t));
  }
  return q;
}

OffsetFetchRequest decode_offset_fetch(Reader& r, int16_t v) {
  OffsetFetchRequest q;
  q.group_id = r.string();
  int32_t nt = r.array_len(6);
  if (nt < 0) {
    if (v < 2) throw DecodeError("null topics in OffsetFetch before v2");
    return q;
  }
  q.topics.emplace();
  for (int32_t i = 0; i < nt; ++i) {
    OffsetFetchRequest::Topic t;
    t.name = r.string();
    int32_t np = r.array_len(4);
    for (int32_t j = 0; j < np; ++j) t.partition_indexes.push_back(r.i32());
    q.topics->push_back(std::move(t));
  }
  return q;
}

CreateTopicsRequest decode_create_topics(Reader& r, int16_t v) {
  CreateTopicsRequest q;
  int32_t nt = r.array_len(16);
  for (int32_t i = 0; i < nt; ++i) {
    CreateTopicsRequest::Topic t;
    t.name = r.string();
    t.num_partitions = r.i32();
    t.replication_factor = r.i16();
    int32_t na = r.array_len(8);
    for (int32_t j = 0; j < na; ++j) {
      (void)r.i32();  // partition_index
      int32_t nb = r.array_len(4);
      for (int32_t k = 0; k < nb; ++k) (void)r.i32();  // broker_ids
    }
    t.assignments = static_cast<size_t>(std::max(na, 0));
    int32_t nc = r.array_len(4);
    for (int32_t j = 0; j < nc; ++j) {
      CreateTopicsRequest::Config c;
      c.name = r.string();
      c.value = r.nullable_string();
      t.configs.push_back(std::move(c));
    }
    q.topics.push_back(std::move(t));
  }
  q.timeout_ms = r.i32();
  if (v >= 1) q.validate_only = r.boolean();
  return q;
}

DeleteTopicsRequest decode_delete_topics(Reader& r, int16_t) {
  DeleteTopicsRequest q;
  int32_t n = r.array_len(2);
  for (int32_t i = 0; i < n; ++i) q.topic_names.push_back(r.string());
  q.timeout_ms = r.i32();
  return q;
}

}  // namespace

Request decode_request(std::string_view frame) {
  Reader r(frame);
  Request req;
  req.header.api_key = r.i16();
  req.header.api_version = r.i16();
  req.header.correlation_id = r.i32();
  req.header.client_id = r.nullable_string();  // never compact, even in header v2
  int16_t k = req.header.api_key, v = req.header.api_version;
  if (!version_supported(k, v)) {
    req.body = UnsupportedRequest{};
    return req;
  }
  bool flex = request_is_flexible(k, v);
  if (flex) r.skip_tagged_fields();
  switch (k) {
    case api::kApiVersions: req.body = decode_api_versions(r, v); break;
    case api::kMetadata: req.body = decode_metadata(r, v); break;
    case api::kListOffsets: req.body = decode_list_offsets(r, v); break;
    case api::kFetch: req.body = decode_fetch(r, v); break;
    case api::kProduce: req.body = decode_produce(r, v); break;
    case api::kFindCoordinator: req.body = decode_find_coordinator(r, v); break;
    case api::kJoinGroup: req.body = decode_join_group(r, v); break;
    case api::kSyncGroup: req.body = decode_sync_group(r, v); break;
    case api::kHeartbeat: req.body = decode_heartbeat(r, v); break;
    case api::kLeaveGroup: req.body = decode_leave_group(r, v); break;
    case api::kListGroups: req.body = decode_list_groups(r, v); break;
    case api::kDescribeGroups: req.body = decode_describe_groups(r, v); break;
    case api::kOffsetCommit: req.body = decode_offset_commit(r, v); break;
    case api::kOffsetFetch: req.body = decode_offset_fetch(r, v); break;
    case api::kCreateTopics: req.body = decode_create_topics(r, v); break;
    case api::kDeleteTopics: req.body = decode_delete_topics(r, v); break;
    case api::kSaslHandshake: req.body = SaslHandshakeRequest{r.string()}; break;
    case api::kSaslAuthenticate: req.body = SaslAuthenticateRequest{r.bytes()}; break;
    case api::kInitProducerId: {
      InitProducerIdRequest q;
      q.transactional_id = r.nullable_string();
      q.transaction_timeout_ms = r.i32();
      req.body = std::move(q);
      break;
    }
    default: req.body = UnsupportedRequest{}; return req;
  }
  if (!r.done()) throw DecodeError("trailing bytes after request body");
  return req;
}

// ---- responses ------------------------------------------------------------------------

void encode_api_versions(const ApiVersionsResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  bool flex = v >= 3;
  w.i16(r.error_code);
  w.arr(flex, r.api_keys.size());
  for (const ApiRange& a : r.api_keys) {
    w.i16(a.api_key);
    w.i16(a.min_version);
    w.i16(a.max_version);
    w.tags(flex);
  }
  if (v >= 1) w.i32(r.throttle_time_ms);
  w.tags(flex);
}

void encode_metadata(const MetadataResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  if (v >= 3) w.i32(0);  // throttle_time_ms
  w.array_len(static_cast<int32_t>(r.brokers.size()));
  for (const auto& b : r.brokers) {
    w.i32(b.node_id);
    w.string(b.host);
    w.i32(b.port);
    if (v >= 1) w.null_string();  // rack
  }
  if (v >= 2) w.nullable_string(r.cluster_id);
  if (v >= 1) w.i32(r.controller_id);
  w.array_len(static_cast<int32_t>(r.topics.size()));
  for (const auto& t : r.topics) {
    w.i16(t.error_code);
    w.string(t.name);
    if (v >= 1) w.boolean(false);  // is_internal
    w.array_len(static_cast<int32_t>(t.partitions.size()));
    for (const auto& p : t.partitions) {
      w.i16(p.error_code);
      w.i32(p.partition_index);
      w.i32(p.leader_id);
      if (v >= 7) w.i32(p.leader_epoch);
      w.array_len(1);  // replica_nodes
      w.i32(p.leader_id);
      w.array_len(1);  // isr_nodes
      w.i32(p.leader_id);
      if (v >= 5) w.array_len(0);  // offline_replicas
    }
    if (v >= 8) w.i32(-2147483648);  // topic_authorized_operations: not requested
  }
  if (v >= 8) w.i32(-2147483648);  // cluster_authorized_operations
}

void encode_list_offsets(const ListOffsetsResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  if (v >= 2) w.i32(0);
  w.array_len(static_cast<int32_t>(r.topics.size()));
  for (const auto& t : r.topics) {
    w.string(t.name);
    w.array_len(static_cast<int32_t>(t.partitions.size()));
    for (const auto& p : t.partitions) {
      w.i32(p.partition_index);
      w.i16(p.error_code);
      if (v == 0) {
        if (p.offset >= 0) {
          w.array_len(1);
          w.i64(p.offset);
        } else {
          w.array_len(0);
        }
      } else {
        w.i64(p.timestamp);
        w.i64(p.offset);
        if (v >= 4) w.i32(0);  // leader_epoch
      }
    }
  }
}

void encode_fetch(const FetchResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  if (v >= 1) w.i32(0);
  if (v >= 7) {
    w.i16(r.error_code);
    w.i32(r.session_id);
  }
  w.array_len(static_cast<int32_t>(r.topics.size()));
  for (const auto& t : r.topics) {
    w.string(t.topic);
    w.array_len(static_cast<int32_t>(t.partitions.size()));
    for (const auto& p : t.partitions) {
      w.i32(p.partition);
      w.i16(p.error_code);
      w.i64(p.high_watermark);
      if (v >= 4) w.i64(p.last_stable_offset);
      if (v >= 5) w.i64(p.log_start_offset);
      if (v >= 4) w.array_len(-1);  // aborted_transactions: none (we are not transactional)
      if (v >= 11) w.i32(-1);       // preferred_read_replica
      w.bytes(p.records);
    }
  }
}

void encode_produce(const ProduceResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  w.array_len(static_cast<int32_t>(r.topics.size()));
  for (const auto& t : r.topics) {
    w.string(t.name);
    w.array_len(static_cast<int32_t>(t.partitions.size()));
    for (const auto& p : t.partitions) {
      w.i32(p.index);
      w.i16(p.error_code);
      w.i64(p.base_offset);
      if (v >= 2) w.i64(-1);  // log_append_time_ms: CreateTime topics
      if (v >= 5) w.i64(p.log_start_offset);
      if (v >= 8) {
        w.array_len(0);  // record_errors
        w.nullable_string(p.error_message);
      }
    }
  }
  if (v >= 1) w.i32(0);
}

void encode_find_coordinator(const FindCoordinatorResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  if (v >= 1) w.i32(0);
  w.i16(r.error_code);
  if (v >= 1) w.nullable_string(r.error_message);
  w.i32(r.node_id);
  w.string(r.host);
  w.i32(r.port);
}

void encode_join_group(const JoinGroupResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  if (v >= 2) w.i32(0);
  w.i16(r.error_code);
  w.i32(r.generation_id);
  w.string(r.protocol_name);
  w.string(r.leader);
  w.string(r.member_id);
  w.array_len(static_cast<int32_t>(r.members.size()));
  for (const auto& m : r.members) {
    w.string(m.member_id);
    if (v >= 5) w.nullable_string(m.group_instance_id);
    w.bytes(m.metadata);
  }
}

void encode_sync_group(const SyncGroupResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  if (v >= 1) w.i32(0);
  w.i16(r.error_code);
  w.bytes(r.assignment);
}

void encode_error_only(int16_t error_code, int16_t api_key, int16_t v, std::string& out) {
  Writer w(out);
  // Heartbeat v1+ and LeaveGroup v1+ start with throttle_time_ms.
  if (v >= 1 && (api_key == api::kHeartbeat || api_key == api::kLeaveGroup)) w.i32(0);
  w.i16(error_code);
}

void encode_leave_group(const LeaveGroupResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  if (v >= 1) w.i32(0);
  w.i16(r.error_code);
  if (v >= 3) {
    w.array_len(static_cast<int32_t>(r.members.size()));
    for (const auto& m : r.members) {
      w.string(m.member_id);
      w.null_string();  // group_instance_id
      w.i16(m.error_code);
    }
  }
}

void encode_list_groups(const ListGroupsResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  bool flex = v >= 3;
  if (v >= 1) w.i32(0);  // throttle_time_ms
  w.i16(r.error_code);
  w.arr(flex, r.groups.size());
  for (const auto& g : r.groups) {
    w.str(flex, g.group_id);
    w.str(flex, g.protocol_type);
    if (v >= 4) w.str(flex, g.group_state);
    w.tags(flex);
  }
  w.tags(flex);
}

void encode_describe_groups(const DescribeGroupsResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  bool flex = v >= 5;
  if (v >= 1) w.i32(0);  // throttle_time_ms
  w.arr(flex, r.groups.size());
  for (const auto& g : r.groups) {
    w.i16(g.error_code);
    w.str(flex, g.group_id);
    w.str(flex, g.group_state);
    w.str(flex, g.protocol_type);
    w.str(flex, g.protocol_data);
    w.arr(flex, g.members.size());
    for (const auto& m : g.members) {
      w.str(flex, m.member_id);
      if (v >= 4) w.nstr(flex, m.group_instance_id);
      w.str(flex, m.client_id);
      w.str(flex, m.client_host);
      w.byts(flex, m.member_metadata);
      w.byts(flex, m.member_assignment);
      w.tags(flex);
    }
    if (v >= 3) w.i32(g.authorized_operations);
    w.tags(flex);
  }
  w.tags(flex);
}

void encode_offset_commit(const OffsetCommitResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  if (v >= 3) w.i32(0);
  w.array_len(static_cast<int32_t>(r.topics.size()));
  for (const auto& t : r.topics) {
    w.string(t.name);
    w.array_len(static_cast<int32_t>(t.partitions.size()));
    for (const auto& p : t.partitions) {
      w.i32(p.partition_index);
      w.i16(p.error_code);
    }
  }
}

void encode_offset_fetch(const OffsetFetchResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  if (v >= 3) w.i32(0);
  w.array_len(static_cast<int32_t>(r.topics.size()));
  for (const auto& t : r.topics) {
    w.string(t.name);
    w.array_len(static_cast<int32_t>(t.partitions.size()));
    for (const auto& p : t.partitions) {
      w.i32(p.partition_index);
      w.i64(p.committed_offset);
      if (v >= 5) w.i32(-1);  // committed_leader_epoch
      w.nullable_string(p.metadata);
      w.i16(p.error_code);
    }
  }
  if (v >= 2) w.i16(r.error_code);
}

void encode_sasl_handshake(const SaslHandshakeResponse& r, int16_t, std::string& out) {
  Writer w(out);
  w.i16(r.error_code);
  w.array_len(static_cast<int32_t>(r.mechanisms.size()));
  for (const auto& m : r.mechanisms) w.string(m);
}

void encode_sasl_authenticate(const SaslAuthenticateResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  w.i16(r.error_code);
  w.nullable_string(r.error_message);
  w.bytes(r.auth_bytes);
  if (v >= 1) w.i64(r.session_lifetime_ms);
}

void encode_init_producer_id(const InitProducerIdResponse& r, int16_t, std::string& out) {
  Writer w(out);
  w.i32(0);
  w.i16(r.error_code);
  w.i64(r.producer_id);
  w.i16(r.producer_epoch);
}

void encode_create_topics(const CreateTopicsResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  if (v >= 2) w.i32(0);  // throttle_time_ms
  w.array_len(static_cast<int32_t>(r.topics.size()));
  for (const auto& t : r.topics) {
    w.string(t.name);
    w.i16(t.error_code);
    if (v >= 1) w.nullable_string(t.error_message);
  }
}

void encode_delete_topics(const DeleteTopicsResponse& r, int16_t v, std::string& out) {
  Writer w(out);
  if (v >= 1) w.i32(0);  // throttle_time_ms
  w.array_len(static_cast<int32_t>(r.topics.size()));
  for (const auto& t : r.topics) {
    w.string(t.name);
    w.i16(t.error_code);
  }
}

void encode_unsupported(std::string& out) {
  Writer w(out);
  w.i16(35);
}

std::string frame_response(const RequestHeader& h, std::string_view body) {
  std::string out;
  Writer w(out);
  w.i32(0);
  w.i32(h.correlation_id);
  if (response_header_is_flexible(h.api_key, h.api_version)) w.empty_tagged_fields();
  w.raw(body);
  w.patch_i32(0, static_cast<int32_t>(out.size() - 4));
  return out;
}

}  // namespace freshet::kafka
