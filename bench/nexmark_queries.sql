-- The Nexmark queries bench/nexmark.sh runs, in SQL that both Freshet and PostgreSQL 15 accept
-- (the same text in both). Each block starts with a header line
--   -- name: qN  key: <index columns>  feldera: <published events/s per core or ->
-- and runs to the next header. Tables as LOAD GENERATOR NEXMARK makes them (src/capture/README.md).
-- Windows: Nexmark's TUMBLE/HOP windows over date_time are written with epoch arithmetic
-- (window number = floor(epoch / size)), since neither engine has TUMBLE/HOP; event time
-- advances 100 µs per event, so 1M events span 100 s.
--
-- name: q0  key: auction  feldera: 436000
-- Pass-through.
SELECT auction, bidder, price, date_time, extra FROM bid
-- name: q1  key: auction  feldera: -
-- Currency conversion (dollars to euros).
SELECT auction, bidder, 0.908 * price AS price, date_time, extra FROM bid
-- name: q2  key: auction  feldera: -
-- Selection.
SELECT auction, price FROM bid WHERE auction % 123 = 0
-- name: q3  key: id  feldera: -
-- Local item suggestion: auctions of category 10 by sellers in OR, ID or CA.
SELECT p.name, p.city, p.state, a.id
FROM auction a JOIN person p ON a.seller = p.id
WHERE a.category = 10 AND (p.state = 'OR' OR p.state = 'ID' OR p.state = 'CA')
-- name: q4  key: category  feldera: 265000
-- Average closing price per category.
SELECT q.category, avg(q.final) AS avg_final
FROM (SELECT max(b.price) AS final, a.category
      FROM auction a JOIN bid b ON a.id = b.auction
      WHERE b.date_time BETWEEN a.date_time AND a.expires
      GROUP BY a.id, a.category) q
GROUP BY q.category
-- name: q5  key: auction  feldera: 412000
-- Hot items: the auctions with the most bids in each 10 s window sliding by 2 s.
SELECT c.auction, c.num, c.window_start
FROM (SELECT h.auction, h.window_start, count(*) AS num
      FROM (SELECT b.auction, (floor(extract(epoch FROM b.date_time) / 2)::bigint - k.k) * 2 AS window_start
            FROM bid b CROSS JOIN (VALUES (0), (1), (2), (3), (4)) AS k(k)) h
      GROUP BY h.auction, h.window_start) c
JOIN (SELECT g.window_start, max(g.num) AS maxn
      FROM (SELECT h.auction, h.window_start, count(*) AS num
            FROM (SELECT b.auction, (floor(extract(epoch FROM b.date_time) / 2)::bigint - k.k) * 2 AS window_start
                  FROM bid b CROSS JOIN (VALUES (0), (1), (2), (3), (4)) AS k(k)) h
            GROUP BY h.auction, h.window_start) g
      GROUP BY g.window_start) m
  ON c.window_start = m.window_start AND c.num = m.maxn
-- name: q7  key: auction  feldera: 196000
-- Highest bid in each 10 s tumbling window.
SELECT b.auction, b.price, b.bidder, b.date_time, b.extra
FROM bid b
JOIN (SELECT floor(extract(epoch FROM date_time) / 10)::bigint AS w, max(price) AS maxprice
      FROM bid GROUP BY floor(extract(epoch FROM date_time) / 10)::bigint) m
  ON floor(extract(epoch FROM b.date_time) / 10)::bigint = m.w AND b.price = m.maxprice
-- name: q8  key: id  feldera: -
-- Monitor new users: persons who opened an auction in the 10 s window they registered in.
SELECT p.id, p.name, p.w AS window_number
FROM (SELECT id, name, floor(extract(epoch FROM date_time) / 10)::bigint AS w FROM person) p
JOIN (SELECT DISTINCT seller, floor(extract(epoch FROM date_time) / 10)::bigint AS w FROM auction) a
  ON p.id = a.seller AND p.w = a.w
-- name: q9  key: id  feldera: 57000
-- Winning bids: each auction's highest bid during its lifetime (the earliest of equal ones).
SELECT id, item_name, description, initial_bid, reserve, date_time, expires, seller, category,
       auction, bidder, price, bid_date_time
