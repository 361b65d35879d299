#include "capture/loadgen/nexmark.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

namespace freshet::capture::nexmark {
namespace {

constexpr int64_t kPersonProportion = 1;
constexpr int64_t kAuctionProportion = 3;
constexpr int64_t kProportionDenominator = 50;  // 1 + 3 + 46
constexpr int64_t kNumActivePeople = 1000;
constexpr int64_t kNumInFlightAuctions = 100;
constexpr int64_t kPersonIdLead = 10;
constexpr int64_t kAuctionIdLead = 10;
constexpr int64_t kHotRatio = 100;          // hot ids: the first (or second) of each batch of 100
constexpr int64_t kHotAuctionRatio = 2;     // 1 - 1/2 of the bids go to the hot auction
constexpr int64_t kHotSellersRatio = 4;     // 1 - 1/4 of the auctions are by the hot seller
constexpr int64_t kHotBiddersRatio = 4;     // 1 - 1/4 of the bids are by the hot bidder
constexpr int64_t kHotChannelsRatio = 100;  // 1 - 1/100 of the bids come from a hot channel
constexpr int64_t kChannels = 10'000;
constexpr int64_t kNumCategories = 5;
constexpr int kAvgPersonBytes = 200;
constexpr int kAvgAuctionBytes = 500;
constexpr int kAvgBidBytes = 100;

constexpr std::array<const char*, 6> kStates = {"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::array<const char*, 10> kCities = {"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
                                                 "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"};
constexpr std::array<const char*, 11> kFirstNames = {"Peter", "Paul", "Luke", "John", "Saul", "Vicky",
                                                     "Kate", "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::array<const char*, 9> kLastNames = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                                   "Walton", "Smith", "Jones", "Noris"};
constexpr std::array<const char*, 4> kHotChannels = {"Google", "Facebook", "Baidu", "Apple"};
constexpr std::array<const char*, 4> kHotUrls = {
    "https://www.nexmark.com/googl/item.htm?query=1", "https://www.nexmark.com/meta/item.htm?query=1",
    "https://www.nexmark.com/baidu/item.htm?query=1", "https://www.nexmark.com/apple/item.htm?query=1"};

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// SplitMix64: small, fast, and good enough for benchmark data; one per event.
class Random {
 public:
  Random(uint64_t seed, uint64_t n) : state_(mix64(seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL) ^ mix64(n + 1)) {}
  uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(state_);
  }
  // Uniform in [0, bound); bound > 0.
  int64_t below(int64_t bound) {
    return static_cast<int64_t>((static_cast<unsigned __int128>(next()) * static_cast<uint64_t>(bound)) >> 64);
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

// Ids without the FIRST_*_ID offset ("base 0"), as in the reference.
int64_t last_base0_person(int64_t n) {
  int64_t epoch = n / kProportionDenominator;
  int64_t offset = n % kProportionDenominator;
  if (offset >= kPersonProportion) offset = kPersonProportion - 1;
  return epoch * kPersonProportion + offset;
}

int64_t last_base0_auction(int64_t n) {
  int64_t epoch = n / kProportionDenominator;
  int64_t offset = n % kProportionDenominator;
  if (offset < kPersonProportion) {
    --epoch;  // about to make a person: the last auction of the previous epoch
    offset = kAuctionProportion - 1;
  } else if (offset >= kPersonProportion + kAuctionProportion) {
    offset = kAuctionProportion - 1;  // about to make a bid: the last auction of this epoch
  } else {
    offset -= kPersonProportion;
  }
  return epoch * kAuctionProportion + offset;
}

int64_t next_base0_person(int64_t n, Random& r) {
  int64_t people = last_base0_person(n) + 1;
  int64_t active = std::min(people, kNumActivePeople);
  return people - active + r.below(active + kPersonIdLead);
}

int64_t next_base0_auction(int64_t n, Random& r) {
  int64_t max_auction = last_base0_auction(n);
  int64_t min_auction = std::max<int64_t>(max_auction - kNumInFlightAuctions, 0);
  return min_auction + r.below(std::max<int64_t>(max_auction - min_auction + 1, 1) + kAuctionIdLead);
}

int64_t next_price(Random& r) { return std::llround(std::pow(10.0, r.unit() * 6.0) * 100.0); }

// Up to max_length - 1 letters with ~1/13 spaces, trimmed (at least 3 before trimming).
std::string next_string(Random& r, int max_length) {
  int64_t len = 3 + r.below(max_length - 3);
  std::string s;
  s.reserve(static_cast<size_t>(len));
  while (len-- > 0) s.push_back(r.below(13) == 0 ? ' ' : static_cast<char>('a' + r.below(26)));
  size_t b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(' ');
  return s.substr(b, e - b + 1);
}

std::string next_exact_string(Random& r, int64_t length) {
  std::string s;
  s.reserve(static_cast<size_t>(std::max<int64_t>(length, 0)));
  while (length-- > 0) s.push_back(static_cast<char>('a' + r.below(26)));
  return s;
}

// Pads an event of current_size bytes to desired_average bytes on average (±20%).
std::string next_extra(Random& r, int64_t current_size, int64_t desired_average) {
  if (current_size > desired_average) return "";
  desired_average -= current_size;
  int64_t delta = std::llround(static_cast<double>(desired_average) * 0.2);
  int64_t min_size = desired_average - delta;
  return next_exact_string(r, min_size + (delta == 0 ? 0 : r.below(2 * delta)));
}

int64_t event_time(int64_t n) { return kBaseTimePgMicros + n * kInterEventMicros; }

Event make_person(int64_t n, Random& r) {
  int64_t id = last_base0_person(n) + kFirstPersonId;
  std::string name = std::string(kFirstNames[static_cast<size_t>(r.below(kFirstNames.size()))]) + " " +
                     kLastNames[static_cast<size_t>(r.below(kLastNames.size()))];
  std::string email = next_string(r, 7) + "@" + next_string(r, 5) + ".com";
  std::string card;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) card.push_back(' ');
    std::string digits = std::to_string(r.below(10000));
    card.append(4 - digits.size(), '0');
    card += digits;
  }
  std::string city = kCities[static_cast<size_t>(r.below(kCities.size()))];
  std::string state = kStates[static_cast<size_t>(r.below(kStates.size()))];
  int64_t size = 8 + static_cast<int64_t>(name.size() + email.size() + card.size() + city.size() + state.size());
  std::string extra = next_extra(r, size, kAvgPersonBytes);
  Event e;
  e.table = kPersonTable;
  std::vector<Datum> key = {Datum::from_int(id)};
  e.key = Row::pack(key);
  std::vector<Datum> v = {Datum::from_int(id),        Datum::from_string(name), Datum::from_string(email),
                          Datum::from_string(card),   Datum::from_string(city), Datum::from_string(state),
                          Datum::from_timestamp(event_time(n)), Datum::from_string(extra)};
  e.value = Row::pack(v);
  return e;
}

Event make_auction(int64_t n, Random& r) {
  int64_t id = last_base0_auction(n) + kFirstAuctionId;
  int64_t seller;
  if (r.below(kHotSellersRatio) > 0)
    seller = (last_base0_person(n) / kHotRatio) * kHotRatio;  // the first of the last 100 persons
  else
    seller = next_base0_person(n, r);
  seller += kFirstPersonId;
  int64_t category = kFirstCategoryId + r.below(kNumCategories);
  int64_t initial_bid = next_price(r);
  // The auction lasts on average as long as it takes to create kNumInFlightAuctions more.
  int64_t events_for_auctions = kNumInFlightAuctions * kProportionDenominator / kAuctionProportion;
  int64_t horizon_ms = events_for_auctions * kInterEventMicros / 1000;
  int64_t length_ms = 1 + r.below(std::max<int64_t>(horizon_ms * 2, 1));
  std::string name = next_string(r, 20);
  std::string desc = next_string(r, 100);
  int64_t reserve = initial_bid + next_price(r);
  int64_t size = 8 + static_cast<int64_t>(name.size() + desc.size()) + 8 + 8 + 8 + 8 + 8;
  std::string extra = next_extra(r, size, kAvgAuctionBytes);
  int64_t t = event_time(n);
  Event e;
  e.table = kAuctionTable;
  std::vector<Datum> key = {Datum::from_int(id)};
  e.key = Row::pack(key);
  std::vector<Datum> v = {Datum::from_int(id),          Datum::from_string(name),     Datum::from_string(desc),
                          Datum::from_int(initial_bid), Datum::from_int(reserve),     Datum::from_timestamp(t),
                          Datum::from_timestamp(t + length_ms * 1000), Datum::from_int(seller),
                          Datum::from_int(category),    Datum::from_string(extra)};
  e.value = Row::pack(v);
  return e;
}

Event make_bid(int64_t n, Random& r) {
  int64_t auction;
  if (r.below(kHotAuctionRatio) > 0)
    auction = (last_base0_auction(n) / kHotRatio) * kHotRatio;  // the first of the last 100 auctions
  else
    auction = next_base0_auction(n, r);
  auction += kFirstAuctionId;
  int64_t bidder;
  if (r.below(kHotBiddersRatio) > 0)
    bidder = (last_base0_person(n) / kHotRatio) * kHotRatio + 1;  // the second: not the hot seller
  else
    bidder = next_base0_person(n, r);
  bidder += kFirstPersonId;
  int64_t price = next_price(r);
  std::string channel;
  std::string url;
  if (r.below(kHotChannelsRatio) > 0) {
    size_t i = static_cast<size_t>(r.below(kHotChannels.size()));
    channel = kHotChannels[i];
    url = kHotUrls[i];
  } else {
    int64_t c = r.below(kChannels);
    channel = "channel-" + std::to_string(c);
    url = "https://www.nexmark.com/" + next_string(r, 5) + "/" + next_string(r, 5) + "/" + next_string(r, 5) +
          "/item.htm?query=1";
    if (r.below(10) > 0) url += "&channel_id=" + std::to_string(c);
  }
  std::string extra = next_extra(r, 8 + 8 + 8 + 8, kAvgBidBytes);
  int64_t t = event_time(n);
  Event e;
  e.table = kBidTable;
  std::vector<Datum> key = {Datum::from_timestamp(t)};
  e.key = Row::pack(key);
  std::vector<Datum> v = {Datum::from_int(auction),   Datum::from_int(bidder), Datum::from_int(price),
                          Datum::from_string(channel), Datum::from_string(url), Datum::from_timestamp(t),
                          Datum::from_string(extra)};
  e.value = Row::pack(v);
  return e;
}

ColumnSchema col(const char* name, TypeId t) { return ColumnSchema{name, Type(t, -1), false}; }

}  // namespace

Event event(uint64_t seed, uint64_t n) {
  Random r(seed, n);
  auto i = static_cast<int64_t>(n);
  int64_t rem = i % kProportionDenominator;
  if (rem < kPersonProportion) return make_person(i, r);
  if (rem < kPersonProportion + kAuctionProportion) return make_auction(i, r);
  return make_bid(i, r);
}

int64_t last_person_id(uint64_t n) { return last_base0_person(static_cast<int64_t>(n)) + kFirstPersonId; }
int64_t last_auction_id(uint64_t n) { return last_base0_auction(static_cast<int64_t>(n)) + kFirstAuctionId; }

std::vector<TableSchema> tables() {
  std::vector<TableSchema> t;
  auto table = [&](const char* name, std::vector<ColumnSchema> cols, uint32_t key) {
    TableSchema s;
    s.upstream_schema = "public";
    s.upstream_name = name;
    s.name = name;
    s.columns = std::move(cols);
    s.key = {key};
    t.push_back(std::move(s));
  };
  table("person",
        {col("id", TypeId::kInt8), col("name", TypeId::kText), col("email_address", TypeId::kText),
         col("credit_card", TypeId::kText), col("city", TypeId::kText), col("state", TypeId::kText),
         col("date_time", TypeId::kTimestamp), col("extra", TypeId::kText)},
        0);
  table("auction",
        {col("id", TypeId::kInt8), col("item_name", TypeId::kText), col("description", TypeId::kText),
         col("initial_bid", TypeId::kInt8), col("reserve", TypeId::kInt8), col("date_time", TypeId::kTimestamp),
         col("expires", TypeId::kTimestamp), col("seller", TypeId::kInt8), col("category", TypeId::kInt8),
         col("extra", TypeId::kText)},
        0);
  table("bid",
        {col("auction", TypeId::kInt8), col("bidder", TypeId::kInt8), col("price", TypeId::kInt8),
         col("channel", TypeId::kText), col("url", TypeId::kText), col("date_time", TypeId::kTimestamp),
         col("extra", TypeId::kText)},
        5);
  return t;
}

}  // namespace freshet::capture::nexmark
