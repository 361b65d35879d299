#include "capture/loadgen/loadgen.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "capture/loadgen/nexmark.hpp"
#include "common/format.hpp"
#include "common/numeric.hpp"

namespace freshet::capture {
namespace {

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

Row pack(std::vector<Datum> ds) { return Row::pack(ds); }

// Microseconds since 2000-01-01 for a Unix time in ms.
int64_t pg_micros(uint64_t unix_ms) { return static_cast<int64_t>(unix_ms) * 1000 - kUnixToPgEpochMicros; }

class Generator : public Source {
 public:
  explicit Generator(LoadGenOptions o) : opts_(std::move(o)), rng_(opts_.seed) {}
  ~Generator() override { stop(); }

  Status start(SourceSink& sink, std::optional<std::string> resume) override {
    sink_ = &sink;
    Status s = sink.set_schemas(load_generator_tables(opts_.kind));
    if (!s) return s;
    if (resume) {
      try {
        resume_tick_ = std::stoull(*resume);
      } catch (...) {
        return Status::error("load generator: bad stored position \"" + *resume + "\"");
      }
    }
    thread_ = std::thread([this] { run(); });
    return Status::ok();
  }

  void stop() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    SourceStatus st;
    st.state = "running";
    sink_->report(st);
    uint64_t tick = 0;
    const bool nexmark = opts_.kind == "nexmark";
    // NEXMARK: the stored position is the event count, and events do not depend on each other.
    if (nexmark) events_ = resume_tick_;
    // After a restart, replay the ticks already delivered to rebuild the generator's state
    // (the RNG stream and the live rows) without delivering them again.
    while (!nexmark && tick < resume_tick_) {
      ++tick;
      Transaction scratch;
      generate(tick, scratch);
    }
    auto next = std::chrono::steady_clock::now();
    while (true) {
      {
        std::unique_lock lock(mu_);
        if (nexmark && opts_.max_events > 0 && events_ >= opts_.max_events) {
          cv_.wait(lock, [this] { return stopping_; });  // all MAX EVENTS delivered
          break;
        }
        if (cv_.wait_until(lock, next, [this] { return stopping_; })) break;
      }
      next += std::chrono::milliseconds(opts_.tick_ms);
      // Catch up at most a few ticks after a stall rather than bursting.
      if (std::chrono::steady_clock::now() > next + std::chrono::milliseconds(opts_.tick_ms * 5))
        next = std::chrono::steady_clock::now();
      ++tick;
      Transaction txn;
      txn.commit_time_ms = now_ms();
      generate(tick, txn);
      txn.position = std::to_string(nexmark ? events_ : tick);
      if (txn.changes.empty()) continue;
      Status s = sink_->apply(std::move(txn));
      if (!s) {
        st.state = "error";
        st.last_error = s.message();
        sink_->report(st);
        break;
      }
    }
  }

  void generate(uint64_t tick, Transaction& txn) {
    if (opts_.kind == "counter") {
      for (uint64_t i = 0; i < opts_.rate; ++i) {
        ++counter_;
        Row k = pack({Datum::from_int(counter_)});
        txn.changes.push_back({Change::Op::kUpsert, 0, k, k});
        if (opts_.max_cardinality > 0 && counter_ > static_cast<int64_t>(opts_.max_cardinality)) {
          Row old = pack({Datum::from_int(counter_ - static_cast<int64_t>(opts_.max_cardinality))});
          txn.changes.push_back({Change::Op::kDelete, 0, old, Row()});
        }
      }
    } else if (opts_.kind == "sales") {
      for (uint64_t i = 0; i < opts_.rate; ++i) sales_change(txn);
    } else if (opts_.kind == "nexmark") {
      uint64_t end = events_ + opts_.rate;
      if (opts_.max_events > 0) end = std::min(end, opts_.max_events);
      txn.changes.reserve(static_cast<size_t>(end - events_));
      for (; events_ < end; ++events_) {
        nexmark::Event e = nexmark::event(opts_.seed, events_);
        txn.changes.push_back({Change::Op::kUpsert, e.table, std::move(e.key), std::move(e.value)});
      }
    } else {
      auction_tick(tick, txn);
    }
  }

  int64_t uniform(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }

