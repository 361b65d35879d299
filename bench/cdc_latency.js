// Client of bench/cdc_latency.sh: PostgreSQL commit -> row visible in a SUBSCRIBE on an indexed
// view in Freshet. The writer (a child process, so that its work never delays the reader)
// inserts rows into upstream table `lat` at RATE changes/s; each row carries the wall time
// (microseconds, clock_timestamp() at the INSERT, i.e. just before its commit). The reader
// holds `DECLARE c CURSOR FOR SUBSCRIBE lat_v` and FETCHes in a loop; latency = arrival wall
// time - the row's commit time, same machine, same clock. Prints p50/p90/p99/max.
//   node cdc_latency.js RATE SECONDS   (env: FRESHET_PORT, UP_HOST, UP_PORT)
'use strict';
const path = require('path');
const { fork } = require('child_process');
const { Client } = require(path.join(__dirname, '../test/e2e/node_modules/pg'));

const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

async function writer(rate, seconds) {
  const c = new Client({ host: process.env.UP_HOST, port: +process.env.UP_PORT, user: 'postgres', database: 'shop' });
  await c.connect();
  // Commits per second: one row per commit up to 1000/s, then rows per commit grow.
  const commitsPerS = Math.min(rate, +(process.env.MAX_COMMITS_PER_S || 1000));
  const rowsPerCommit = Math.max(1, Math.round(rate / commitsPerS));
  const sql = `INSERT INTO lat (t_us, pad) SELECT (extract(epoch from clock_timestamp()) * 1000000)::int8, 'x'
               FROM generate_series(1, ${rowsPerCommit})`;
  const start = nowUs();
  const total = Math.round(commitsPerS * seconds);
  let lateMax = 0;
  for (let i = 0; i < total; i++) {
    const due = start + Math.round((i * 1e6) / commitsPerS);
    let wait = due - nowUs();
    if (wait > 1000) await new Promise((r) => setTimeout(r, Math.floor(wait / 1000)));
    while (nowUs() < due) {} // the last sub-millisecond: spin
    lateMax = Math.max(lateMax, nowUs() - due);
    await c.query(sql);
  }
  const took = (nowUs() - start) / 1e6;
  await c.end();
  process.send({ rows: total * rowsPerCommit, commits: total, took, lateMaxMs: lateMax / 1000 });
}

async function reader(rate, seconds) {
  const f = new Client({ host: '127.0.0.1', port: +process.env.FRESHET_PORT, user: 'freshet', database: 'freshet' });
  await f.connect();
  const start0 = (await f.query('SELECT coalesce(max(id), 0) AS m FROM lat_v')).rows[0].m;
  await f.query('BEGIN');
  await f.query('DECLARE c CURSOR FOR SUBSCRIBE lat_v');
  // Drain the initial snapshot of the view.
  await f.query("FETCH ALL c WITH (timeout = '200ms')");
  const lat = [], tsAhead = [];
  let expect = Infinity, writerInfo = null;
  const child = fork(__filename, ['--writer', String(rate), String(seconds)], { env: process.env });
  child.on('message', (m) => { writerInfo = m; expect = m.rows; });
  const warmupUs = nowUs() + 1e6; // the first second is warm-up
  const deadline = nowUs() + (seconds + 30) * 1e6;
  let got = 0;
  while (got < expect && nowUs() < deadline) {
    const r = await f.query("FETCH ALL c WITH (timeout = '100ms')");
    const t = nowUs();
    for (const row of r.rows) {
      if (+row.mz_diff !== 1 || +row.id <= +start0) continue;
      got++;
      const sent = +row.t_us;
      if (sent >= warmupUs) {
        lat.push((t - sent) / 1000);
        tsAhead.push(+row.mz_timestamp - sent / 1000);
      }
    }
  }
  await f.query('ROLLBACK').catch(() => {});
  await f.end();
  lat.sort((a, b) => a - b);
  tsAhead.sort((a, b) => a - b);
  const qa = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))].toFixed(2) : 'n/a');
  const q = (p) => qa(lat, p);
  const w = writerInfo || { rows: '?', commits: '?', took: 0, lateMaxMs: 0 };
  console.log(`rate ${rate}/s: ${got} of ${w.rows} rows seen (${w.commits} commits in ${(+w.took).toFixed(1)} s, ` +
              `writer late by <= ${w.lateMaxMs.toFixed(1)} ms); latency commit -> SUBSCRIBE row (ms, after 1 s warm-up, ` +
              `${lat.length} rows): p50 ${q(50)} p90 ${q(90)} p99 ${q(99)} max ${q(100)}`);
  console.log(`  mz_timestamp - commit time (ms): p50 ${qa(tsAhead, 50)} p99 ${qa(tsAhead, 99)} max ${qa(tsAhead, 100)}`);
  console.log(`RESULT rate=${rate} p50_ms=${q(50)} p99_ms=${q(99)} seen=${got} sent=${w.rows}`);
  process.exit(got === w.rows ? 0 : 1);
}

if (process.argv[2] === '--writer') writer(+process.argv[3], +process.argv[4]).catch((e) => { console.error(e); process.exit(1); });
else reader(+process.argv[2], +process.argv[3]).catch((e) => { console.error(e); process.exit(1); });
