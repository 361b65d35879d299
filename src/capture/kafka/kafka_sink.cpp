#include "capture/kafka/kafka_sink.hpp"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

namespace freshet::capture::kafka {
namespace {

constexpr int kMetadataTimeoutMs = 10000;
constexpr int kReadBackTimeoutMs = 60000;

struct Callbacks {
  std::mutex mu;
  std::string last_error;  // guarded by mu: librdkafka's asynchronous errors (authentication, TLS, brokers down)
  // Delivery reports, handled on the sink's thread (rd_kafka_poll/flush call dr_msg_cb there).
  size_t outstanding = 0;
  std::string delivery_error;
  std::map<int32_t, int64_t> next_offsets;
};

void error_cb(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* cb = static_cast<Callbacks*>(opaque);
  std::lock_guard g(cb->mu);
  cb->last_error = std::string(rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err))) + ": " + reason;
}

void log_cb(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  if (level <= 2) std::fprintf(stderr, "freshet: kafka sink client: %s: %s\n", fac, buf);
}

void dr_msg_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* cb = static_cast<Callbacks*>(opaque);
  if (cb->outstanding > 0) --cb->outstanding;
  if (m->err) {
    if (cb->delivery_error.empty()) cb->delivery_error = rd_kafka_err2str(m->err);
    return;
  }
  if (m->offset >= 0) {
    int64_t& next = cb->next_offsets[m->partition];
    if (m->offset + 1 > next) next = m->offset + 1;
  }
}

// A configured handle; nullptr and err set on failure.
rd_kafka_t* new_handle(rd_kafka_type_t type, const std::vector<std::pair<std::string, std::string>>& lines, Callbacks* cb,
                       std::string& error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [k, v] : lines) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      error = "Kafka client option " + k + ": " + err;
      return nullptr;
    }
  }
  rd_kafka_conf_set_opaque(conf, cb);
  rd_kafka_conf_set_error_cb(conf, error_cb);
  rd_kafka_conf_set_log_cb(conf, log_cb);
  if (type == RD_KAFKA_PRODUCER) rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    error = std::string("cannot create the Kafka client: ") + err;
  }
  return rk;
}

}  // namespace

struct SinkConnection::Impl {
  Callbacks cb;
  rd_kafka_t* producer = nullptr;
  ~Impl() {
    if (producer) {
      rd_kafka_flush(producer, 1000);
      rd_kafka_destroy(producer);
    }
  }
  std::string async_error() {
    std::lock_guard g(cb.mu);
    return cb.last_error;
  }
};

SinkConnection::~SinkConnection() = default;

