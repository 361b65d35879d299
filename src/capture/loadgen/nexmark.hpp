#pragma once
// The Nexmark event generator (CREATE SOURCE ... FROM LOAD GENERATOR NEXMARK): the standard
// person / auction / bid stream of the Nexmark benchmark, with the rules of the reference
// implementation's generator (Apache Beam's sdks/java/testing/nexmark, which Flink's, Feldera's
// and RisingWave's generators follow):
//
// - Event n (0-based) is a person when n % 50 == 0, an auction when n % 50 is 1..3, a bid
//   otherwise: proportions 1:3:46.
// - Ids are derived from the event number: person ids 1000, 1001, ... (one per 50 events),
//   auction ids 1000, 1001, ... (three per 50 events). A new auction's seller and a bid's bidder
//   are chosen among the last 1,000 persons plus up to 10 not yet created ("leads", as in the
//   reference: a few events refer to a person or auction that the next events create); a
//   bid's auction among the last 100 auctions plus 10 leads.
// - Hot items: half the bids go to the hot auction (the first of the current batch of 100
//   auctions), 3/4 of the bids come from the hot bidder (the second of the current batch of 100
//   persons) and 3/4 of the auctions from the hot seller (the first of that batch).
// - Prices are round(10^(6u) * 100) for u uniform in [0, 1); 5 categories (10..14); an auction
//   lasts 1..333 ms of event time (the reference's default horizon for 100 auctions in flight);
//   names, descriptions, e-mails, credit cards, cities and states as in the reference; `extra`
//   pads a person to 200 bytes, an auction to 500 and a bid to 100 on average. Bids carry the
//   channel and url columns that Flink's and Feldera's Nexmark added (99% from 4 hot channels).
// - Event time: 2015-07-15 00:00:00 UTC (the reference's fixed base time, so runs reproduce)
//   plus 100 µs per event (the reference's default 10,000 events/s), kept at microsecond
//   precision, so every event has its own date_time (the reference rounds to milliseconds).
//   That makes bid.date_time unique, and it is the bid table's key (Nexmark's bid has none).
//
// Every event draws from its own random stream seeded by (SEED, event number), so an event
// does not depend on the ones before it: a restarted source resumes at the stored event count
// without replaying anything, and any event can be recomputed on its own (the unit tests do).
//
// Pure functions; any thread.

#include <cstdint>
#include <vector>

#include "capture/source.hpp"
#include "common/row.hpp"

namespace freshet::capture::nexmark {

inline constexpr uint32_t kPersonTable = 0;
inline constexpr uint32_t kAuctionTable = 1;
inline constexpr uint32_t kBidTable = 2;

inline constexpr int64_t kFirstPersonId = 1000;
inline constexpr int64_t kFirstAuctionId = 1000;
inline constexpr int64_t kFirstCategoryId = 10;
inline constexpr int64_t kInterEventMicros = 100;
// 2015-07-15 00:00:00 UTC in microseconds since 2000-01-01 (PostgreSQL's epoch).
inline constexpr int64_t kBaseTimePgMicros = 490'233'600'000'000LL;

struct Event {
  uint32_t table = 0;  // kPersonTable, kAuctionTable or kBidTable
  Row key;             // person/auction: (id); bid: (date_time)
  Row value;           // the whole row, columns as in tables()
};

// Event number `n` of the stream with this seed.
Event event(uint64_t seed, uint64_t n);

// person(id, name, email_address, credit_card, city, state, date_time, extra),
// auction(id, item_name, description, initial_bid, reserve, date_time, expires, seller,
//         category, extra),
// bid(auction, bidder, price, channel, url, date_time, extra).
std::vector<TableSchema> tables();

// The id of the last person / auction created at or before event n (ids as in the tables;
// kFirstPersonId - 1 when none yet). For tests and documentation of the id rules.
int64_t last_person_id(uint64_t n);
int64_t last_auction_id(uint64_t n);

}  // namespace freshet::capture::nexmark
