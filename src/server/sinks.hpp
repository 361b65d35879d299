#pragma once
// Kafka sinks at run time (src/capture/kafka/README.md, "Sinks"): each CREATE SINK owns a
// thread that follows the changes of the sinked relation (a subscription, like SUBSCRIBE),
// turns each timestamp's changes into Kafka messages (SinkState, SinkEncoder), produces them
// (SinkConnection) and, once the broker acknowledged them, stores the state changes with the
// topic's offsets and the timestamp in the sink's own collection.
//
// Exactly once across restarts and failures: whatever goes wrong (a crash, a broker error, a
// full subscription queue), the sink starts over from its stored state, reads back what the
// topic got after the stored offsets, and writes the difference between that and the
// relation's current contents. Changes made while Freshet was down (or the sink was failing)
// reach the topic as one consolidated change: Freshet keeps no history to replay them one
// timestamp at a time.
//
// Threads: one per sink. Status fields are guarded by the entry's mu; the rest is constant
// after build_sink.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "capture/kafka/kafka_sink.hpp"
#include "capture/kafka/registry_client.hpp"
#include "capture/kafka/sink_encoder.hpp"
#include "server/coordinator.hpp"
#include "server/maintained.hpp"
#include "sql/streaming_parser.hpp"

namespace freshet::server {

struct SinkEntry {
  // Constant after build_sink (id once the catalog object exists).
  uint64_t id = 0;          // the sink's catalog object; also the collection of its state
  std::string name;
  std::string create_sql;
  uint64_t from_id = 0;     // the sinked relation
  std::string from_name;
  capture::kafka::KafkaConnectionOptions connection;
  capture::kafka::SinkTopicOptions topic;
  std::optional<capture::kafka::RegistryOptions> registry;
  std::unique_ptr<capture::kafka::SinkEncoder> encoder;
  std::vector<uint32_t> key;  // KEY column positions (empty: none)
  std::vector<Type> types;
  bool snapshot = true;       // WITH (SNAPSHOT = false): the first start writes no snapshot
  std::string format_name, envelope_name;
  // Opened by CREATE SINK's checks and handed to the thread's first run.
  std::unique_ptr<capture::kafka::SinkConnection> first_connection;

  std::thread thread;
  std::mutex join_mu;
  std::atomic<bool> stop{false};
  std::atomic<bool> dropped{false};  // stop, and remove the sink's dataflow and data

  std::mutex mu;  // guards what follows
  std::string state = "starting";
  std::string last_error;
  uint64_t messages_total = 0;
  uint64_t committed_ts = 0;
  std::string position;  // the topic's next offset per partition as of committed_ts
};

// Builds a sink from its CREATE SINK statement: the relation, the KEY, the connections, the
// encoder. REQUIRES: the coordinator's mutex held. Throws SqlError.
std::shared_ptr<SinkEntry> build_sink(Coordinator::State& state, const sql::StreamingStatement& stmt);
// Connects, creates the topic when missing and registers the schemas: what CREATE SINK checks
// before it returns. REQUIRES: the mutex not held (it talks to the network).
Status check_sink(SinkEntry& entry);
// Starts the sink's thread. REQUIRES: entry->id set, the mutex not held.
void start_sink(Coordinator::State& state, const std::shared_ptr<SinkEntry>& entry);
// Waits for the sink's thread to end (after stop was set). REQUIRES: the mutex not held.
void join_sink(SinkEntry& entry);

// What a sink follows: the relation's contents at `time` and a queue of its later changes.
// Defined in sequencer/sources_sinks.cpp (it may render a dataflow for a view). REQUIRES: the mutex held
// exclusively. Throws SqlError.
struct SinkInput {
  uint64_t time = 0;
  RowDiffs snapshot;
  std::shared_ptr<struct SubscriptionQueue> queue;
};
SinkInput attach_sink_input(Coordinator::State& state, const SinkEntry& entry);

}  // namespace freshet::server
