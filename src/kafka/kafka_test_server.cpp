// kafka_test_server: KafkaServer and the schema registry over a MemoryBackend holding a few
// sample topics, for the end-to-end tests with real clients (test/e2e/kafka_*_test.sh).
//
//   kafka_test_server --port P --registry-port R [--sasl] [--tls-cert F --tls-key F]
//                     [--user NAME:PASSWORD]... [--schemas-file F] [--rebalance-delay-ms N]
//
// Topics:
//   shop.public.customers  Avro, 3 partitions, key (id int8), value (id, name text, balance
//                          numeric(10,2) null, created timestamptz, active bool, signup date
//                          null, tag uuid null, attrs jsonb null); 30 rows then one delete
//                          (id 7: a tombstone).
//   shop.public.orders     Avro, 6 partitions, key (order_id int8), value (order_id, customer
//                          int4, amount float8, note text null); 60 rows, 10 per partition.
//   shop.public.events     JSON, 1 partition, key (k text), value (k, n int4 null, payload
//                          jsonb null); 3 rows. Writable with kcat -P.
// Prints "ready kafka=P registry=R" once listening; stops on SIGTERM/SIGINT.

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "common/arena.hpp"
#include "common/format.hpp"
#include "kafka/kafka_server.hpp"
#include "kafka/memory_backend.hpp"

using namespace freshet;
using namespace freshet::kafka;

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

Row row(std::vector<Datum> ds) { return Row::pack(ds); }

void load(MemoryBackend& b) {
  TopicColumn id{"id", Type(TypeId::kInt8), false};
  b.add_topic(TopicInfo{"shop.public.customers", 3, {id},
                        {id,
                         {"name", Type(TypeId::kText), false},
                         {"balance", Type(TypeId::kNumeric, (10 << 16) | 2), true},
                         {"created", Type(TypeId::kTimestampTz), false},
                         {"active", Type(TypeId::kBool), false},
                         {"signup", Type(TypeId::kDate), true},
                         {"tag", Type(TypeId::kUuid), true},
                         {"attrs", Type(TypeId::kJsonb), true}},
                        TopicFormat::kAvro});
  Arena arena;
  const int64_t base_ms = 1700000000000;
  for (int i = 1; i <= 30; ++i) {
    std::string name = "customer " + std::to_string(i);
    std::string attrs = "{\"tier\": " + std::to_string(i % 3) + "}";
    std::vector<Datum> v{Datum::from_int(i),
                         Datum::from_string(name),
                         i % 5 == 0 ? Datum::null() : Datum::from_numeric(Numeric{i * 1000 + 25, 2}),
                         Datum::from_timestamp((base_ms - 946684800000LL) * 1000 + i * 1000000LL),
                         Datum::from_bool(i % 2 == 0),
                         i % 4 == 0 ? Datum::null() : Datum::from_date(8700 + i),
                         parse_datum("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a" + std::to_string(10 + i), Type(TypeId::kUuid), arena),
                         Datum::from_string(attrs)};
    b.append("shop.public.customers", i % 3, row({Datum::from_int(i)}), row(v), base_ms + i);
  }
  b.append("shop.public.customers", 7 % 3, row({Datum::from_int(7)}), std::nullopt, base_ms + 100);

  TopicColumn oid{"order_id", Type(TypeId::kInt8), false};
  b.add_topic(TopicInfo{"shop.public.orders", 6, {oid},
                        {oid,
                         {"customer", Type(TypeId::kInt4), false},
                         {"amount", Type(TypeId::kFloat8), false},
                         {"note", Type(TypeId::kText), true}},
                        TopicFormat::kAvro});
  for (int i = 0; i < 60; ++i) {
    std::vector<Datum> v{Datum::from_int(i), Datum::from_int(i % 7), Datum::from_float(i * 1.5), Datum::null()};
    std::string note = "note " + std::to_string(i);
    if (i % 3 != 0) v[3] = Datum::from_string(note);
    b.append("shop.public.orders", i % 6, row({Datum::from_int(i)}), row(v), base_ms + i);
  }

  TopicColumn k{"k", Type(TypeId::kText), false};
  b.add_topic(TopicInfo{"shop.public.events", 1, {k},
                        {k, {"n", Type(TypeId::kInt4), true}, {"payload", Type(TypeId::kJsonb), true}},
                        TopicFormat::kJson});
  for (int i = 1; i <= 3; ++i) {
    std::string key = "e" + std::to_string(i);
    std::string payload = "{\"i\": " + std::to_string(i) + "}";
    b.append("shop.public.events", 0, row({Datum::from_string(key)}),
             row({Datum::from_string(key), Datum::from_int(i), Datum::from_string(payload)}), base_ms + i);
  }
}
}  // namespace

int main(int argc, char** argv) {
  KafkaServerOptions opts;
  SchemaRegistryServer::Options reg;
  std::string schemas_file;
  std::vector<std::pair<std::string, std::string>> users;
  opts.groups.initial_rebalance_delay_ms = 1000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port") {
      opts.port = static_cast<uint16_t>(std::stoi(next()));
    } else if (a == "--registry-port") {
      reg.port = static_cast<uint16_t>(std::stoi(next()));
    } else if (a == "--sasl") {
      opts.sasl_required = true;
      reg.basic_auth_required = true;
    } else if (a == "--tls-cert") {
      opts.tls_cert_file = next();
    } else if (a == "--tls-key") {
      opts.tls_key_file = next();
    } else if (a == "--user") {
      std::string u = next();
      size_t colon = u.find(':');
      if (colon == std::string::npos) {
        std::fprintf(stderr, "--user wants NAME:PASSWORD\n");
        return 2;
      }
      users.emplace_back(u.substr(0, colon), u.substr(colon + 1));
    } else if (a == "--schemas-file") {
      schemas_file = next();
    } else if (a == "--rebalance-delay-ms") {
      opts.groups.initial_rebalance_delay_ms = std::stoi(next());
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  MemoryBackend backend(schemas_file);
  for (auto& [u, p] : users) backend.add_user(u, p);
  load(backend);
  SchemaCatalog catalog(backend);
  if (Status s = catalog.sync_topics(); !s) {
    std::fprintf(stderr, "schema catalog: %s\n", s.message().c_str());
    return 1;
  }
  KafkaServer server(backend, catalog, opts);
  if (Status s = server.start(); !s) {
    std::fprintf(stderr, "kafka: %s\n", s.message().c_str());
    return 1;
  }
  SchemaRegistryServer registry(backend, catalog, reg);
  if (Status s = registry.start(); !s) {
    std::fprintf(stderr, "registry: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("ready kafka=%u registry=%u\n", server.port(), registry.port());
  std::fflush(stdout);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  registry.stop();
  server.stop();
  return 0;
}
