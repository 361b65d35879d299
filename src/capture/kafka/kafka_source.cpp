#include "capture/kafka/kafka_source.hpp"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <deque>
#include <cstdio>
#include <map>
#include <mutex>

namespace freshet::capture::kafka {
namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Errors librdkafka reports asynchronously (authentication, TLS, all brokers down).
struct ErrorSlot {
  std::mutex mu;
  std::string last;
};

void error_cb(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* slot = static_cast<ErrorSlot*>(opaque);
  std::lock_guard g(slot->mu);
  slot->last = std::string(rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err))) + ": " + reason;
}

void log_cb(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  // Errors reach the source's status through error_cb; only critical ones are logged here.
  if (level <= 2) std::fprintf(stderr, "freshet: kafka client: %s: %s\n", fac, buf);
}

struct Handle {
  rd_kafka_t* rk = nullptr;
  ~Handle() {
    if (rk) {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
    }
  }
};

}  // namespace

std::vector<std::pair<std::string, std::string>> librdkafka_config(const KafkaConnectionOptions& o) {
  std::vector<std::pair<std::string, std::string>> c;
  c.emplace_back("bootstrap.servers", o.brokers);
  std::string proto = upper(o.security_protocol.empty() ? "PLAINTEXT" : o.security_protocol);
  if (proto != "PLAINTEXT" && proto != "SSL" && proto != "SASL_PLAINTEXT" && proto != "SASL_SSL")
    throw AvroError("unknown SECURITY PROTOCOL \"" + o.security_protocol + "\" (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)");
  c.emplace_back("security.protocol", proto);
  if (proto.rfind("SASL", 0) == 0) {
    c.emplace_back("sasl.mechanisms", upper(o.sasl_mechanism.empty() ? "PLAIN" : o.sasl_mechanism));
    c.emplace_back("sasl.username", o.sasl_username);
    c.emplace_back("sasl.password", o.sasl_password);
  }
  if (proto == "SSL" || proto == "SASL_SSL") {
    if (!o.ssl_verify) {
      c.emplace_back("enable.ssl.certificate.verification", "false");
      c.emplace_back("ssl.endpoint.identification.algorithm", "none");
    } else {
      c.emplace_back("ssl.endpoint.identification.algorithm", "https");
      if (!o.ssl_ca_pem.empty()) c.emplace_back("ssl.ca.pem", o.ssl_ca_pem);
      else if (!o.ssl_ca_file.empty()) c.emplace_back("ssl.ca.location", o.ssl_ca_file);
    }
  }
  return c;
}

KafkaSource::KafkaSource(KafkaSourceOptions o) : o_(std::move(o)) {}

KafkaSource::~KafkaSource() { stop(); }

Status KafkaSource::start(SourceSink& sink, std::optional<std::string> resume_position) {
  if (thread_.joinable()) return Status::error("the Kafka source is already running");
  stop_ = false;
  thread_ = std::thread([this, s = &sink, r = std::move(resume_position)] { run(s, r); });
  return Status::ok();
}

