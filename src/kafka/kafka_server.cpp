#include "kafka/kafka_server.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "kafka/errors.hpp"
#include "kafka/record_batch.hpp"

namespace freshet::kafka {

namespace {
template <typename T>
const T* get(const Request& r) {
  return std::get_if<T>(&r.body);
}
}  // namespace

KafkaServer::KafkaServer(KafkaBackend& backend, SchemaCatalog& catalog, KafkaServerOptions options)
    : backend_(backend),
      catalog_(catalog),
      options_(std::move(options)),
      groups_(options_.groups),
      gate_(options_.max_pending_connections, options_.max_connections) {}

KafkaServer::~KafkaServer() { stop(); }

Status KafkaServer::start() {
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
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

void KafkaServer::stop() {
  if (stopping_.exchange(true)) return;
  groups_.shutdown();
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  std::unique_lock lock(mutex_);
  fetch_cv_.notify_all();
  for (auto& [fd, c] : connections_) c->shutdown();
  // A connection blocked in Fetch wakes by max_wait_ms_cap at the latest.
  idle_cv_.wait(lock, [&] { return active_ == 0; });
}

void KafkaServer::accept_loop() {
  while (!stopping_) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      return;
    }
    auto conn = std::make_shared<Connection>(fd, tls_.get());
    conn->set_idle_timeout(options_.idle_timeout_ms);
    std::lock_guard lock(mutex_);
    // Threads: at most max_connections established plus max_pending_connections pending, and
    // the evicted ones on their way out.
    if (active_ >= options_.max_connections + 2 * options_.max_pending_connections) continue;  // conn closes
    ConnectionGate::TicketPtr ticket = gate_.admit(fd);
    ++active_;
    accepted_.fetch_add(1, std::memory_order_relaxed);
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

bool KafkaServer::read_frame(Connection& conn, std::string& frame, size_t limit, bool raw_sasl) {
  char size_buf[4];
  if (!conn.read_exact(size_buf, 4)) return false;
  uint32_t size = (static_cast<uint32_t>(static_cast<uint8_t>(size_buf[0])) << 24) |
                  (static_cast<uint32_t>(static_cast<uint8_t>(size_buf[1])) << 16) |
                  (static_cast<uint32_t>(static_cast<uint8_t>(size_buf[2])) << 8) |
                  static_cast<uint32_t>(static_cast<uint8_t>(size_buf[3]));
  if ((size < 8 && !raw_sasl) || size > limit) return false;
  // Grow as bytes arrive: the announced size is only a claim.
  frame.clear();
  constexpr size_t kChunk = 64 * 1024;
  while (frame.size() < size) {
    size_t have = frame.size();
    size_t want = std::min<size_t>(size - have, kChunk);
    frame.resize(have + want);
    size_t got = conn.read_some(frame.data() + have, want);
    frame.resize(have + got);
    if (got == 0) return false;
  }
  return true;
}

namespace {

// The numeric address of a socket's peer ("" when unknown).
std::string peer_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  char host[NI_MAXHOST];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof(host), nullptr, 0, NI_NUMERICHOST) != 0) return "";
  return host;
}

}  // namespace