Result<std::unique_ptr<SinkConnection>> SinkConnection::open(const KafkaConnectionOptions& conn, const SinkTopicOptions& topic) {
  std::unique_ptr<SinkConnection> c(new SinkConnection());
  c->conn_ = conn;
  c->topic_ = topic;
  c->impl_ = std::make_unique<Impl>();
  std::vector<std::pair<std::string, std::string>> lines;
  try {
    lines = librdkafka_config(conn);
  } catch (const AvroError& e) {
    return Status::error(e.what());
  }
  lines.emplace_back("client.id", topic.client_id);
  lines.emplace_back("enable.idempotence", "true");
  lines.emplace_back("acks", "all");
  lines.emplace_back("compression.type", "none");
  lines.emplace_back("partitioner", "murmur2_random");
  lines.emplace_back("linger.ms", "5");
  lines.emplace_back("message.timeout.ms", "30000");
  lines.emplace_back("allow.auto.create.topics", "false");
  lines.emplace_back("broker.address.family", "v4");
  std::string error;
  c->impl_->producer = new_handle(RD_KAFKA_PRODUCER, lines, &c->impl_->cb, error);
  if (!c->impl_->producer) return Status::error(error);
  rd_kafka_t* rk = c->impl_->producer;

  // Partitions of the topic; -1 when it does not exist.
  auto describe = [&](int32_t& partitions) -> Status {
    partitions = -1;
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, kMetadataTimeoutMs);
    Status s = Status::ok();
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string async = c->impl_->async_error();
      s = Status::error("cannot reach the Kafka broker " + conn.brokers + ": " + rd_kafka_err2str(e) + (async.empty() ? "" : " (" + async + ")"));
    } else if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[0].partition_cnt > 0) {
      partitions = md->topics[0].partition_cnt;
    } else if (md->topic_cnt == 1 && md->topics[0].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
               md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[0].err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
      s = Status::error("topic " + topic.topic + " on " + conn.brokers + ": " + rd_kafka_err2str(md->topics[0].err));
    }
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return s;
  };
  int32_t partitions = -1;
  if (Status s = describe(partitions); !s) return s;
  if (partitions < 0) {
    char err[512];
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.topic.c_str(), topic.partitions, topic.replication_factor, err, sizeof err);
    if (!nt) return Status::error(std::string("cannot create topic ") + topic.topic + ": " + err);
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opts, kMetadataTimeoutMs, err, sizeof err);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, kMetadataTimeoutMs + 2000);
    std::string problem;
    if (!ev) {
      problem = "no answer";
    } else if (rd_kafka_event_error(ev)) {
      problem = rd_kafka_event_error_string(ev);
    } else if (const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev)) {
      size_t n = 0;
      const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
      for (size_t i = 0; i < n; ++i) {
        rd_kafka_resp_err_t te = rd_kafka_topic_result_error(results[i]);
        if (te != RD_KAFKA_RESP_ERR_NO_ERROR && te != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
          const char* msg = rd_kafka_topic_result_error_string(results[i]);
          problem = std::string(rd_kafka_err2str(te)) + (msg && *msg ? std::string(": ") + msg : "");
        }
      }
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    if (!problem.empty()) return Status::error("cannot create topic " + topic.topic + " on " + conn.brokers + ": " + problem);
    // The new topic's metadata may take a moment to show (a cluster propagates it).
    for (int i = 0; i < 50 && partitions < 0; ++i) {
      if (Status s = describe(partitions); !s) return s;
      if (partitions < 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (partitions < 0) return Status::error("topic " + topic.topic + " was created but does not show in the metadata of " + conn.brokers);
  }
  c->partitions_ = partitions;
  return c;
}

Result<std::vector<int64_t>> SinkConnection::high_watermarks() {
  std::vector<int64_t> out;
  for (int32_t p = 0; p < partitions_; ++p) {
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(impl_->producer, topic_.topic.c_str(), p, &lo, &hi, kMetadataTimeoutMs);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
      return Status::error("cannot read the end of " + topic_.topic + " partition " + std::to_string(p) + ": " + rd_kafka_err2str(e));
    out.push_back(hi);
  }
  return out;
}

Status SinkConnection::read_back(const std::vector<int64_t>& from, const std::vector<int64_t>& to,
                                 const std::function<Status(int32_t, int64_t, std::optional<std::string_view>, std::optional<std::string_view>)>& fn,
                                 const std::atomic<bool>& stop) {
  std::map<int32_t, int64_t> pending;  // partition -> offset to reach
  for (size_t p = 0; p < from.size() && p < to.size(); ++p)
    if (from[p] < to[p]) pending[static_cast<int32_t>(p)] = to[p];
  if (pending.empty()) return Status::ok();
  std::vector<std::pair<std::string, std::string>> lines;
  try {
    lines = librdkafka_config(conn_);
  } catch (const AvroError& e) {
    return Status::error(e.what());
  }
  lines.emplace_back("client.id", topic_.client_id + "-readback");
  lines.emplace_back("group.id", topic_.client_id + "-readback");
  lines.emplace_back("enable.auto.commit", "false");
  lines.emplace_back("enable.auto.offset.store", "false");
  lines.emplace_back("enable.partition.eof", "true");
  lines.emplace_back("broker.address.family", "v4");
  Callbacks cb;
  std::string error;
  rd_kafka_t* rk = new_handle(RD_KAFKA_CONSUMER, lines, &cb, error);
  if (!rk) return Status::error(error);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(static_cast<int>(pending.size()));
  for (const auto& [p, end] : pending) rd_kafka_topic_partition_list_add(assignment, topic_.topic.c_str(), p)->offset = from[static_cast<size_t>(p)];
  rd_kafka_resp_err_t ae = rd_kafka_assign(rk, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  Status result = Status::ok();
  if (ae != RD_KAFKA_RESP_ERR_NO_ERROR) result = Status::error(std::string("cannot assign the sink topic's partitions: ") + rd_kafka_err2str(ae));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kReadBackTimeoutMs);
  while (result && !pending.empty() && !stop) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::lock_guard g(cb.mu);
      result = Status::error("reading back the sink topic " + topic_.topic + " timed out" + (cb.last_error.empty() ? "" : " (" + cb.last_error + ")"));
      break;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    auto it = pending.find(m->partition);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // The end as of now; anything past `to` is not ours to read.
      if (it != pending.end() && m->offset >= it->second) pending.erase(it);
    } else if (m->err) {
      result = Status::error(std::string("reading back the sink topic: ") + rd_kafka_message_errstr(m));
    } else if (it != pending.end() && m->offset < it->second) {
      std::optional<std::string_view> key, value;
      if (m->key) key = std::string_view(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) value = std::string_view(static_cast<const char*>(m->payload), m->len);
      result = fn(m->partition, m->offset, key, value);
      if (m->offset + 1 >= it->second) pending.erase(it);
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  if (result && stop) return Status::error("stopped");
  return result;
}

Status SinkConnection::produce(const std::vector<OutMessage>& msgs, std::vector<int64_t>& next_offsets, const std::atomic<bool>& stop) {
  rd_kafka_t* rk = impl_->producer;
  Callbacks& cb = impl_->cb;
  cb.delivery_error.clear();
  cb.next_offsets.clear();
  for (const auto& m : msgs) {
    char* key = m.key ? const_cast<char*>(m.key->data()) : nullptr;
    size_t key_len = m.key ? m.key->size() : 0;
    char* value = m.value ? const_cast<char*>(m.value->data()) : nullptr;
    size_t value_len = m.value ? m.value->size() : 0;
    int32_t partition = m.partition < 0 ? RD_KAFKA_PARTITION_UA : m.partition;
    while (true) {
      rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic_.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
                                                RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_TIMESTAMP(m.timestamp_ms), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++cb.outstanding;
        break;
      }
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) return Status::error(std::string("producing to ") + topic_.topic + ": " + rd_kafka_err2str(e));
      if (stop) return Status::error("stopped");
      rd_kafka_poll(rk, 50);
    }
    rd_kafka_poll(rk, 0);
  }
  // Until every message is acknowledged (or failed: message.timeout.ms bounds it).
  while (cb.outstanding > 0) {
    if (stop) return Status::error("stopped");
    rd_kafka_flush(rk, 100);
    char reason[256];
    if (rd_kafka_fatal_error(rk, reason, sizeof reason) != RD_KAFKA_RESP_ERR_NO_ERROR)
      return Status::error(std::string("the Kafka producer failed: ") + reason);
  }
  for (const auto& [p, next] : cb.next_offsets)
    if (p >= 0 && static_cast<size_t>(p) < next_offsets.size() && next > next_offsets[static_cast<size_t>(p)]) next_offsets[static_cast<size_t>(p)] = next;
  if (!cb.delivery_error.empty()) {
    std::string async = impl_->async_error();
    return Status::error("writing to " + topic_.topic + " failed: " + cb.delivery_error + (async.empty() ? "" : " (" + async + ")"));
  }
  return Status::ok();
}

}  // namespace freshet::capture::kafka
