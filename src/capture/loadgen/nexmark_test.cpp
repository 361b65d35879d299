// Unit tests of the Nexmark generator: proportions, determinism, id relationships, hot items,
// and the source's exactly-once resume by event count (through the capture::Source interface).

#include "capture/loadgen/nexmark.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "capture/loadgen/loadgen.hpp"

namespace freshet::capture {
namespace {

constexpr uint64_t kEvents = 100'000;

TEST(Nexmark, ProportionsAreOneThreeFortySix) {
  uint64_t counts[3] = {0, 0, 0};
  for (uint64_t n = 0; n < kEvents; ++n) ++counts[nexmark::event(7, n).table];
  EXPECT_EQ(counts[nexmark::kPersonTable], kEvents / 50);
  EXPECT_EQ(counts[nexmark::kAuctionTable], kEvents / 50 * 3);
  EXPECT_EQ(counts[nexmark::kBidTable], kEvents / 50 * 46);
}

TEST(Nexmark, DeterministicPerSeedAndEventNumber) {
  std::vector<std::string> first;
  for (uint64_t n = 0; n < 2000; ++n) first.emplace_back(nexmark::event(42, n).value.bytes());
  // Again, backwards: an event depends only on (seed, n).
  for (uint64_t n = 2000; n-- > 0;) EXPECT_EQ(nexmark::event(42, n).value.bytes(), first[n]) << n;
  size_t same = 0;
  for (uint64_t n = 0; n < 2000; ++n) same += nexmark::event(43, n).value.bytes() == first[n];
  EXPECT_LT(same, 20u) << "another seed must give other data";
}

TEST(Nexmark, SchemasMatchRows) {
  auto tables = nexmark::tables();
  ASSERT_EQ(tables.size(), 3u);
  EXPECT_EQ(tables[0].name, "person");
  EXPECT_EQ(tables[1].name, "auction");
  EXPECT_EQ(tables[2].name, "bid");
  for (uint64_t n = 0; n < 50; ++n) {
    auto e = nexmark::event(1, n);
    EXPECT_EQ(e.value.arity(), tables[e.table].columns.size());
    // The key is the key column of the row.
    ASSERT_EQ(tables[e.table].key.size(), 1u);
    EXPECT_EQ(e.key.get(0).as_int(), e.value.get(tables[e.table].key[0]).as_int());
  }
}

TEST(Nexmark, IdsReferToPersonsAndAuctionsThatExist) {
  std::set<int64_t> persons;
  std::set<int64_t> auctions;
  struct Ref {
    uint64_t n;
    int64_t id;
  };
  std::vector<Ref> sellers, bidders, bid_auctions;
  int64_t last_time = 0;
  uint64_t hot_auction_bids = 0, hot_bidder_bids = 0, hot_seller_auctions = 0, bids = 0, auction_count = 0;
  for (uint64_t n = 0; n < kEvents; ++n) {
    auto e = nexmark::event(3, n);
    auto v = e.value.unpack();
    if (e.table == nexmark::kPersonTable) {
      int64_t id = v[0].as_int();
      EXPECT_EQ(id, nexmark::kFirstPersonId + static_cast<int64_t>(persons.size())) << "person ids are consecutive";
      EXPECT_EQ(id, nexmark::last_person_id(n));
      persons.insert(id);
      EXPECT_GT(v[6].as_int(), last_time);
      last_time = v[6].as_int();
      EXPECT_EQ(v[3].as_string().size(), 19u);  // "dddd dddd dddd dddd"
    } else if (e.table == nexmark::kAuctionTable) {
      int64_t id = v[0].as_int();
      EXPECT_EQ(id, nexmark::kFirstAuctionId + static_cast<int64_t>(auctions.size())) << "auction ids are consecutive";
      EXPECT_EQ(id, nexmark::last_auction_id(n));
      auctions.insert(id);
      EXPECT_GT(v[5].as_int(), last_time);
      last_time = v[5].as_int();
      EXPECT_GT(v[6].as_int(), v[5].as_int()) << "expires after it starts";
      EXPECT_LE(v[6].as_int() - v[5].as_int(), 334'000);
      EXPECT_GE(v[4].as_int(), v[3].as_int()) << "reserve >= initial_bid";
      EXPECT_GE(v[8].as_int(), 10);
      EXPECT_LE(v[8].as_int(), 14);
      sellers.push_back({n, v[7].as_int()});
      ++auction_count;
      hot_seller_auctions += v[7].as_int() == (nexmark::last_person_id(n) - 1000) / 100 * 100 + 1000;
    } else {
      EXPECT_GT(v[5].as_int(), last_time);
      last_time = v[5].as_int();
      EXPECT_GT(v[2].as_int(), 0) << "price";
      bid_auctions.push_back({n, v[0].as_int()});
      bidders.push_back({n, v[1].as_int()});
      ++bids;
      hot_auction_bids += v[0].as_int() == (nexmark::last_auction_id(n) - 1000) / 100 * 100 + 1000;
      hot_bidder_bids += v[1].as_int() == (nexmark::last_person_id(n) - 1000) / 100 * 100 + 1001;
    }
  }
  // As in the reference, a reference may lead the entity it names by a few ids (at most 10
  // persons or auctions, so at most 500 events); every one made before the last 500 events
  // names a person or auction that the stream has created by its end.
  auto check = [&](const std::vector<Ref>& refs, const std::set<int64_t>& existing, const char* what) {
    uint64_t checked = 0;
    for (const auto& r : refs) {
      if (r.n + 500 >= kEvents) continue;
      ++checked;
      EXPECT_TRUE(existing.count(r.id)) << what << " " << r.id << " at event " << r.n;
    }
    EXPECT_GT(checked, 0u);
  };
  check(sellers, persons, "seller");
  check(bidders, persons, "bidder");
  check(bid_auctions, auctions, "auction");
  // At most 10 ahead of the newest at that event, never older than the active windows.
  for (const auto& r : bid_auctions) {
    EXPECT_LE(r.id, nexmark::last_auction_id(r.n) + 10);
    EXPECT_GE(r.id, nexmark::last_auction_id(r.n) - 100);
  }
  for (const auto& r : bidders) {
    EXPECT_LE(r.id, nexmark::last_person_id(r.n) + 10);
    EXPECT_GE(r.id, nexmark::last_person_id(r.n) - 1000);
  }
  // Hot items: 1/2 of the bids on the hot auction (plus random hits), 3/4 by the hot bidder,
  // 3/4 of the auctions by the hot seller.
  double hot_auction = static_cast<double>(hot_auction_bids) / static_cast<double>(bids);
  double hot_bidder = static_cast<double>(hot_bidder_bids) / static_cast<double>(bids);
  double hot_seller = static_cast<double>(hot_seller_auctions) / static_cast<double>(auction_count);
  EXPECT_GT(hot_auction, 0.48);
  EXPECT_LT(hot_auction, 0.53);
  EXPECT_GT(hot_bidder, 0.73);
  EXPECT_LT(hot_bidder, 0.77);
  EXPECT_GT(hot_seller, 0.73);
  EXPECT_LT(hot_seller, 0.77);
}

TEST(Nexmark, EventSizesNearTheReference) {
  // extra pads persons to 200 bytes, auctions to 500 and bids to 100 on average (the
  // reference's idealized sizes: 8 bytes per number, text by its length).
  double total[3] = {0, 0, 0};
  double count[3] = {0, 0, 0};
  for (uint64_t n = 0; n < 20'000; ++n) {
    auto e = nexmark::event(9, n);
    auto v = e.value.unpack();
    double size = 0;
    if (e.table == nexmark::kPersonTable)
      size = 8 + static_cast<double>(v[1].as_string().size() + v[2].as_string().size() + v[3].as_string().size() +
                                     v[4].as_string().size() + v[5].as_string().size() + v[7].as_string().size());
    else if (e.table == nexmark::kAuctionTable)
      size = 48 + static_cast<double>(v[1].as_string().size() + v[2].as_string().size() + v[9].as_string().size());
    else
      size = 32 + static_cast<double>(v[6].as_string().size());
    total[e.table] += size;
    count[e.table] += 1;
  }
  EXPECT_NEAR(total[0] / count[0], 200, 10);
  EXPECT_NEAR(total[1] / count[1], 500, 25);
  EXPECT_NEAR(total[2] / count[2], 100, 5);
}

// A SourceSink that records what it is given.
class RecordingSink : public SourceSink {
 public:
  Status set_schemas(const std::vector<TableSchema>& tables) override {
    std::lock_guard g(mu_);
    schemas_ = tables.size();
    return Status::ok();
  }
  Status apply(Transaction txn) override {
    std::lock_guard g(mu_);
    positions_.push_back(txn.position);
    for (auto& c : txn.changes) values_.emplace_back(c.value.bytes());
    cv_.notify_all();
    return Status::ok();
  }
  void report(const SourceStatus&) override {}
  // Waits until `n` rows arrived (or 10 s passed).
  bool wait_for(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return values_.size() >= n; });
  }