size_t KafkaServer::open_connections() {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

void KafkaServer::serve(std::shared_ptr<Connection> conn, ConnectionGate::Ticket& ticket) {
  ConnState state;
  state.authenticated = !options_.sasl_required;
  state.client_host = peer_address(conn->fd());
  bool promoted = false;
  if (conn->handshake()) {
    std::string frame;
    for (;;) {
      if (frame.capacity() > (1u << 20)) std::string().swap(frame);  // a big request's buffer goes
      size_t limit = state.authenticated ? options_.max_request_bytes : options_.max_preauth_request_bytes;
      if (!read_frame(*conn, frame, limit, state.raw_sasl)) break;
      if (state.raw_sasl) {
        // SASL v0 (KIP-43): bare tokens framed only by their int32 length, both ways.
        SaslAuthenticateResponse r = sasl_authenticate(frame, state);
        if (r.error_code != 0) break;
        std::string out;
        Writer(out).bytes(r.auth_bytes);
        if (!conn->write_all(out)) break;
        state.raw_sasl = !state.authenticated;
        continue;
      }
      std::optional<std::string> response;
      try {
        Request req = decode_request(frame);
        response = handle(req, state);
        int16_t key = req.header.api_key;
        if (key >= 0 && key <= kMaxApiKey) {
          ApiCounters& c = api_counters_[static_cast<size_t>(key)];
          c.requests.fetch_add(1, std::memory_order_relaxed);
          c.bytes_in.fetch_add(frame.size() + 4, std::memory_order_relaxed);
          if (response) c.bytes_out.fetch_add(response->size(), std::memory_order_relaxed);
        }
      } catch (const DecodeError& e) {
        break;  // malformed: close this connection only
      } catch (const std::exception& e) {
        std::fprintf(stderr, "kafka: closing a connection after an unexpected error: %s\n", e.what());
        break;
      }
      bool sent = !response || conn->write_all(*response);
      response.reset();
      release_fetch_bytes(state);
      if (!sent || state.close) break;
      if (!promoted && state.authenticated) {
        // Authenticated (or no SASL) and one request done: no longer counted as pending.
        if (gate_.promote(ticket) != ConnectionGate::Promote::kOk) break;
        promoted = true;
      }
    }
  }
  release_fetch_bytes(state);
  // Before active_ drops (stop() may then destroy the gate), and before conn closes the fd.
  gate_.release(ticket);
  std::lock_guard lock(mutex_);
  connections_.erase(conn->fd());
  if (--active_ == 0) idle_cv_.notify_all();
}

std::string KafkaServer::advertised_host() const {
  if (!options_.advertised_host.empty()) return options_.advertised_host;
  if (options_.host.empty() || options_.host == "0.0.0.0" || options_.host == "::") return "127.0.0.1";
  return options_.host;
}

int32_t KafkaServer::advertised_port() const {
  return options_.advertised_port != 0 ? options_.advertised_port : port_;
}

std::optional<std::string> KafkaServer::handle(const Request& req, ConnState& st) {
  const RequestHeader& h = req.header;
  const int16_t v = h.api_version;
  using GroupOp = KafkaBackend::GroupOperation;
  if (h.client_id) st.client_id = *h.client_id;
  if (!st.authenticated && h.api_key != api::kApiVersions && h.api_key != api::kSaslHandshake &&
      h.api_key != api::kSaslAuthenticate) {
    st.close = true;  // Kafka closes a connection that skips authentication
    return std::nullopt;
  }
  std::string body;
  if (std::holds_alternative<UnsupportedRequest>(req.body)) {
    if (h.api_key == api::kApiVersions) {
      ApiVersionsResponse r{error::kUnsupportedVersion, {supported_apis().begin(), supported_apis().end()}, 0};
      encode_api_versions(r, 0, body);
      RequestHeader v0 = h;
      v0.api_version = 0;
      return frame_response(v0, body);
    }
    encode_unsupported(body);
    RequestHeader v0 = h;
    v0.api_key = -1;  // header v0
    return frame_response(v0, body);
  }
  if (get<ApiVersionsRequest>(req)) {
    ApiVersionsResponse r{0, {supported_apis().begin(), supported_apis().end()}, 0};
    encode_api_versions(r, v, body);
  } else if (auto* m = get<MetadataRequest>(req)) {
    body = handle_metadata(*m, v, st.principal);
  } else if (auto* lo = get<ListOffsetsRequest>(req)) {
    body = handle_list_offsets(*lo, v, st.principal);
  } else if (auto* f = get<FetchRequest>(req)) {
    body = handle_fetch(*f, v, st);
  } else if (auto* p = get<ProduceRequest>(req)) {
    body = handle_produce(*p, v, st.principal);
    if (p->acks == 0) return std::nullopt;
  } else if (auto* fc = get<FindCoordinatorRequest>(req)) {
    // Consumer groups are authorized per request (README.md "Authorization"): Kafka's Read on
    // the group for membership and commits, Describe for lookups; GROUP_AUTHORIZATION_FAILED.
    FindCoordinatorResponse r;
    if (fc->key_type == 0 && !backend_.authorize_group(st.principal, fc->key, GroupOp::kDescribe)) {
      r.error_code = error::kGroupAuthorizationFailed;
      r.node_id = -1;
      r.port = -1;
    } else {
      r.node_id = 0;
      r.host = advertised_host();
      r.port = advertised_port();
    }
    encode_find_coordinator(r, v, body);
  } else if (auto* j = get<JoinGroupRequest>(req)) {
    if (!backend_.authorize_group(st.principal, j->group_id, GroupOp::kRead)) {
      JoinGroupResponse r;
      r.error_code = error::kGroupAuthorizationFailed;
      r.member_id = j->member_id;
      encode_join_group(r, v, body);
    } else {
      encode_join_group(groups_.join(*j, st.client_id, st.client_host), v, body);
    }
  } else if (auto* lg = get<ListGroupsRequest>(req)) {
    ListGroupsResponse r = groups_.list_groups(lg->states_filter);
    std::erase_if(r.groups, [&](const ListGroupsResponse::Group& g) {
      return !backend_.authorize_group(st.principal, g.group_id, GroupOp::kDescribe);
    });
    encode_list_groups(r, v, body);
  } else if (auto* dg = get<DescribeGroupsRequest>(req)) {
    DescribeGroupsResponse r = groups_.describe_groups(*dg);
    for (auto& g : r.groups) {
      if (!backend_.authorize_group(st.principal, g.group_id, GroupOp::kDescribe)) {
        DescribeGroupsResponse::Group denied;
        denied.error_code = error::kGroupAuthorizationFailed;
        denied.group_id = g.group_id;
        g = std::move(denied);
      }
    }
    encode_describe_groups(r, v, body);
  } else if (auto* s = get<SyncGroupRequest>(req)) {
    if (!backend_.authorize_group(st.principal, s->group_id, GroupOp::kRead)) {
      SyncGroupResponse r;
      r.error_code = error::kGroupAuthorizationFailed;
      encode_sync_group(r, v, body);
    } else {
      encode_sync_group(groups_.sync(*s), v, body);
    }
  } else if (auto* hb = get<HeartbeatRequest>(req)) {
    encode_error_only(backend_.authorize_group(st.principal, hb->group_id, GroupOp::kRead) ? groups_.heartbeat(*hb)
                                                                                           : error::kGroupAuthorizationFailed,
                      api::kHeartbeat, v, body);
  } else if (auto* l = get<LeaveGroupRequest>(req)) {
    if (!backend_.authorize_group(st.principal, l->group_id, GroupOp::kRead)) {
      LeaveGroupResponse r;
      r.error_code = error::kGroupAuthorizationFailed;
      encode_leave_group(r, v, body);
    } else {
      encode_leave_group(groups_.leave(*l), v, body);
    }
  } else if (auto* oc = get<OffsetCommitRequest>(req)) {
    body = handle_offset_commit(*oc, v, st.principal);
  } else if (auto* of = get<OffsetFetchRequest>(req)) {
    body = handle_offset_fetch(*of, v, st.principal);
  } else if (auto* hs = get<SaslHandshakeRequest>(req)) {
    SaslHandshakeResponse r;
    r.mechanisms = {"PLAIN", "SCRAM-SHA-256"};
    if (hs->mechanism == "PLAIN" || hs->mechanism == "SCRAM-SHA-256") {
      st.mechanism = hs->mechanism;
      st.scram.reset();
      st.raw_sasl = v == 0;
    } else {
      r.error_code = error::kUnsupportedSaslMechanism;
    }
    encode_sasl_handshake(r, v, body);
  } else if (auto* sa = get<SaslAuthenticateRequest>(req)) {
    encode_sasl_authenticate(sasl_authenticate(sa->auth_bytes, st), v, body);
  } else if (auto* ct = get<CreateTopicsRequest>(req)) {
    body = handle_create_topics(*ct, v, st.principal);
  } else if (auto* dt = get<DeleteTopicsRequest>(req)) {
    body = handle_delete_topics(*dt, v, st.principal);
  } else if (get<InitProducerIdRequest>(req)) {
    InitProducerIdResponse r;
    r.producer_id = next_producer_id_++;
    r.producer_epoch = 0;
    encode_init_producer_id(r, v, body);
  } else {
    FRESHET_ASSERT(false);
  }
  return frame_response(h, body);
}

std::string KafkaServer::handle_metadata(const MetadataRequest& r, int16_t v, const std::string& principal) {
  MetadataResponse resp;
  resp.brokers.push_back({0, advertised_host(), advertised_port()});
  resp.cluster_id = options_.cluster_id;
  resp.controller_id = 0;
  auto add = [&](const TopicInfo& t) {
    MetadataResponse::Topic mt;
    mt.name = t.name;
    for (int32_t p = 0; p < t.partitions; ++p) mt.partitions.push_back({0, p, 0, 0});
    resp.topics.push_back(std::move(mt));
  };
  using Op = KafkaBackend::TopicOperation;
  if (!r.topics) {
    // All topics: only those the principal may describe, as Kafka lists them.
    for (const TopicInfo& t : backend_.topics())
      if (backend_.authorize(principal, t.name, Op::kDescribe)) add(t);
  } else {
    for (const std::string& name : *r.topics) {
      auto t = backend_.topic(name);
      if (t && !backend_.authorize(principal, name, Op::kDescribe)) {
        MetadataResponse::Topic mt;
        mt.name = name;
        mt.error_code = error::kTopicAuthorizationFailed;
        resp.topics.push_back(std::move(mt));
        continue;
      }
      if (!t && r.allow_auto_topic_creation && options_.auto_create_topics && valid_topic_name(name) &&
          backend_.authorize(principal, name, Op::kCreate)) {
        std::string message;
        int16_t e = backend_.create_topic(name, backend_.default_partitions(), false, message);
        if (e == 0 || e == error::kTopicAlreadyExists) t = backend_.topic(name);  // created, or by a racing client
      }
      if (t) {
        add(*t);
      } else {
        MetadataResponse::Topic mt;
        mt.name = name;
        mt.error_code = error::kUnknownTopicOrPartition;
        resp.topics.push_back(std::move(mt));
      }
    }
  }
  std::string out;
  encode_metadata(resp, v, out);
  return out;
}

std::string KafkaServer::handle_list_offsets(const ListOffsetsRequest& r, int16_t v, const std::string& principal) {
  ListOffsetsResponse resp;
  for (const auto& t : r.topics) {
    ListOffsetsResponse::Topic rt;
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      ListOffsetsResponse::Partition rp;
      rp.partition_index = p.partition_index;
      OffsetsInfo o = backend_.offsets(t.name, p.partition_index);
      if (o.error == 0 && !backend_.authorize(principal, t.name, KafkaBackend::TopicOperation::kRead)) {
        rp.error_code = error::kTopicAuthorizationFailed;
      } else if (o.error != 0) {
        rp.error_code = o.error;
      } else if (p.timestamp == -1) {
        rp.offset = o.high_watermark;
      } else if (p.timestamp == -2) {
        rp.offset = o.log_start;
      } else {
        int64_t off = backend_.offset_for_time(t.name, p.partition_index, p.timestamp);
        if (off >= 0 && off < o.high_watermark) {
          rp.offset = off;
          rp.timestamp = p.timestamp;
        }
      }
      rt.partitions.push_back(rp);
    }
    resp.topics.push_back(std::move(rt));
  }
  std::string out;
  encode_list_offsets(resp, v, out);
  return out;
}