void KafkaSource::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void KafkaSource::run(SourceSink* sink, std::optional<std::string> resume) {
  SourceStatus status;
  status.state = "starting";
  sink->report(status);
  const bool first_start = !resume.has_value();
  auto fail = [&](const std::string& msg) {
    status.state = "error";
    status.last_error = msg;
    sink->report(status);
  };
  // Waits with backoff (a restart: the broker or registry may come up after us). Returns false
  // when stopping.
  int backoff_ms = 500;
  auto wait_retry = [&](const std::string& msg) {
    status.state = "starting";
    status.last_error = msg + " (retrying)";
    sink->report(status);
    for (int waited = 0; waited < backoff_ms && !stop_; waited += 50) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    backoff_ms = std::min(backoff_ms * 2, 30000);
    return !stop_.load();
  };

  std::map<int32_t, int64_t> next;
  if (resume) {
    try {
      next = decode_position(*resume);
    } catch (const AvroError& e) {
      return fail(e.what());
    }
  }

  // The consumer.
  ErrorSlot errors;
  Handle h;
  {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    std::vector<std::pair<std::string, std::string>> lines;
    try {
      lines = librdkafka_config(o_.connection);
    } catch (const AvroError& e) {
      rd_kafka_conf_destroy(conf);
      return fail(e.what());
    }
    lines.emplace_back("client.id", "freshet-source-" + o_.decoder.table_name);
    lines.emplace_back("enable.auto.commit", "false");
    lines.emplace_back("enable.auto.offset.store", "false");
    lines.emplace_back("enable.partition.eof", "false");
    lines.emplace_back("fetch.wait.max.ms", "100");
    lines.emplace_back("broker.address.family", "v4");
    lines.emplace_back("group.id", "freshet-source-" + o_.decoder.table_name);
    for (const auto& [k, v] : lines) {
      if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return fail("Kafka client option " + k + ": " + err);
      }
    }
    rd_kafka_conf_set_opaque(conf, &errors);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    h.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!h.rk) {
      rd_kafka_conf_destroy(conf);
      return fail(std::string("cannot create the Kafka consumer: ") + err);
    }
    rd_kafka_poll_set_consumer(h.rk);
  }

  // The topic's partitions (this also proves the broker, TLS and SASL work).
  int partitions = 0;
  while (!stop_) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(h.rk, o_.topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t e = rd_kafka_metadata(h.rk, 0, rkt, &md, 10000);
    std::string problem;
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::lock_guard g(errors.mu);
      problem = "cannot reach the Kafka broker " + o_.connection.brokers + ": " + rd_kafka_err2str(e) + (errors.last.empty() ? "" : " (" + errors.last + ")");
    } else if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topics[0].partition_cnt == 0) {
      problem = "topic " + o_.topic + " does not exist on " + o_.connection.brokers +
                (md->topic_cnt == 1 ? std::string(" (") + rd_kafka_err2str(md->topics[0].err) + ")" : std::string());
    } else {
      partitions = md->topics[0].partition_cnt;
    }
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    if (partitions > 0) break;
    if (first_start) return fail(problem);
    if (!wait_retry(problem)) return;
  }
  if (stop_) return;
  if (!o_.start_offsets.empty() && o_.start_offsets.size() != static_cast<size_t>(partitions) && first_start)
    return fail("START OFFSET gives " + std::to_string(o_.start_offsets.size()) + " offsets but topic " + o_.topic + " has " +
                std::to_string(partitions) + " partitions");

  // The schemas, then the table.
  std::optional<MessageDecoder> decoder;
  std::optional<RegistryClient> registry;
  if (o_.registry) registry.emplace(*o_.registry);
  backoff_ms = 500;
  while (!stop_ && !decoder) {
    std::optional<std::string> key_schema, value_schema;
    std::string problem;
    if (registry) {
      auto v = registry->latest(o_.topic + "-value");
      auto k = v ? registry->latest(o_.topic + "-key") : Result<std::optional<RegisteredSchema>>(Status::ok());
      if (!v) problem = "schema registry " + o_.registry->url + ": " + v.status().message();
      else if (!k) problem = "schema registry " + o_.registry->url + ": " + k.status().message();
      else {
        if (*v) value_schema = (*v)->schema;
        if (*k) key_schema = (*k)->schema;
      }
    }
    if (problem.empty()) {
      try {
        RegistryClient* rc = registry ? &*registry : nullptr;
        decoder.emplace(o_.decoder, key_schema, value_schema, [rc](int32_t id) -> Result<std::string> {
          if (!rc) return Status::error("no schema registry");
          return rc->schema_by_id(id);
        });
        break;
      } catch (const AvroError& e) {
        return fail(e.what());  // the schemas do not fit the source's definition: not retried
      }
    }
    if (first_start) return fail(problem);
    if (!wait_retry(problem)) return;
  }
  if (stop_) return;
  if (Status s = sink->set_schemas({decoder->table()}); !s) return fail(s.message());

  // Every partition from its position.
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t off = RD_KAFKA_OFFSET_BEGINNING;
    if (auto it = next.find(p); it != next.end()) off = it->second;
    else if (static_cast<size_t>(p) < o_.start_offsets.size()) off = o_.start_offsets[static_cast<size_t>(p)];
    rd_kafka_topic_partition_list_add(assignment, o_.topic.c_str(), p)->offset = off;
    if (off >= 0) next[p] = off;
  }
  rd_kafka_resp_err_t ae = rd_kafka_assign(h.rk, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  if (ae != RD_KAFKA_RESP_ERR_NO_ERROR) return fail(std::string("cannot assign the partitions: ") + rd_kafka_err2str(ae));

  status.state = "running";
  status.last_error.clear();
  sink->report(status);
  uint64_t skipped = 0;
  // Messages read but not yet applied, per partition: the trailing messages with the newest
  // timestamp are held until a later timestamp shows up on their partition or the partition
  // is read up to its high watermark, so that an upstream transaction (all of whose records
  // carry one timestamp, as in Freshet's own topics) is applied whole. Bounded.
  struct Held {
    int64_t offset;
    int64_t timestamp_ms;
    std::optional<Change> change;
  };
  std::map<int32_t, std::deque<Held>> held;
  std::map<int32_t, int64_t> seen_next = next;  // the next offset to receive
  while (!stop_) {
    auto window_end = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBatchWindowMs);
    int timeout_ms = 100;
    size_t n = 0;
    while (n < kMaxBatchMessages && !stop_) {
      rd_kafka_message_t* msg = rd_kafka_consumer_poll(h.rk, timeout_ms);
      if (!msg) break;
      timeout_ms = 0;
      if (msg->err) {
        if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          status.last_error = std::string("Kafka: ") + rd_kafka_message_errstr(msg);
          sink->report(status);
        }
        rd_kafka_message_destroy(msg);
        continue;
      }
      ++n;
      int32_t p = msg->partition;
      int64_t off = msg->offset;
      auto it = seen_next.find(p);
      if (it != seen_next.end() && off < it->second) {  // already have it
        rd_kafka_message_destroy(msg);
        continue;
      }
      KafkaMessage km;
      if (msg->key) km.key = std::string_view(static_cast<const char*>(msg->key), msg->key_len);
      if (msg->payload) km.value = std::string_view(static_cast<const char*>(msg->payload), msg->len);
      km.partition = p;
      km.offset = off;
      rd_kafka_timestamp_type_t tstype;
      km.timestamp_ms = rd_kafka_message_timestamp(msg, &tstype);
      if (km.timestamp_ms < 0) km.timestamp_ms = 0;
      Held hm{off, km.timestamp_ms, std::nullopt};
      try {
        hm.change = decoder->decode(km);
      } catch (const AvroError& e) {
        ++skipped;
        status.last_error = "skipped the message at partition " + std::to_string(p) + " offset " + std::to_string(off) + ": " + e.what() +
                            " (" + std::to_string(skipped) + " skipped so far)";
        sink->report(status);
      }
      held[p].push_back(std::move(hm));
      seen_next[p] = off + 1;
      rd_kafka_message_destroy(msg);
      if (std::chrono::steady_clock::now() >= window_end) break;
    }
    Transaction txn;
    bool released = false;
    for (auto& [p, q] : held) {
      if (q.empty()) continue;
      int64_t lo = 0, hi = 0;
      bool at_end = rd_kafka_get_watermark_offsets(h.rk, o_.topic.c_str(), p, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR && seen_next[p] >= hi;
      bool too_many = q.size() > 10 * kMaxBatchMessages;
      int64_t newest = q.back().timestamp_ms;
      while (!q.empty() && (at_end || too_many || q.front().timestamp_ms < newest)) {
        if (q.front().change) txn.changes.push_back(std::move(*q.front().change));
        if (q.front().timestamp_ms > 0) txn.commit_time_ms = static_cast<uint64_t>(q.front().timestamp_ms);
        next[p] = q.front().offset + 1;
        q.pop_front();
        released = true;
      }
    }
    if (!released) continue;
    txn.position = encode_position(next);
    if (Status s = sink->apply(std::move(txn)); !s) {
      if (stop_) return;
      return fail("storing what the source read failed: " + s.message());
    }
  }
}

}  // namespace freshet::capture::kafka
