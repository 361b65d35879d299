#pragma once
// Built-in load generators (CREATE SOURCE ... FROM LOAD GENERATOR COUNTER | AUCTION | SALES |
// NEXMARK):
// capture::Source implementations that invent upstream transactions instead of reading them.
// Each tick (TICK INTERVAL, default 1 s) is one transaction of RATE changes (default 1); the
// position is the tick number, so a restarted generator continues where it stopped (exactly
// once: ticks at or before the stored position are not produced again). SEED makes the
// sequence reproducible.
//
// SALES is the seed tutorial's workload: table sales(sale_id, product_id, customer_id,
// sale_date, quantity, unit_price, total_price); each change inserts (70%), deletes (20%) or
// updates (10%) a random row; product 1-100, customer 1-1000, quantity 1-10, unit_price
// 10.00-100.00, total_price = quantity * unit_price, sale_date within the current year.
//
// NEXMARK is the Nexmark benchmark's person/auction/bid stream (loadgen/nexmark.hpp has its
// rules): RATE events per tick, MAX EVENTS in all (then it idles). Its position is the number
// of events delivered; each event is computed from (SEED, its number) alone, so a restart
// resumes there without replaying anything.

#include <memory>
#include <string>

#include "capture/source.hpp"

namespace freshet::capture {

struct LoadGenOptions {
  std::string kind;             // "counter", "auction", "sales", "nexmark"
  uint64_t tick_ms = 1000;
  uint64_t rate = 1;            // changes per tick (SALES, COUNTER); auctions per tick (AUCTION);
                                // events per tick (NEXMARK)
  uint64_t seed = 0;
  uint64_t max_cardinality = 0; // COUNTER: keep at most this many rows (0: unbounded)
  uint64_t max_events = 0;      // NEXMARK: stop after this many events (0: unbounded)
};

// Throws SqlError 22023 for an unknown kind or bad options.
std::unique_ptr<Source> make_load_generator(const LoadGenOptions& options);
// The tables a generator produces (known before it starts, for CREATE SOURCE).
std::vector<TableSchema> load_generator_tables(const std::string& kind);

}  // namespace freshet::capture