size_t KafkaServer::reserve_fetch_bytes(size_t want, std::chrono::steady_clock::time_point deadline) {
  const size_t cap = options_.max_fetch_bytes_in_flight;
  const size_t floor = std::min<size_t>({want, 1u << 20, cap});
  std::unique_lock lock(mutex_);
  fetch_cv_.wait_until(lock, deadline, [&] { return stopping_ || cap - fetch_bytes_in_flight_ >= floor; });
  size_t left = cap - std::min(cap, fetch_bytes_in_flight_);
  // Past the deadline with the budget still taken: a minimal answer (one batch at most).
  size_t granted = std::max<size_t>(std::min(want, left), 1);
  fetch_bytes_in_flight_ += granted;
  return granted;
}

void KafkaServer::release_fetch_bytes(ConnState& st) {
  if (st.fetch_bytes_reserved == 0) return;
  std::lock_guard lock(mutex_);
  fetch_bytes_in_flight_ -= std::min(fetch_bytes_in_flight_, st.fetch_bytes_reserved);
  st.fetch_bytes_reserved = 0;
  fetch_cv_.notify_all();
}

std::string KafkaServer::handle_fetch(const FetchRequest& r, int16_t v, ConnState& st) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::milliseconds(std::clamp(r.max_wait_ms, 0, options_.max_wait_ms_cap));
  size_t max_bytes = std::min<size_t>(static_cast<size_t>(std::max(r.max_bytes, 1)), options_.max_fetch_response_bytes);
  // The response is materialized under a server-wide budget, held until it is sent (serve()).
  release_fetch_bytes(st);
  max_bytes = reserve_fetch_bytes(max_bytes, deadline);
  st.fetch_bytes_reserved = max_bytes;
  for (;;) {
    uint64_t seen = backend_.data_version();
    FetchResponse resp;
    size_t total = 0;
    bool errors = false;
    for (const auto& t : r.topics) {
      FetchResponse::Topic rt;
      rt.topic = t.topic;
      auto info = backend_.topic(t.topic);
      std::shared_ptr<const TopicCodec> codec;
      int16_t topic_error = 0;
      if (!info) {
        topic_error = error::kUnknownTopicOrPartition;
      } else if (!backend_.authorize(st.principal, t.topic, KafkaBackend::TopicOperation::kRead)) {
        topic_error = error::kTopicAuthorizationFailed;
      } else if (info->format != TopicFormat::kRaw) {
        auto c = catalog_.codec(*info);
        if (c) {
          codec = *c;
        } else {
          topic_error = error::kKafkaStorageError;
        }
      }
      for (const auto& p : t.partitions) {
        FetchResponse::Partition rp;
        rp.partition = p.partition;
        if (topic_error != 0) {
          rp.error_code = topic_error;
          errors = true;
          rt.partitions.push_back(std::move(rp));
          continue;
        }
        OffsetsInfo o = backend_.offsets(t.topic, p.partition);
        rp.high_watermark = o.high_watermark;
        rp.last_stable_offset = o.high_watermark;
        rp.log_start_offset = o.log_start;
        if (o.error != 0) {
          rp.error_code = o.error;
          errors = true;
        } else if (p.fetch_offset < o.log_start || p.fetch_offset > o.high_watermark) {
          rp.error_code = error::kOffsetOutOfRange;
          errors = true;
        } else if (p.fetch_offset < o.high_watermark && (total < max_bytes || total == 0)) {
          size_t budget = std::min(static_cast<size_t>(std::max(p.partition_max_bytes, 1)), max_bytes - total);
          std::vector<StoredRecord> stored;
          int64_t next = -1;
          int16_t e = backend_.read(t.topic, p.partition, p.fetch_offset, budget, stored, &next);
          // The read may have seen data that arrived after the watermark above was taken:
          // report the newer watermark, so that a consumer that reaches `next` knows it is at
          // the end (librdkafka's end-of-partition is fetch offset == high watermark).
          if (e == 0 && next > rp.high_watermark) {
            rp.high_watermark = next;
            rp.last_stable_offset = next;
          }
          if (e != 0) {
            rp.error_code = e;
            errors = true;
          } else if (stored.empty() && next > p.fetch_offset) {
            // Offsets up to `next` hold nothing for this partition (sparse offsets): an empty
            // batch covering them moves the consumer on (KIP-98 keeps such batches too).
            encode_record_batch_covering({}, p.fetch_offset, next - 1, rp.records);
            total += rp.records.size();
          } else if (!stored.empty()) {
            std::vector<Record> records;
            records.reserve(stored.size());
            for (const StoredRecord& s : stored) {
              // A record stored before ALTER TABLE changed the table's columns does not fit
              // the topic's schema any more: a later record of the rewrite supersedes it (as
              // compaction would), so it is left out.
              if (codec && ((codec->has_key() && s.key.arity() != codec->info().key_columns.size()) ||
                            (s.value && s.value->arity() != codec->info().value_columns.size())))
                continue;
              Record rec;
              rec.offset = s.offset;
              rec.timestamp_ms = s.timestamp_ms;
              if (!codec) {  // raw topic: the bytes as produced
                rec.key = raw_bytes(s.key.ref());
                if (s.value) rec.value = raw_bytes(s.value->ref());
                rec.headers = s.headers;
              } else {
                if (codec->has_key()) rec.key = codec->encode_key(s.key.ref());
                if (s.value) rec.value = codec->encode_value(s.value->ref());
              }
              records.push_back(std::move(rec));
            }
            if (records.empty())
              encode_record_batch_covering({}, p.fetch_offset, next - 1, rp.records);
            else if (next > records.back().offset + 1)
              encode_record_batch_covering(records, records.front().offset, next - 1, rp.records);
            else
              encode_record_batch(records, rp.records);
            total += rp.records.size();
          }
        }
        rt.partitions.push_back(std::move(rp));
      }
      resp.topics.push_back(std::move(rt));
    }
    if (errors || total >= static_cast<size_t>(std::max(r.min_bytes, 1)) || Clock::now() >= deadline || stopping_) {
      std::string out;
      encode_fetch(resp, v, out);
      resp = FetchResponse();
      // From here on only the encoded response is held: keep just that much of the budget.
      {
        std::lock_guard lock(mutex_);
        size_t keep = std::min(st.fetch_bytes_reserved, out.size());
        fetch_bytes_in_flight_ -= st.fetch_bytes_reserved - keep;
        st.fetch_bytes_reserved = keep;
        fetch_cv_.notify_all();
      }
      return out;
    }
    backend_.wait_for_data(seen, deadline);
  }
}

