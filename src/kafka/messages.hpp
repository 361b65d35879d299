#pragma once
// Kafka request and response messages, hand-written from apache/kafka's JSON message
// schemas (clients/src/main/resources/common/message/*.json): request decoders and response
// encoders for the APIs and versions in kSupportedApis. Field names follow the schemas in
// snake_case; a field exists in the versions the schema gives, and the codecs read or write it
// only there.
//
// Only ApiVersions v3 uses the flexible encoding (compact strings/arrays, tagged fields)
// among the versions we accept, but Reader/Writer support it everywhere (versions above
// those in kSupportedApis are answered with UNSUPPORTED_VERSION, so a client negotiates down).

#include <climits>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "kafka/wire.hpp"

namespace freshet::kafka {

namespace api {
inline constexpr int16_t kProduce = 0;
inline constexpr int16_t kFetch = 1;
inline constexpr int16_t kListOffsets = 2;
inline constexpr int16_t kMetadata = 3;
inline constexpr int16_t kOffsetCommit = 8;
inline constexpr int16_t kOffsetFetch = 9;
inline constexpr int16_t kFindCoordinator = 10;
inline constexpr int16_t kJoinGroup = 11;
inline constexpr int16_t kHeartbeat = 12;
inline constexpr int16_t kLeaveGroup = 13;
inline constexpr int16_t kSyncGroup = 14;
inline constexpr int16_t kDescribeGroups = 15;
inline constexpr int16_t kListGroups = 16;
inline constexpr int16_t kSaslHandshake = 17;
inline constexpr int16_t kApiVersions = 18;
inline constexpr int16_t kCreateTopics = 19;
inline constexpr int16_t kDeleteTopics = 20;
inline constexpr int16_t kInitProducerId = 22;
inline constexpr int16_t kSaslAuthenticate = 36;
}  // namespace api

struct ApiRange {
  int16_t api_key;
  int16_t min_version;
  int16_t max_version;
};
// The APIs and versions this broker serves (what ApiVersions advertises).
std::span<const ApiRange> supported_apis();
// The API's name in the Kafka protocol guide ("Produce", "Fetch", ...); "Unknown" otherwise.
const char* api_name(int16_t api_key);
bool version_supported(int16_t api_key, int16_t version);
// Whether a request with this key/version uses request header v2 (flexible); ApiVersions'
// response header is always v0 (no tagged fields), the spec's one exception.
bool request_is_flexible(int16_t api_key, int16_t version);
bool response_header_is_flexible(int16_t api_key, int16_t version);

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
};

// ---- requests -------------------------------------------------------------------------

struct ApiVersionsRequest {
  std::string client_software_name;  // v3+
  std::string client_software_version;
};

struct MetadataRequest {
  std::optional<std::vector<std::string>> topics;  // nullopt = all topics
  bool allow_auto_topic_creation = true;           // v4+
};

