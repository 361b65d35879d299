// Temporal filter acceptance: the seed tutorial's sales_anomalies view, verbatim, over rows whose
// 7-day window ends a second or two apart. Checks, against a model of the view evaluated in JS:
//   1. polling: every SELECT of the indexed view (and a point lookup) equals the model at some
//      moment within TOL_MS of when the query ran, so each row leaves (and enters) on time;
//   2. SUBSCRIBE (DECLARE CURSOR / FETCH): the changes, grouped by mz_timestamp, keep every row's
//      count at 0 or 1 (no duplicate insertions, no retraction without an insertion), each
//      expiry's retraction carries a timestamp in [until, until + TOL_MS] (never early), the
//      state after each timestamp equals the model at that timestamp, and the final state equals
//      a SELECT of the view.
// Writes during the run: an UPDATE that ends an anomaly early, a DELETE of a row whose retraction
// is already scheduled (which must then never be retracted a second time), and a late INSERT.
//
//   node temporal_anomalies.js     env: PGHOST/PGPORT/PGUSER/PGDATABASE, TEMPORAL_TOL_MS (250)
'use strict';
const { Client, types } = require('pg');
for (const oid of [20, 23, 1700, 1114, 1184]) types.setTypeParser(oid, (v) => v);

const TOL_MS = Number(process.env.TEMPORAL_TOL_MS || 250);
const STEP_MS = Number(process.env.TEMPORAL_STEP_MS || 1500);
const DAY_MS = 86400000;
const WEEK_MS = 7 * DAY_MS;
let failures = 0;
function fail(msg) { failures++; if (failures <= 30) console.log(`FAIL ${msg}`); }

const VIEW_SQL = `create view sales_anomalies as with recent_sales as (select * from sales where mz_now() <= sale_date + interval '7 days'), rolling_avg as (select customer_id, avg(total_price) as customer_spend_avg from recent_sales group by customer_id) select a.customer_id, a.customer_spend_avg, s.product_id, s.quantity, s.sale_date, s.sale_id, s.total_price, s.unit_price from recent_sales s join rolling_avg a using(customer_id) where s.total_price > 1.5 * a.customer_spend_avg;`;
const INDEX_SQL = 'create index on sales_anomalies (customer_id);';

// 'YYYY-MM-DD HH:MM:SS.mmm' in UTC (timestamp without time zone; the session is UTC).
const ts = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