std::string KafkaServer::handle_produce(const ProduceRequest& r, int16_t v, const std::string& principal) {
  ProduceResponse resp;
  for (const auto& t : r.topics) {
    ProduceResponse::Topic rt;
    rt.name = t.name;
    auto info = backend_.topic(t.name);
    std::shared_ptr<const TopicCodec> codec;
    const bool raw = info && info->format == TopicFormat::kRaw;
    if (info && !raw) {
      auto c = catalog_.codec(*info);
      if (c) codec = *c;
    }
    for (const auto& p : t.partitions) {
      ProduceResponse::Partition rp;
      rp.index = p.index;
      auto fail = [&](int16_t code, std::string message) {
        rp.error_code = code;
        rp.error_message = std::move(message);
      };
      if (!info) {
        fail(error::kUnknownTopicOrPartition, "unknown topic");
      } else if (!backend_.authorize(principal, t.name, KafkaBackend::TopicOperation::kWrite)) {
        fail(error::kTopicAuthorizationFailed, "Not authorized to access topics: [" + t.name + "]");
      } else if (!codec && !raw) {
        fail(error::kKafkaStorageError, "cannot register the topic's schemas");
      } else if (r.transactional_id) {
        fail(error::kInvalidRequest, "transactions are not supported");
      } else {
        std::vector<RecordBatch> batches;
        BatchError be = decode_record_batches(p.records ? std::string_view(*p.records) : std::string_view(), batches);
        if (be == BatchError::kCompressed) {
          fail(error::kUnsupportedCompressionType, "compressed record batches are not supported");
        } else if (be == BatchError::kUnsupportedMagic) {
          fail(error::kUnsupportedForMessageFormat, "only record batch v2 is supported");
        } else if (be != BatchError::kNone) {
          fail(error::kCorruptMessage, "corrupt record batch");
        } else {
          std::vector<ProducedRecord> records;
          try {
            for (const RecordBatch& b : batches) {
              for (const Record& rec : b.records) {
                ProducedRecord pr;
                if (raw) {  // stored as produced, never decoded
                  pr.key = raw_row(rec.key);
                  if (rec.value) pr.value = raw_row(rec.value);
                  pr.timestamp_ms = rec.timestamp_ms;
                  pr.headers = rec.headers;
                  records.push_back(std::move(pr));
                  continue;
                }
                if (codec->has_key()) {
                  if (!rec.key) throw DecodeError("a record without a key for a topic with key columns");
                  pr.key = codec->decode_key(*rec.key);
                }
                if (rec.value) pr.value = codec->decode_value(*rec.value);
                pr.timestamp_ms = rec.timestamp_ms >= 0 ? rec.timestamp_ms : -1;
                records.push_back(std::move(pr));
              }
            }
          } catch (const DecodeError& e) {
            fail(error::kInvalidRecord, e.what());
          }
          if (rp.error_code == 0 && !records.empty()) {
            auto res = backend_.produce(t.name, p.index, std::move(records));
            if (res.error != 0) {
              fail(res.error, res.message);
            } else {
              rp.base_offset = res.base_offset;
              rp.log_start_offset = backend_.offsets(t.name, p.index).log_start;
            }
          }
        }
      }
      rt.partitions.push_back(std::move(rp));
    }
    resp.topics.push_back(std::move(rt));
  }
  std::string out;
  encode_produce(resp, v, out);
  return out;
}