  Row sales_row(int64_t id) {
    // A row's contents come from their own stream (seeded by the id and the change count), so
    // the main stream, which decides the changes, replays identically after a restart.
    std::mt19937_64 r(opts_.seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(id) * 1000003ULL + ++row_versions_);
    auto uni = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(r); };
    int64_t quantity = uni(1, 10);
    int64_t cents = uni(1000, 10000);  // 10.00 - 100.00
    Numeric unit{cents, 2};
    Numeric total{static_cast<__int128>(cents) * quantity, 2};
    // sale_date within the current year, not in the future
    auto now = now_ms();
    int y, m, d;
    date_to_ymd(static_cast<int32_t>(pg_micros(now) / kMicrosPerDay), y, m, d);
    int64_t year_start = static_cast<int64_t>(date_from_ymd(y, 1, 1)) * kMicrosPerDay;
    int64_t span = pg_micros(now) - year_start;
    int64_t sale = year_start + (span > 0 ? uni(0, span) : 0);
    sale -= sale % 1000000;  // whole seconds
    return pack({Datum::from_int(id), Datum::from_int(uni(1, 100)), Datum::from_int(uni(1, 1000)),
                 Datum::from_timestamp(sale), Datum::from_int(quantity), Datum::from_numeric(unit), Datum::from_numeric(total)});
  }

  void sales_change(Transaction& txn) {
    int64_t p = uniform(1, 100);
    if (p <= 70 || live_.empty()) {
      int64_t id = ++next_sale_id_;
      Row r = sales_row(id);
      index_[id] = live_.size();
      live_.push_back(id);
      txn.changes.push_back({Change::Op::kUpsert, 0, pack({Datum::from_int(id)}), r});
      return;
    }
    size_t pos = static_cast<size_t>(uniform(0, static_cast<int64_t>(live_.size()) - 1));
    int64_t id = live_[pos];
    if (p <= 90) {
      // delete: swap-remove from the live list
      live_[pos] = live_.back();
      index_[live_[pos]] = pos;
      live_.pop_back();
      index_.erase(id);
      txn.changes.push_back({Change::Op::kDelete, 0, pack({Datum::from_int(id)}), Row()});
    } else {
      txn.changes.push_back({Change::Op::kUpsert, 0, pack({Datum::from_int(id)}), sales_row(id)});
    }
  }

  void auction_tick(uint64_t tick, Transaction& txn) {
    if (tick == 1 || (tick <= resume_tick_ && !static_done_)) {
      // organizations, users, accounts: a fixed population
      if (!static_done_) {
        for (int64_t o = 1; o <= 10; ++o)
          txn.changes.push_back({Change::Op::kUpsert, 0, pack({Datum::from_int(o)}),
                                 pack({Datum::from_int(o), Datum::from_string(kOrgNames[o % 10])})});
        for (int64_t u = 1; u <= 100; ++u) {
          txn.changes.push_back({Change::Op::kUpsert, 1, pack({Datum::from_int(u)}),
                                 pack({Datum::from_int(u), Datum::from_int(1 + u % 10), Datum::from_string(kUserNames[u % 10])})});
          txn.changes.push_back({Change::Op::kUpsert, 2, pack({Datum::from_int(u)}),
                                 pack({Datum::from_int(u), Datum::from_int(u), Datum::from_int(1000)})});
        }
        static_done_ = true;
      }
    }
    auto now = now_ms();
    for (uint64_t i = 0; i < opts_.rate; ++i) {
      int64_t aid = ++next_auction_id_;
      int64_t end = pg_micros(now + 10'000);
      txn.changes.push_back({Change::Op::kUpsert, 3, pack({Datum::from_int(aid)}),
                             pack({Datum::from_int(aid), Datum::from_int(uniform(1, 100)), Datum::from_string(kItems[aid % 8]),
                                   Datum::from_timestamp(end)})});
      int64_t nbids = uniform(0, 4);
      for (int64_t b = 0; b < nbids; ++b) {
        int64_t bid = ++next_bid_id_;
        txn.changes.push_back({Change::Op::kUpsert, 4, pack({Datum::from_int(bid)}),
                               pack({Datum::from_int(bid), Datum::from_int(uniform(1, 100)), Datum::from_int(aid),
                                     Datum::from_int(uniform(1, 100)), Datum::from_timestamp(pg_micros(now))})});
      }
    }
  }

  static constexpr const char* kOrgNames[10] = {"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne"};
  static constexpr const char* kUserNames[10] = {"ada", "bo", "cy", "di", "ed", "flo", "gus", "hal", "ivy", "jo"};
  static constexpr const char* kItems[8] = {"Signed Memorabilia", "City Bar Crawl", "Best Pizza in Town", "Gift Basket",
                                            "Custom Art", "Rare Comic Book", "Vintage Watch", "Concert Tickets"};

  LoadGenOptions opts_;
  std::mt19937_64 rng_;
  SourceSink* sink_ = nullptr;
  uint64_t resume_tick_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  // generator state (owned by the thread)
  int64_t counter_ = 0;
  int64_t next_sale_id_ = 0;
  uint64_t row_versions_ = 0;
  std::vector<int64_t> live_;
  std::unordered_map<int64_t, size_t> index_;
  int64_t next_auction_id_ = 0;
  int64_t next_bid_id_ = 0;
  bool static_done_ = false;
  uint64_t events_ = 0;  // NEXMARK: events generated so far (the next event's number)
};

ColumnSchema col(const char* name, TypeId t, bool nullable = false, int32_t typmod = -1) {
  return ColumnSchema{name, Type(t, typmod), nullable};
}

}  // namespace