  std::mutex mu_;
  std::condition_variable cv_;
  size_t schemas_ = 0;
  std::vector<std::string> positions_;
  std::vector<std::string> values_;
};

TEST(Nexmark, SourceStopsAtMaxEventsAndResumesByEventCount) {
  LoadGenOptions o;
  o.kind = "nexmark";
  o.tick_ms = 1;
  o.rate = 300;
  o.seed = 5;
  o.max_events = 1000;
  RecordingSink all;
  {
    auto src = make_load_generator(o);
    ASSERT_TRUE(src->start(all, std::nullopt));
    ASSERT_TRUE(all.wait_for(1000));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // nothing more may come
    src->stop();
  }
  EXPECT_EQ(all.schemas_, 3u);
  ASSERT_EQ(all.values_.size(), 1000u);
  EXPECT_EQ(all.positions_, (std::vector<std::string>{"300", "600", "900", "1000"}));
  for (uint64_t n = 0; n < 1000; ++n) EXPECT_EQ(all.values_[n], nexmark::event(5, n).value.bytes());

  // Restarted at the stored position 600: events 600..999 once, nothing before.
  RecordingSink rest;
  {
    auto src = make_load_generator(o);
    ASSERT_TRUE(src->start(rest, std::string("600")));
    ASSERT_TRUE(rest.wait_for(400));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    src->stop();
  }
  ASSERT_EQ(rest.values_.size(), 400u);
  for (size_t i = 0; i < 400; ++i) EXPECT_EQ(rest.values_[i], all.values_[600 + i]);
  EXPECT_EQ(rest.positions_.back(), "1000");
}

TEST(Nexmark, BadOptionsAreRejected) {
  LoadGenOptions o;
  o.kind = "counter";
  o.max_events = 10;
  EXPECT_THROW(make_load_generator(o), SqlError);
  o.kind = "nexmark";
  o.rate = 0;
  EXPECT_THROW(make_load_generator(o), SqlError);
}

}  // namespace
}  // namespace freshet::capture