std::string KafkaServer::handle_offset_commit(const OffsetCommitRequest& r, int16_t v, const std::string& principal) {
  OffsetCommitResponse resp;
  // Kafka: Read on the group (else every partition answers GROUP_AUTHORIZATION_FAILED), then
  // Read on each topic (TOPIC_AUTHORIZATION_FAILED for that topic's partitions).
  int16_t group_error = backend_.authorize_group(principal, r.group_id, KafkaBackend::GroupOperation::kRead)
                            ? groups_.check_commit(r.group_id, r.generation_id, r.member_id)
                            : error::kGroupAuthorizationFailed;
  std::vector<CommittedOffset> to_commit;
  for (const auto& t : r.topics) {
    OffsetCommitResponse::Topic rt;
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      int16_t e = group_error;
      if (e == 0 && !backend_.authorize(principal, t.name, KafkaBackend::TopicOperation::kRead))
        e = error::kTopicAuthorizationFailed;
      if (e == 0 && backend_.offsets(t.name, p.partition_index).error != 0) e = error::kUnknownTopicOrPartition;
      if (e == 0) to_commit.push_back({t.name, p.partition_index, p.committed_offset, p.committed_metadata.value_or("")});
      rt.partitions.push_back({p.partition_index, e});
    }
    resp.topics.push_back(std::move(rt));
  }
  if (!to_commit.empty()) {
    Status st = backend_.commit_offsets(r.group_id, to_commit);
    if (!st) {
      for (auto& t : resp.topics) {
        for (auto& p : t.partitions) {
          if (p.error_code == 0) p.error_code = error::kCoordinatorNotAvailable;
        }
      }
    }
  }
  std::string out;
  encode_offset_commit(resp, v, out);
  return out;
}