std::vector<TableSchema> load_generator_tables(const std::string& kind) {
  std::vector<TableSchema> t;
  auto table = [&](const char* name, std::vector<ColumnSchema> cols) {
    TableSchema s;
    s.upstream_schema = "public";
    s.upstream_name = name;
    s.name = name;
    s.columns = std::move(cols);
    s.key = {0};
    t.push_back(std::move(s));
  };
  if (kind == "counter") {
    table("counter", {col("counter", TypeId::kInt8)});
  } else if (kind == "sales") {
    table("sales", {col("sale_id", TypeId::kInt8), col("product_id", TypeId::kInt4), col("customer_id", TypeId::kInt4),
                    col("sale_date", TypeId::kTimestamp), col("quantity", TypeId::kInt4),
                    col("unit_price", TypeId::kNumeric, false, (10 << 16) | 2), col("total_price", TypeId::kNumeric, false, (10 << 16) | 2)});
  } else if (kind == "nexmark") {
    t = nexmark::tables();
  } else if (kind == "auction") {
    table("organizations", {col("id", TypeId::kInt8), col("name", TypeId::kText)});
    table("users", {col("id", TypeId::kInt8), col("org_id", TypeId::kInt8), col("name", TypeId::kText)});
    table("accounts", {col("id", TypeId::kInt8), col("org_id", TypeId::kInt8), col("balance", TypeId::kInt8)});
    table("auctions", {col("id", TypeId::kInt8), col("seller", TypeId::kInt8), col("item", TypeId::kText),
                       col("end_time", TypeId::kTimestamp)});
    table("bids", {col("id", TypeId::kInt8), col("buyer", TypeId::kInt8), col("auction_id", TypeId::kInt8),
                   col("amount", TypeId::kInt4), col("bid_time", TypeId::kTimestamp)});
  }
  return t;
}

std::unique_ptr<Source> make_load_generator(const LoadGenOptions& options) {
  if (options.kind != "counter" && options.kind != "sales" && options.kind != "auction" && options.kind != "nexmark")
    throw SqlError(sqlstate::kInvalidParameterValue, "unknown load generator \"" + options.kind + "\"")
        .with_hint("Available: COUNTER, AUCTION, SALES, NEXMARK.");
  if (options.max_events > 0 && options.kind != "nexmark")
    throw SqlError(sqlstate::kInvalidParameterValue, "MAX EVENTS applies to LOAD GENERATOR NEXMARK only");
  if (options.tick_ms == 0) throw SqlError(sqlstate::kInvalidParameterValue, "TICK INTERVAL must be positive");
  if (options.rate == 0 || options.rate > 1'000'000) throw SqlError(sqlstate::kInvalidParameterValue, "RATE must be between 1 and 1000000");
  return std::make_unique<Generator>(options);
}

}  // namespace freshet::capture
