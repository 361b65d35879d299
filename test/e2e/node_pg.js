// node-postgres (`pg`) against a running server: extended-protocol parameters, type round
// trips, errors with .code, a pool. Connection from PGHOST/PGPORT/PGUSER/PGDATABASE.
'use strict';
const assert = require('assert');
const { Client, Pool } = require('pg');

let failures = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}

async function main() {
  const client = new Client({ application_name: 'node_pg_e2e', connectionTimeoutMillis: 15000 });
  await client.connect();

  await check('simple query', async () => {
    const r = await client.query('SELECT 1 AS one');
    assert.strictEqual(r.rows[0].one, 1);
    assert.strictEqual(r.fields[0].name, 'one');
  });

  await check('parameterized query (extended protocol)', async () => {
    const r = await client.query('SELECT $1::int + $2::int AS s, upper($3::text) AS u', [40, 2, 'abc']);
    assert.deepStrictEqual(r.rows[0], { s: 42, u: 'ABC' });
  });

  await check('create + insert with parameters', async () => {
    await client.query('DROP TABLE IF EXISTS node_types');
    await client.query(`CREATE TABLE node_types (i int, b bigint, n numeric(12,3), t text,
                        f boolean, d date, ts timestamp, x int)`);
    const r = await client.query(
      'INSERT INTO node_types VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [-7, '9007199254740993', '12345.678', 'héllo, "world"', true, '2024-02-29', '2024-02-29 13:14:15.5', null]);
    assert.strictEqual(r.rowCount, 1);
    assert.strictEqual(r.command, 'INSERT');
  });

  await check('types round trip', async () => {
    const r = await client.query('SELECT i, b, n, t, f, d::text AS d, ts::text AS ts, x FROM node_types');
    const row = r.rows[0];
    assert.strictEqual(row.i, -7);
    assert.strictEqual(row.b, '9007199254740993');   // int8 comes back as a string
    assert.strictEqual(row.n, '12345.678');          // numeric as a string
    assert.strictEqual(row.t, 'héllo, "world"');
    assert.strictEqual(row.f, true);
    assert.strictEqual(row.d, '2024-02-29');
    assert.strictEqual(row.ts, '2024-02-29 13:14:15.5');
    assert.strictEqual(row.x, null);
  });

  await check('date and timestamp parsed by pg', async () => {
    const r = await client.query('SELECT d, ts FROM node_types');
    assert.ok(r.rows[0].d instanceof Date);
    assert.strictEqual(r.rows[0].ts.getFullYear(), 2024);
    assert.strictEqual(r.rows[0].ts.getMilliseconds(), 500);
  });

  await check('type OIDs of result fields', async () => {
    const r = await client.query('SELECT i, b, n, t, f, d, ts FROM node_types');
    assert.deepStrictEqual(r.fields.map((f) => f.dataTypeID), [23, 20, 1700, 25, 16, 1082, 1114]);
  });

  await check('named prepared statement reused', async () => {
    for (let k = 0; k < 3; k++) {
      const r = await client.query({ name: 'sq', text: 'SELECT $1::int * $1::int AS sq', values: [k] });
      assert.strictEqual(r.rows[0].sq, k * k);
    }
  });

  await check('NULL parameter', async () => {
    const r = await client.query('SELECT $1::text IS NULL AS isnull', [null]);
    assert.strictEqual(r.rows[0].isnull, true);
  });

  await check('rowMode array and multiple rows', async () => {
    const r = await client.query({ text: 'SELECT * FROM (VALUES (1, $1::text), (2, $2::text)) v(a, b) ORDER BY a', values: ['x', 'y'], rowMode: 'array' });
    assert.deepStrictEqual(r.rows, [[1, 'x'], [2, 'y']]);
  });

  await check('error code 42P01 (undefined table)', async () => {
    await assert.rejects(client.query('SELECT * FROM no_such_table'), (e) => e.code === '42P01' && e.position === '15');
  });
  await check('error code 22012 in extended protocol', async () => {
    await assert.rejects(client.query('SELECT 1 / $1::int', [0]), (e) => e.code === '22012');
  });
  await check('error code 42601 (syntax)', async () => {
    await assert.rejects(client.query('SELEC 1'), (e) => e.code === '42601');
  });
  await check('error code 23505 (duplicate key)', async () => {
    await client.query('CREATE TABLE node_pk (id int PRIMARY KEY)');
    await client.query('INSERT INTO node_pk VALUES ($1)', [1]);
    await assert.rejects(client.query('INSERT INTO node_pk VALUES ($1)', [1]), (e) => e.code === '23505');
    await client.query('DROP TABLE node_pk');
  });
  await check('connection usable after errors', async () => {
    const r = await client.query('SELECT count(*)::int AS c FROM node_types');
    assert.strictEqual(r.rows[0].c, 1);
  });

  await check('transaction rollback', async () => {
    await client.query('BEGIN');
    await client.query('INSERT INTO node_types (i) VALUES ($1)', [99]);
    await client.query('ROLLBACK');
    const r = await client.query('SELECT count(*)::int AS c FROM node_types');
    assert.strictEqual(r.rows[0].c, 1);
  });

  await check('pool of 10 running 50 queries', async () => {
    const pool = new Pool({ max: 10 });
    const rs = await Promise.all(Array.from({ length: 50 }, (_, k) => pool.query('SELECT $1::int AS k', [k])));
    rs.forEach((r, k) => assert.strictEqual(r.rows[0].k, k));
    await pool.end();
  });

  await client.query('DROP TABLE node_types');
  await client.end();
}

main()
  .catch((e) => { failures++; console.log(`FAIL node_pg: ${e && e.stack ? e.stack : e}`); })
  .finally(() => { console.log(`node_pg: ${failures} check(s) failed`); process.exit(failures ? 1 : 0); });