std::string KafkaServer::handle_offset_fetch(const OffsetFetchRequest& r, int16_t v, const std::string& principal) {
  OffsetFetchResponse resp;
  // Kafka: Describe on the group (else GROUP_AUTHORIZATION_FAILED: the top-level error from
  // v2, every partition's before), Describe on each topic (TOPIC_AUTHORIZATION_FAILED; a request
  // for all topics lists only those the principal may describe).
  if (!backend_.authorize_group(principal, r.group_id, KafkaBackend::GroupOperation::kDescribe)) {
    resp.error_code = error::kGroupAuthorizationFailed;
    if (r.topics) {
      for (const auto& t : *r.topics) {
        OffsetFetchResponse::Topic rt;
        rt.name = t.name;
        for (int32_t p : t.partition_indexes)
          rt.partitions.push_back({p, -1, std::string(), error::kGroupAuthorizationFailed});
        resp.topics.push_back(std::move(rt));
      }
    }
    std::string out;
    encode_offset_fetch(resp, v, out);
    return out;
  }
  std::vector<CommittedOffset> committed = backend_.committed_offsets(r.group_id);
  auto may_describe = [&](const std::string& topic) {
    return backend_.authorize(principal, topic, KafkaBackend::TopicOperation::kDescribe);
  };
  if (!r.topics) {
    for (const CommittedOffset& c : committed) {
      if (!may_describe(c.topic)) continue;
      if (resp.topics.empty() || resp.topics.back().name != c.topic) resp.topics.push_back({c.topic, {}});
      resp.topics.back().partitions.push_back({c.partition, c.offset, c.metadata, 0});
    }
  } else {
    for (const auto& t : *r.topics) {
      OffsetFetchResponse::Topic rt;
      rt.name = t.name;
      for (int32_t p : t.partition_indexes) {
        OffsetFetchResponse::Partition rp{p, -1, std::string(), 0};
        if (!may_describe(t.name)) {
          rp.error_code = error::kTopicAuthorizationFailed;
          rt.partitions.push_back(std::move(rp));
          continue;
        }
        for (const CommittedOffset& c : committed) {
          if (c.topic == t.name && c.partition == p) {
            rp.committed_offset = c.offset;
            rp.metadata = c.metadata;
          }
        }
        rt.partitions.push_back(std::move(rp));
      }
      resp.topics.push_back(std::move(rt));
    }
  }
  std::string out;
  encode_offset_fetch(resp, v, out);
  return out;
}

