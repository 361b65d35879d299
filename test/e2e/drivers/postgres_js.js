// npm `postgres` (postgres.js) against a running server (PGHOST/PGPORT/PGUSER/PGDATABASE):
// tagged templates (extended protocol, unnamed and prepared statements), type round trips,
// errors, .cursor() on a failing query (the error must arrive without a Sync: postgres.js
// sends Flush), .cursor() over rows, SUBSCRIBE on Freshet.
'use strict';
const assert = require('assert');
const postgres = require('postgres');

const ON_FRESHET = process.env.E2E_TARGET !== 'postgres';
let passed = 0, failed = 0, skipped = 0;

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: no answer in ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(t));
}

async function check(name, fn, opts = {}) {
  if (opts.freshetOnly && !ON_FRESHET) { skipped++; console.log(`SKIP ${name}: Freshet only`); return; }
  if (opts.unsupported && ON_FRESHET) { skipped++; console.log(`SKIP ${name}: not yet supported on Freshet (${opts.unsupported})`); return; }
  try {
    await withTimeout(fn(), 20000, name);
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}

async function main() {
  const sql = postgres({ max: 2, connect_timeout: 15, onnotice: () => {} });

  await check('tagged template with parameters', async () => {
    const [r] = await sql`SELECT ${40}::int + ${2}::int AS s, upper(${'abc'}) AS u`;
    assert.deepStrictEqual({ ...r }, { s: 42, u: 'ABC' });
  });

  await check('DDL, insert of a row object, select', async () => {
    await sql`DROP TABLE IF EXISTS pjs_t`;
    await sql`CREATE TABLE pjs_t (id int PRIMARY KEY, name text, amount numeric(10,2), born date,
              seen timestamptz, flag boolean, doc jsonb, u uuid)`;
    const row = { id: 1, name: "it's", amount: '12.50', born: '2024-02-29', seen: new Date('2024-02-29T13:14:15.500Z'),
                  flag: true, doc: sql.json({ a: [1, 2] }), u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' };
    const res = await sql`INSERT INTO pjs_t ${sql(row)}`;
    assert.strictEqual(res.count, 1);
    const [r] = await sql`SELECT * FROM pjs_t WHERE id = ${1}`;
    assert.strictEqual(r.name, "it's");
    assert.strictEqual(r.amount, '12.50');
    assert.strictEqual(r.seen.toISOString(), '2024-02-29T13:14:15.500Z');
    assert.strictEqual(r.flag, true);
    assert.deepStrictEqual(r.doc, { a: [1, 2] });
    assert.strictEqual(r.u, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
  });

  await check('many rows in one insert, IN list with sql()', async () => {
    const rows = Array.from({ length: 50 }, (_, k) => ({ id: 100 + k, name: `n${k}` }));
    await sql`INSERT INTO pjs_t ${sql(rows, 'id', 'name')}`;
    const r = await sql`SELECT count(*)::int AS n FROM pjs_t WHERE id IN ${sql([100, 101, 149, 500])}`;
    assert.strictEqual(r[0].n, 3);
  });

  await check('errors carry their code', async () => {
    for (const [q, code] of [[sql`SELECT * FROM no_such_table`, '42P01'], [sql`SELECT 1/0`, '22012'],
                             [sql`INSERT INTO pjs_t (id) VALUES (1)`, '23505']]) {
      await assert.rejects(q, (e) => { assert.strictEqual(e.code, code); return true; });
    }
  });

  await check('.cursor() over rows', async () => {
    let n = 0;
    for await (const rows of sql`SELECT id FROM pjs_t WHERE id >= 100 ORDER BY id`.cursor(7)) {
      for (const r of rows) { assert.strictEqual(r.id, 100 + n); n++; }
    }
    assert.strictEqual(n, 50);
  });

  await check('.cursor() on a failing query returns the error', async () => {
    await assert.rejects(async () => {
      for await (const rows of sql`SELECT * FROM no_such_table`.cursor(10)) void rows;
    }, (e) => { assert.strictEqual(e.code, '42P01'); return true; });
    const [r] = await sql`SELECT 7 AS seven`;
    assert.strictEqual(r.seven, 7);
  });

  await check('transaction: commit and rollback', async () => {
    await sql.begin(async (tx) => { await tx`INSERT INTO pjs_t (id, name) VALUES (300, 'kept')`; });
    await assert.rejects(sql.begin(async (tx) => {
      await tx`INSERT INTO pjs_t (id, name) VALUES (301, 'undone')`;
      throw new Error('roll back');
    }), /roll back/);
    const r = await sql`SELECT id FROM pjs_t WHERE id >= 300 ORDER BY id`;
    assert.deepStrictEqual(r.map((x) => x.id), [300]);
  });

  await check('savepoint (sql.savepoint)', async () => {
    await sql.begin(async (tx) => {
      await tx`INSERT INTO pjs_t (id, name) VALUES (400, 'outer')`;
      await tx.savepoint(async (sp) => { await sp`INSERT INTO pjs_t (id, name) VALUES (401, 'inner')`; throw new Error('undo'); })
        .catch(() => {});
    });
    const r = await sql`SELECT id FROM pjs_t WHERE id >= 400 ORDER BY id`;
    assert.deepStrictEqual(r.map((x) => x.id), [400]);
  });

  await check('cancel a running query', async () => {
    const q = ON_FRESHET ? sql`SUBSCRIBE pjs_t` : sql`SELECT pg_sleep(30)`;
    const t0 = Date.now();
    setTimeout(() => q.cancel(), 300);
    await assert.rejects(q, (e) => { assert.strictEqual(e.code, '57014'); return true; });
    assert.ok(Date.now() - t0 < 5000, `cancel took ${Date.now() - t0} ms`);
  });

  await check('cancel a long one-shot query (query.cancel(), answered within 1 s)', async () => {
    const q = sql`SELECT sum(g) FROM generate_series(1, 400000000) g`;
    let sent = 0;
    setTimeout(() => { sent = Date.now(); q.cancel(); }, 500);
    await assert.rejects(q, (e) => { assert.strictEqual(e.code, '57014'); return true; });
    assert.ok(sent > 0, 'the query ended before the cancel was sent');
    assert.ok(Date.now() - sent < 1000, `cancel took ${Date.now() - sent} ms`);
  });

  await check('SUBSCRIBE through .cursor()', async () => {
    await sql`CREATE TABLE pjs_sub (k int, v text)`;
    await sql`INSERT INTO pjs_sub VALUES (1, 'a'), (2, 'b')`;
    const got = [];
    for await (const rows of sql`SUBSCRIBE pjs_sub`.cursor(1)) {
      for (const r of rows) got.push(`${r.k}${r.v}`);
      if (got.length >= 2) break;
    }
    assert.deepStrictEqual(got.sort(), ['1a', '2b']);
  }, { freshetOnly: true });

  await withTimeout(sql.end({ timeout: 2 }), 10000, 'end').catch(() => {});
  console.log(`postgres.js: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.log(`FAIL postgres.js: ${e && e.stack}`); process.exit(1); });