function connect(name) {
  return new Client({ application_name: name, connectionTimeoutMillis: 15000 });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the model ---------------------------------------------------------------------------
// rows: sale_id -> {sale_id, customer_id, sale_ms, total, product_id, quantity, unit}
// writes: [{send, ack, apply(rowsMap)}]; a write is in effect at time T when ack <= T (or as
// overridden, for writes whose [send, ack] is too close to T to tell).
const baseRows = new Map();
const writes = [];
function rowsAt(T, override) {
  const rows = new Map([...baseRows].map(([k, v]) => [k, { ...v }]));
  for (const w of writes) {
    const on = override && override.has(w) ? override.get(w) : w.ack <= T;
    if (on) w.apply(rows);
  }
  return rows;
}
// The view at mz_now() = T: a map sale_id -> avg (rounded), the identity of an output row.
function viewAt(T, override) {
  const recent = [...rowsAt(T, override).values()].filter((r) => T <= r.sale_ms + WEEK_MS);
  const sum = new Map(), cnt = new Map();
  for (const r of recent) {
    sum.set(r.customer_id, (sum.get(r.customer_id) || 0) + r.total);
    cnt.set(r.customer_id, (cnt.get(r.customer_id) || 0) + 1);
  }
  const out = new Map();
  for (const r of recent) {
    const avg = sum.get(r.customer_id) / cnt.get(r.customer_id);
    if (r.total > 1.5 * avg) out.set(r.sale_id, avg.toPrecision(10));
  }
  return out;
}
const keyOf = (m) => [...m].map(([id, avg]) => `${id}@${avg}`).sort().join(' ');
// The model's states near T: with writes whose [send, ack] lies within `slack` of T both ways.
function candidates(T, slack) {
  const near = writes.filter((w) => w.send - slack <= T && T <= w.ack + slack);
  const out = new Set();
  for (let mask = 0; mask < (1 << near.length); mask++) {
    const ov = new Map(near.map((w, i) => [w, !!(mask & (1 << i))]));
    out.add(keyOf(viewAt(T, ov)));
  }
  return out;
}
// Every state the model passes through in [t0, t1] (transitions happen at until + 1 and at writes).
function statesBetween(t0, t1, slack) {
  const points = new Set([t0, t1]);
  for (const r of baseRows.values()) {
    const u = r.sale_ms + WEEK_MS + 1;
    if (u > t0 && u <= t1) points.add(u);
  }
  for (const w of writes) for (const p of [w.send, w.ack]) if (p > t0 && p <= t1) points.add(p);
  const out = new Set();
  for (const p of points) for (const k of candidates(p, slack)) out.add(k);
  return out;
}

function rowKey(r) {  // a view row as delivered: sale_id and the average (by value)
  return `${r.sale_id}@${Number(r.customer_spend_avg).toPrecision(10)}`;
}

async function main() {
  const a = connect('temporal_poll');
  const b = connect('temporal_subscribe');
  await a.connect();
  await b.connect();
  await a.query('create table sales(sale_id int primary key, product_id int, customer_id int, sale_date timestamp, quantity int, unit_price numeric, total_price numeric)');
  await a.query(VIEW_SQL);
  await a.query(INDEX_SQL);

  // Subscription first, so that the inserts arrive as changes too.
  await b.query('BEGIN');
  await b.query('DECLARE c CURSOR FOR SUBSCRIBE sales_anomalies');
  const changes = [];  // {t, diff, key, row}
  let subscribing = true, subError = null;
  const subLoop = (async () => {
    while (subscribing) {
      const r = await b.query("FETCH ALL c WITH (timeout = '1s')");
      for (const row of r.rows) {
        changes.push({ t: Number(row.mz_timestamp), diff: Number(row.mz_diff), key: rowKey(row), row });
      }
    }
  })().catch((e) => { subError = e; });

  // The server's clock (the ticker follows it) against ours: the sample with the shortest round
  // trip. mz_now() itself trails the clock by up to a tick, so it only gets a sanity check.
  let skew = 0, best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    const r = (await a.query('SELECT mz_now()::text AS m, (extract(epoch from now()) * 1000)::text AS n')).rows[0];
    const t1 = Date.now();
    if (t1 - t0 < best) { best = t1 - t0; skew = Math.round(Number(r.n) - (t0 + t1) / 2); }
    if (Math.abs(Number(r.m) - Number(r.n)) > 1000) fail(`mz_now() ${r.m} is more than 1 s from now() ${r.n}`);
  }
  const now0 = Date.now() + skew;
  console.log(`temporal: server clock ${now0}, skew ${skew} ms (round trip ${best} ms), tolerance ${TOL_MS} ms, step ${STEP_MS} ms`);
  const base = now0 + 2500;
  const E = (k) => base + k * STEP_MS;   // the k-th expiry (mz_now() > E(k) removes the row)

  let nextId = 1;
  const rows = [];
  const add = (customer_id, sale_ms, total) => {
    const r = { sale_id: nextId++, customer_id, sale_ms, total, product_id: 100 + customer_id, quantity: 1 + (nextId % 3), unit: total };
    rows.push(r);
    return r;
  };
  const normals = (c, n, total = 10) => { for (let i = 0; i < n; i++) add(c, now0 - DAY_MS - i * 1000, total); };
  // c1: one anomaly, gone at E1.
  normals(1, 9); const s1 = add(1, E(1) - WEEK_MS, 100);
  // c2: two anomalies; when the first expires (E2) the other's average changes (retract +
  // reinsert), and it goes at E4.
  normals(2, 10); add(2, E(2) - WEEK_MS, 100); add(2, E(4) - WEEK_MS, 100);
  // c3: an anomaly deleted shortly before its expiry (E3): no second retraction afterwards.
  normals(3, 9); const s3 = add(3, E(3) - WEEK_MS, 100);
  // c4: an anomaly that an UPDATE ends early (after E1); the row itself expires at E5.
  normals(4, 9); const s4 = add(4, E(5) - WEEK_MS, 100);
  // c5: already expired when inserted: never shown.
  normals(5, 9); add(5, now0 - WEEK_MS - DAY_MS, 500);
  // c7: four big rows expire at E2, after which a middling row becomes an anomaly.
  for (let i = 0; i < 4; i++) add(7, E(2) - WEEK_MS, 100);
  const s7mid = add(7, now0 - DAY_MS, 60); normals(7, 5);
  const values = (rs) => rs.map((r) => `(${r.sale_id}, ${r.product_id}, ${r.customer_id}, '${ts(r.sale_ms)}', ${r.quantity}, ${r.unit}, ${r.total})`).join(', ');
  {
    const send = Date.now();
    await a.query(`INSERT INTO sales VALUES ${values(rows)}`);
    const ack = Date.now();
    writes.push({ send, ack, apply: (m) => { for (const r of rows) m.set(r.sale_id, r); } });
  }
  console.log(`temporal: ${rows.length} rows inserted; expiries at +${(E(1) - now0) / 1000} s, then every ${STEP_MS / 1000} s`);

  // The timed writes, run from the polling loop once their moment has come.
  const late = [];
  normals(6, 9); const s6 = add(6, E(6) - WEEK_MS, 100);
  const lateRows = rows.filter((r) => r.customer_id === 6);
  const plan = [
    { at: E(1) + STEP_MS / 3, sql: `UPDATE sales SET total_price = 10, unit_price = 10 WHERE sale_id = ${s4.sale_id}`,
      apply: (m) => { const r = m.get(s4.sale_id); if (r) m.set(s4.sale_id, { ...r, total: 10, unit: 10 }); } },
    { at: E(1) + STEP_MS / 2, sql: `INSERT INTO sales VALUES ${values(lateRows)}`,
      apply: (m) => { for (const r of lateRows) m.set(r.sale_id, r); } },
    { at: E(3) - STEP_MS / 2, sql: `DELETE FROM sales WHERE sale_id = ${s3.sale_id}`,
      apply: (m) => { m.delete(s3.sale_id); } },
  ];
  for (const r of rows) if (r.customer_id !== 6) baseRows.set(r.sale_id, { ...r });
  writes[0].apply = () => {};  // the initial rows are baseRows (inserted before any check)
  // Late rows are in baseRows too, but only present once their INSERT is in effect.
  for (const r of lateRows) baseRows.delete(r.sale_id);

  // Poll until everything has expired.
  const end = E(6) + 1000;
  let polls = 0;
  const left = new Map();  // sale_id -> first wall time it was seen absent after being present
  const seen = new Set();
  while (Date.now() + skew < end) {
    while (plan.length && Date.now() + skew >= plan[0].at) {
      const p = plan.shift();
      const send = Date.now() + skew;
      await a.query(p.sql);
      writes.push({ send, ack: Date.now() + skew, apply: p.apply });
    }
    const t0 = Date.now() + skew;
    const res = await a.query('SELECT * FROM sales_anomalies');
    const t1 = Date.now() + skew;
    polls++;
    const got = keyOf(new Map(res.rows.map((r) => [Number(r.sale_id), Number(r.customer_spend_avg).toPrecision(10)])));
    const ok = statesBetween(t0 - TOL_MS, t1 + TOL_MS, 5);
    if (!ok.has(got)) {
      fail(`poll at +${t0 - now0} ms: view ${got || '(empty)'}; the model allows within ${TOL_MS} ms: ${[...ok].map((k) => k || '(empty)').join(' | ')}`);
    }
    const ids = new Set(res.rows.map((r) => Number(r.sale_id)));
    for (const id of ids) seen.add(id);
    for (const id of seen) if (!ids.has(id) && !left.has(id)) left.set(id, t0);
    // A point lookup on the index key agrees with the scan for one customer.
    const pl = await a.query('SELECT sale_id FROM sales_anomalies WHERE customer_id = 2');
    const scan2 = res.rows.filter((r) => Number(r.customer_id) === 2).map((r) => r.sale_id).sort().join(',');
    const pl2 = pl.rows.map((r) => r.sale_id).sort().join(',');
    if (scan2 !== pl2) {
      const t2 = Date.now() + skew;
      if (statesBetween(t0 - TOL_MS, t2 + TOL_MS, 5).size === 1) fail(`point lookup customer_id = 2: ${pl2}, scan: ${scan2}`);
    }
    await sleep(40);
  }
  // Every expiring anomaly left near its expiry (the polls' view of it; the subscription checks
  // the exact timestamps below).
  for (const r of [s1, s6]) {
    const until = r.sale_ms + WEEK_MS + 1;
    const at = left.get(r.sale_id);
    if (at === undefined) fail(`sale ${r.sale_id} never left the view (expiry at +${until - now0} ms)`);
    else console.log(`temporal: sale ${r.sale_id} expired at +${until - now0} ms, first poll without it at +${at - now0} ms`);
  }

  // Drain the subscription and compare its final state with a SELECT.
  await sleep(1200);
  const final = await a.query('SELECT * FROM sales_anomalies');
  await sleep(1200);
  subscribing = false;
  await subLoop;
  if (subError) { fail(`SUBSCRIBE: ${subError.message}`); }
  await b.query('COMMIT').catch(() => {});

  // (a) counts stay 0/1 per row; timestamps never go back.
  const count = new Map();
  let lastT = 0;
  const byT = new Map();
  for (const c of changes) {
    if (c.t < lastT) fail(`SUBSCRIBE: timestamp ${c.t} after ${lastT}`);
    lastT = Math.max(lastT, c.t);
    if (!byT.has(c.t)) byT.set(c.t, []);
    byT.get(c.t).push(c);
  }
  const full = (row) => JSON.stringify(Object.keys(row).filter((k) => !k.startsWith('mz_')).map((k) => row[k]));
  const fullCount = new Map();
  for (const [t, cs] of [...byT].sort((x, y) => x[0] - y[0])) {
    for (const c of cs) {
      const f = full(c.row);
      fullCount.set(f, (fullCount.get(f) || 0) + c.diff);
      count.set(c.key, (count.get(c.key) || 0) + c.diff);
    }
    for (const c of cs) {
      const n = fullCount.get(full(c.row));
      if (n < 0 || n > 1) fail(`SUBSCRIBE at ${t} (+${t - now0} ms): row ${full(c.row)} has count ${n} (duplicate or extra retraction)`);
    }
    // (b) the state after each timestamp is the model's state at that timestamp.
    const state = [...count].filter(([, n]) => n > 0).map(([k]) => k).sort().join(' ');
    const allowed = candidates(t, 5);
    if (!allowed.has(state)) {
      fail(`SUBSCRIBE at ${t} (+${t - now0} ms): state ${state || '(empty)'}; model: ${[...allowed].join(' | ') || '(empty)'}`);
    }
  }
  // (c) every expiry's retraction is at [until, until + TOL_MS].
  const retractionOf = (id) => changes.filter((c) => c.diff < 0 && Number(c.row.sale_id) === id);
  for (const r of [s1, s6, ...rows.filter((x) => x.customer_id === 2 && x.total === 100)]) {
    const until = r.sale_ms + WEEK_MS + 1;
    const rs = retractionOf(r.sale_id);
    const last = rs.length ? rs[rs.length - 1].t : undefined;
    if (last === undefined) fail(`SUBSCRIBE: no retraction of sale ${r.sale_id} (expiry at ${until})`);
    else if (last < until) fail(`SUBSCRIBE: sale ${r.sale_id} retracted at ${last}, ${until - last} ms before its expiry ${until}`);
    else if (last > until + TOL_MS) fail(`SUBSCRIBE: sale ${r.sale_id} retracted at ${last}, ${last - until} ms after its expiry ${until}`);
    else console.log(`temporal: SUBSCRIBE retracts sale ${r.sale_id} at expiry + ${last - until} ms`);
  }
  // The deleted row: exactly one retraction (at the DELETE), none at its expiry.
  const r3 = retractionOf(s3.sale_id);
  if (r3.length !== 1) fail(`SUBSCRIBE: sale ${s3.sale_id} (deleted before its expiry) retracted ${r3.length} times`);
  // The middling row of c7 enters at E2.
  const in7 = changes.filter((c) => c.diff > 0 && Number(c.row.sale_id) === s7mid.sale_id);
  if (in7.length !== 1) fail(`SUBSCRIBE: sale ${s7mid.sale_id} inserted ${in7.length} times (once expected, at E2)`);
  // (d) final state = SELECT.
  const finalFull = final.rows.map((r) => full(r)).sort().join('\n');
  const subFull = [...fullCount].filter(([, n]) => n > 0).map(([f]) => f).sort().join('\n');
  if (finalFull !== subFull) fail(`SUBSCRIBE final state differs from SELECT:\n  subscribe: ${subFull}\n  select:    ${finalFull}`);
  console.log(`temporal: ${polls} polls, ${changes.length} changes at ${byT.size} timestamps, ${final.rows.length} rows at the end`);

  await a.end();
  await b.end().catch(() => {});
  if (failures) { console.log(`temporal: ${failures} failures`); process.exitCode = 1; }
}

main().catch((e) => {
  console.log(`FAIL temporal: ${e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : e}`);
  process.exitCode = 1;
});