std::string KafkaServer::handle_create_topics(const CreateTopicsRequest& r, int16_t v, const std::string& principal) {
  CreateTopicsResponse resp;
  std::map<std::string, int> seen;
  for (const auto& t : r.topics) ++seen[t.name];
  for (const auto& t : r.topics) {
    CreateTopicsResponse::Topic rt;
    rt.name = t.name;
    auto fail = [&](int16_t code, std::string message) {
      rt.error_code = code;
      rt.error_message = std::move(message);
    };
    int32_t partitions = t.num_partitions == -1 ? backend_.default_partitions() : t.num_partitions;
    if (seen[t.name] > 1) {
      fail(error::kInvalidRequest, "Create topics request contains multiple entries for the topic " + t.name);
    } else if (!valid_topic_name(t.name)) {
      fail(error::kInvalidTopicException, "Topic name \"" + t.name +
               "\" is illegal: it must be 1 to 249 characters of ASCII alphanumerics, '.', '_' and '-', and not '.' or '..'");
    } else if (t.assignments > 0) {
      fail(error::kInvalidReplicaAssignment, "Manual replica assignment is not supported (one broker)");
    } else if (t.replication_factor != -1 && t.replication_factor != 1) {
      fail(error::kInvalidReplicationFactor,
           "Replication factor: " + std::to_string(t.replication_factor) + " larger than available brokers: 1.");
    } else if (!backend_.authorize(principal, t.name, KafkaBackend::TopicOperation::kCreate)) {
      fail(error::kTopicAuthorizationFailed, "Authorization failed.");
    } else if (partitions < 1 || partitions > kMaxTopicPartitions) {
      fail(error::kInvalidPartitions, "Number of partitions must be between 1 and " +
                                          std::to_string(kMaxTopicPartitions) + ", got " + std::to_string(partitions) + ".");
    } else {
      std::string message;
      int16_t e = backend_.create_topic(t.name, partitions, r.validate_only, message);
      if (e == error::kTopicAlreadyExists && message.empty()) message = "Topic '" + t.name + "' already exists.";
      if (e != 0) fail(e, message);
    }
    resp.topics.push_back(std::move(rt));
  }
  std::string out;
  encode_create_topics(resp, v, out);
  return out;
}