FROM (SELECT a.id, a.item_name, a.description, a.initial_bid, a.reserve, a.date_time, a.expires, a.seller,
             a.category, b.auction, b.bidder, b.price, b.date_time AS bid_date_time,
             row_number() OVER (PARTITION BY a.id ORDER BY b.price DESC, b.date_time ASC) AS rownum
      FROM auction a JOIN bid b ON a.id = b.auction
      WHERE b.date_time BETWEEN a.date_time AND a.expires) t
WHERE rownum <= 1
-- name: q16  key: channel  feldera: 51000
-- Channel statistics per day.
SELECT channel, date_trunc('day', date_time) AS day, max(date_trunc('minute', date_time)) AS minute,
       count(*) AS total_bids,
       count(*) FILTER (WHERE price < 10000) AS rank1_bids,
       count(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,
       count(*) FILTER (WHERE price >= 1000000) AS rank3_bids,
       count(DISTINCT bidder) AS total_bidders,
       count(DISTINCT bidder) FILTER (WHERE price < 10000) AS rank1_bidders,
       count(DISTINCT bidder) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bidders,
       count(DISTINCT bidder) FILTER (WHERE price >= 1000000) AS rank3_bidders,
       count(DISTINCT auction) AS total_auctions,
       count(DISTINCT auction) FILTER (WHERE price < 10000) AS rank1_auctions,
       count(DISTINCT auction) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_auctions,
       count(DISTINCT auction) FILTER (WHERE price >= 1000000) AS rank3_auctions
FROM bid
GROUP BY channel, date_trunc('day', date_time)
-- name: q17  key: auction  feldera: -
-- Auction statistics per day.
SELECT auction, date_trunc('day', date_time) AS day,
       count(*) AS total_bids,
       count(*) FILTER (WHERE price < 10000) AS rank1_bids,
       count(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,
       count(*) FILTER (WHERE price >= 1000000) AS rank3_bids,
       min(price) AS min_price, max(price) AS max_price, avg(price) AS avg_price, sum(price) AS sum_price
FROM bid
GROUP BY auction, date_trunc('day', date_time)
-- name: q18  key: auction,bidder  feldera: 85000
-- The last bid of each bidder on each auction.
SELECT auction, bidder, price, channel, url, date_time, extra
FROM (SELECT *, row_number() OVER (PARTITION BY bidder, auction ORDER BY date_time DESC) AS rank_number
      FROM bid) t
WHERE rank_number <= 1
-- name: q19  key: auction  feldera: 75000
-- The 10 highest bids of each auction (ties broken by date_time, unique per event, so that both
-- engines pick the same rows; Nexmark orders by price alone).
SELECT auction, bidder, price, channel, url, date_time, extra, rank_number
FROM (SELECT *, row_number() OVER (PARTITION BY auction ORDER BY price DESC, date_time) AS rank_number FROM bid) t
WHERE rank_number <= 10
-- name: q20  key: auction  feldera: 85000
-- Bids expanded with their auction, category 10 only.
SELECT b.auction, b.bidder, b.price, b.channel, b.url, b.date_time, b.extra,
       a.item_name, a.description, a.initial_bid, a.reserve, a.date_time AS auction_date_time, a.expires,
       a.seller, a.category, a.extra AS auction_extra
FROM bid b JOIN auction a ON b.auction = a.id
WHERE a.category = 10
-- name: j3  key: auction  feldera: -
-- (Not a Nexmark query.) A three-way join, maintained as a delta join: every bid with its
-- auction's category and its seller.
SELECT b.auction, b.bidder, b.price, a.category, p.name AS seller, p.state
FROM bid b JOIN auction a ON a.id = b.auction JOIN person p ON p.id = a.seller
-- name: j4  key: auction  feldera: -
-- (Not a Nexmark query.) A four-way join, maintained as a delta join: every bid with its
-- auction, the seller and the bidder (person read twice, arranged once by id).
SELECT b.auction, b.price, a.category, s.name AS seller, p.name AS bidder
FROM bid b JOIN auction a ON a.id = b.auction JOIN person s ON s.id = a.seller JOIN person p ON p.id = b.bidder