struct ListOffsetsRequest {
  int32_t replica_id = -1;
  int8_t isolation_level = 0;  // v2+
  struct Partition {
    int32_t partition_index = 0;
    int32_t current_leader_epoch = -1;  // v4+
    int64_t timestamp = 0;              // -1 latest, -2 earliest
    int32_t max_num_offsets = 1;        // v0
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> topics;
};

struct FetchRequest {
  int32_t replica_id = -1;
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;
  int32_t max_bytes = 0x7fffffff;  // v3+
  int8_t isolation_level = 0;      // v4+
  int32_t session_id = 0;          // v7+
  int32_t session_epoch = -1;      // v7+
  struct Partition {
    int32_t partition = 0;
    int32_t current_leader_epoch = -1;  // v9+
    int64_t fetch_offset = 0;
    int64_t log_start_offset = -1;  // v5+
    int32_t partition_max_bytes = 0;
  };
  struct Topic {
    std::string topic;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> topics;
  std::string rack_id;  // v11+
};

struct ProduceRequest {
  std::optional<std::string> transactional_id;  // v3+
  int16_t acks = -1;
  int32_t timeout_ms = 0;
  struct Partition {
    int32_t index = 0;
    std::optional<std::string> records;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> topics;
};

struct FindCoordinatorRequest {
  std::string key;
  int8_t key_type = 0;  // v1+: 0 group, 1 transaction
};

struct JoinGroupRequest {
  std::string group_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = -1;  // v1+ (v0: = session timeout)
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v5+
  std::string protocol_type;
  struct Protocol {
    std::string name;
    std::string metadata;
  };
  std::vector<Protocol> protocols;
};

struct SyncGroupRequest {
  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+
  struct Assignment {
    std::string member_id;
    std::string assignment;
  };
  std::vector<Assignment> assignments;
};

struct HeartbeatRequest {
  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+
};

struct LeaveGroupRequest {
  std::string group_id;
  std::vector<std::string> member_ids;  // v0-2: one; v3+: the members array
};

struct OffsetCommitRequest {
  std::string group_id;
  int32_t generation_id = -1;  // v1+
  std::string member_id;       // v1+
  std::optional<std::string> group_instance_id;  // v7+
  int64_t retention_time_ms = -1;                // v2-4
  struct Partition {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;
    int32_t committed_leader_epoch = -1;  // v6+
    int64_t commit_timestamp = -1;        // v1
    std::optional<std::string> committed_metadata;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> topics;
};

struct OffsetFetchRequest {
  std::string group_id;
  struct Topic {
    std::string name;
    std::vector<int32_t> partition_indexes;
  };
  std::optional<std::vector<Topic>> topics;  // nullopt (v2+) = every committed partition
};

struct SaslHandshakeRequest {
  std::string mechanism;
};

struct SaslAuthenticateRequest {
  std::string auth_bytes;
};

struct InitProducerIdRequest {
  std::optional<std::string> transactional_id;
  int32_t transaction_timeout_ms = 0;
};

struct CreateTopicsRequest {
  struct Config {
    std::string name;
    std::optional<std::string> value;
  };
  struct Topic {
    std::string name;
    int32_t num_partitions = -1;      // -1: the broker's default (v4+; accepted in every version)
    int16_t replication_factor = -1;  // -1: the broker's default
    size_t assignments = 0;           // manual replica assignments (decoded, refused when given)
    std::vector<Config> configs;
  };
  std::vector<Topic> topics;
  int32_t timeout_ms = 0;
  bool validate_only = false;  // v1+
};

struct DeleteTopicsRequest {
  std::vector<std::string> topic_names;
  int32_t timeout_ms = 0;
};

struct ListGroupsRequest {
  std::vector<std::string> states_filter;  // v4+: only groups in these states ("" = all)
};

struct DescribeGroupsRequest {
  std::vector<std::string> groups;
  bool include_authorized_operations = false;  // v3+
};

// A request whose key/version we do not serve: only the header was decoded.
struct UnsupportedRequest {};

using RequestBody =
    std::variant<UnsupportedRequest, ApiVersionsRequest, MetadataRequest, ListOffsetsRequest, FetchRequest,
                 ProduceRequest, FindCoordinatorRequest, JoinGroupRequest, SyncGroupRequest, HeartbeatRequest,
                 LeaveGroupRequest, OffsetCommitRequest, OffsetFetchRequest, SaslHandshakeRequest,
                 SaslAuthenticateRequest, InitProducerIdRequest, CreateTopicsRequest, DeleteTopicsRequest,
                 ListGroupsRequest, DescribeGroupsRequest>;

struct Request {
  RequestHeader header;
  RequestBody body;
};

// Decodes one request frame (the bytes after the int32 size). Throws DecodeError when the
// frame is malformed or has bytes left over. An unsupported key/version decodes the header
// only (body = UnsupportedRequest): the caller answers UNSUPPORTED_VERSION.
Request decode_request(std::string_view frame);

// ---- responses ------------------------------------------------------------------------
// Each encode_* appends the response body for the given version to out; the caller frames
// it (size, correlation id, header tags).

struct ApiVersionsResponse {
  int16_t error_code = 0;
  std::vector<ApiRange> api_keys;
  int32_t throttle_time_ms = 0;
};
void encode_api_versions(const ApiVersionsResponse& r, int16_t version, std::string& out);

struct MetadataResponse {
  struct Broker {
    int32_t node_id = 0;
    std::string host;
    int32_t port = 0;
  };
  struct Partition {
    int16_t error_code = 0;
    int32_t partition_index = 0;
    int32_t leader_id = 0;
    int32_t leader_epoch = 0;
  };
  struct Topic {
    int16_t error_code = 0;
    std::string name;
    std::vector<Partition> partitions;
  };
  std::vector<Broker> brokers;
  std::string cluster_id;
  int32_t controller_id = 0;
  std::vector<Topic> topics;
};
void encode_metadata(const MetadataResponse& r, int16_t version, std::string& out);

struct ListOffsetsResponse {
  struct Partition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    int64_t timestamp = -1;
    int64_t offset = -1;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> topics;
};
void encode_list_offsets(const ListOffsetsResponse& r, int16_t version, std::string& out);

struct FetchResponse {
  int16_t error_code = 0;  // v7+
  int32_t session_id = 0;  // v7+
  struct Partition {
    int32_t partition = 0;
    int16_t error_code = 0;
    int64_t high_watermark = -1;
    int64_t last_stable_offset = -1;  // v4+
    int64_t log_start_offset = -1;    // v5+
    std::string records;              // concatenated record batches
  };
  struct Topic {
    std::string topic;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> topics;
};
void encode_fetch(const FetchResponse& r, int16_t version, std::string& out);

struct ProduceResponse {
  struct Partition {
    int32_t index = 0;
    int16_t error_code = 0;
    int64_t base_offset = -1;
    int64_t log_start_offset = -1;  // v5+
    std::optional<std::string> error_message;  // v8+
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> topics;
};
void encode_produce(const ProduceResponse& r, int16_t version, std::string& out);

struct FindCoordinatorResponse {
  int16_t error_code = 0;
  std::optional<std::string> error_message;
  int32_t node_id = 0;
  std::string host;
  int32_t port = 0;
};
void encode_find_coordinator(const FindCoordinatorResponse& r, int16_t version, std::string& out);

struct JoinGroupResponse {
  int16_t error_code = 0;
  int32_t generation_id = -1;
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string metadata;
  };
  std::vector<Member> members;
};
void encode_join_group(const JoinGroupResponse& r, int16_t version, std::string& out);

struct SyncGroupResponse {
  int16_t error_code = 0;
  std::string assignment;
};
void encode_sync_group(const SyncGroupResponse& r, int16_t version, std::string& out);

// Heartbeat, LeaveGroup (v0-2) and others that are just an error code.
void encode_error_only(int16_t error_code, int16_t api_key, int16_t version, std::string& out);

struct LeaveGroupResponse {
  int16_t error_code = 0;
  struct Member {
    std::string member_id;
    int16_t error_code = 0;
  };
  std::vector<Member> members;  // v3+
};
void encode_leave_group(const LeaveGroupResponse& r, int16_t version, std::string& out);

// ListGroups (API 16, v0-4; flexible from v3): the groups of this coordinator.
struct ListGroupsResponse {
  int16_t error_code = 0;
  struct Group {
    std::string group_id;
    std::string protocol_type;
    std::string group_state;  // v4+
  };
  std::vector<Group> groups;
};
void encode_list_groups(const ListGroupsResponse& r, int16_t version, std::string& out);

// DescribeGroups (API 15, v0-5; flexible from v5). An unknown group is described with
// error 0 and state "Dead", as Kafka does.
struct DescribeGroupsResponse {
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v4+
    std::string client_id;
    std::string client_host;
    std::string member_metadata;    // the chosen protocol's metadata (bytes)
    std::string member_assignment;  // the leader's assignment for it (bytes)
  };
  struct Group {
    int16_t error_code = 0;
    std::string group_id;
    std::string group_state;    // Empty, PreparingRebalance, CompletingRebalance, Stable, Dead
    std::string protocol_type;  // "consumer"
    std::string protocol_data;  // the chosen protocol ("range", ...), "" while rebalancing
    std::vector<Member> members;
    int32_t authorized_operations = INT32_MIN;  // v3+; INT32_MIN: not requested
  };
  std::vector<Group> groups;
};
void encode_describe_groups(const DescribeGroupsResponse& r, int16_t version, std::string& out);

struct OffsetCommitResponse {
  struct Partition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> topics;
};
void encode_offset_commit(const OffsetCommitResponse& r, int16_t version, std::string& out);

struct OffsetFetchResponse {
  struct Partition {
    int32_t partition_index = 0;
    int64_t committed_offset = -1;
    std::optional<std::string> metadata;
    int16_t error_code = 0;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> topics;
  int16_t error_code = 0;  // v2+
};
void encode_offset_fetch(const OffsetFetchResponse& r, int16_t version, std::string& out);

struct SaslHandshakeResponse {
  int16_t error_code = 0;
  std::vector<std::string> mechanisms;
};
void encode_sasl_handshake(const SaslHandshakeResponse& r, int16_t version, std::string& out);

struct SaslAuthenticateResponse {
  int16_t error_code = 0;
  std::optional<std::string> error_message;
  std::string auth_bytes;
  int64_t session_lifetime_ms = 0;  // v1+
};
void encode_sasl_authenticate(const SaslAuthenticateResponse& r, int16_t version, std::string& out);

struct InitProducerIdResponse {
  int16_t error_code = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};
void encode_init_producer_id(const InitProducerIdResponse& r, int16_t version, std::string& out);

struct CreateTopicsResponse {
  struct Topic {
    std::string name;
    int16_t error_code = 0;
    std::optional<std::string> error_message;  // v1+
  };
  std::vector<Topic> topics;
};
void encode_create_topics(const CreateTopicsResponse& r, int16_t version, std::string& out);

struct DeleteTopicsResponse {
  struct Topic {
    std::string name;
    int16_t error_code = 0;
  };
  std::vector<Topic> topics;
};
void encode_delete_topics(const DeleteTopicsResponse& r, int16_t version, std::string& out);

// The response to a request we cannot decode the body of (unknown key or version): the
// correlation id then an int16 error code, which is how every response body of the APIs we
// know starts or what ApiVersions v0 reads.
void encode_unsupported(std::string& out);

// Frames a response: int32 size, correlation id, (flexible header: empty tagged fields),
// then body.
std::string frame_response(const RequestHeader& h, std::string_view body);

}  // namespace freshet::kafka