std::string KafkaServer::handle_delete_topics(const DeleteTopicsRequest& r, int16_t v, const std::string& principal) {
  DeleteTopicsResponse resp;
  for (const std::string& name : r.topic_names) {
    std::string message;
    int16_t e = backend_.authorize(principal, name, KafkaBackend::TopicOperation::kDelete) ? backend_.delete_topic(name, message)
                                                                                             : error::kTopicAuthorizationFailed;
    resp.topics.push_back({name, e});
  }
  std::string out;
  encode_delete_topics(resp, v, out);
  return out;
}

SaslAuthenticateResponse KafkaServer::sasl_authenticate(const std::string& auth_bytes, ConnState& st) {
  SaslAuthenticateResponse resp;
  auto fail = [&](int16_t code, std::string message) {
    resp.error_code = code;
    resp.error_message = std::move(message);
    st.close = true;
  };
  if (st.mechanism == "PLAIN") {
    auto creds = parse_sasl_plain(auth_bytes);
    if (creds && backend_.authenticate_plain(creds->user, creds->password)) {
      st.authenticated = true;
      st.principal = creds->user;
    } else {
      fail(error::kSaslAuthenticationFailed, "Authentication failed: Invalid username or password");
    }
  } else if (st.mechanism == "SCRAM-SHA-256") {
    if (!st.scram) {
      KafkaBackend& backend = backend_;
      st.scram = std::make_unique<ScramServer>(
          [&backend](const std::string& user) -> std::optional<ScramCredential> { return backend.scram_credential(user); },
          random_nonce());
      auto first = st.scram->client_first(auth_bytes);
      if (first) {
        resp.auth_bytes = *first;
      } else {
        fail(error::kSaslAuthenticationFailed, "Authentication failed: malformed SCRAM client-first-message");
      }
    } else {
      auto final_msg = st.scram->client_final(auth_bytes);
      if (final_msg) {
        resp.auth_bytes = *final_msg;
        st.authenticated = true;
        st.principal = st.scram->user();
      } else {
        fail(error::kSaslAuthenticationFailed, "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256");
      }
      st.scram.reset();
      st.mechanism.clear();
    }
  } else {
    fail(error::kIllegalSaslState, "SaslAuthenticate before SaslHandshake");
  }
  return resp;
}

}  // namespace freshet::kafka
