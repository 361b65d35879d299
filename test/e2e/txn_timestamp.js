// Every read of a transaction block reads at one timestamp (issue 10; src/server/README.md
// "Transaction blocks"): a read-only block that reads, lets another session commit, and reads
// again sees the state of its first read, for tables, views, materialized views and indexed
// views (Materialize's transactions.slt:331-371). A block that writes sees its own writes.
// Run against PostgreSQL too (E2E_TARGET=postgres): the cases shared with it use BEGIN
// ISOLATION LEVEL SERIALIZABLE, PostgreSQL's snapshot reads; plain BEGIN (read committed in
// PostgreSQL, strict serializable in Freshet) only against Freshet.
'use strict';
const { Client } = require('pg');

const PG = process.env.E2E_TARGET === 'postgres';
let failures = 0;
function check(name, got, want) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g === w) console.log(`ok   ${name}`);
  else {
    failures++;
    console.log(`FAIL ${name}: got ${g}, want ${w}`);
  }
}
const rows = async (c, sql) => (await c.query(sql)).rows.map((r) => Object.values(r).map(String).join('|'));

async function main() {
  const conf = { host: process.env.PGHOST, port: Number(process.env.PGPORT), user: process.env.PGUSER, database: process.env.PGDATABASE };
  const reader = new Client(conf), writer = new Client(conf);
  await reader.connect();
  await writer.connect();
  await writer.query('CREATE TABLE tt (a int)');
  await writer.query('CREATE TABLE tu (k int PRIMARY KEY, v text)');
  await writer.query('INSERT INTO tt VALUES (1)');
  await writer.query("INSERT INTO tu VALUES (1, 'one')");
  await writer.query(PG ? 'CREATE VIEW tmv AS SELECT count(*) AS n FROM tt' : 'CREATE MATERIALIZED VIEW tmv AS SELECT count(*) AS n FROM tt');
  await writer.query('CREATE VIEW tv AS SELECT a * 10 AS b FROM tt');
  await writer.query('CREATE VIEW tiv AS SELECT k, v FROM tu');
  if (!PG) await writer.query('CREATE DEFAULT INDEX ON tiv');
  const begins = PG ? ['BEGIN ISOLATION LEVEL SERIALIZABLE'] : ['BEGIN', 'BEGIN ISOLATION LEVEL SERIALIZABLE', 'BEGIN READ ONLY'];
  let next = 2;
  for (const begin of begins) {
    // Materialize's transactions.slt:331: the table and the materialized view, twice.
    await reader.query(begin);
    check(`${begin}: first read of the table`, (await rows(reader, 'SELECT a FROM tt ORDER BY a')).length, next - 1);
    // Scanned, so the block keeps tu for its later reads (a primary-key lookup alone does not
    // copy a table: reading it again after a change may then be refused, src/server/README.md).
    await rows(reader, 'SELECT k FROM tu');
    const mv = await rows(reader, 'SELECT n FROM tmv');
    const v = await rows(reader, 'SELECT b FROM tv ORDER BY b');
    const iv = await rows(reader, 'SELECT v FROM tiv WHERE k = 1');
    const pk = await rows(reader, 'SELECT v FROM tu WHERE k = 1');
    await writer.query(`INSERT INTO tt VALUES (${next})`);
    await writer.query(`UPDATE tu SET v = 'v${next}' WHERE k = 1`);
    check(`${begin}: the writer sees its commit`, (await rows(writer, 'SELECT n FROM tmv')), [String(next)]);
    check(`${begin}: the table again`, (await rows(reader, 'SELECT a FROM tt ORDER BY a')).length, next - 1);
    check(`${begin}: the materialized view again`, await rows(reader, 'SELECT n FROM tmv'), mv);
    check(`${begin}: the materialized view again (SELECT *)`, await rows(reader, 'SELECT * FROM tmv'), mv);
    check(`${begin}: the materialized view again (in an expression)`, await rows(reader, 'SELECT n + 0 FROM tmv'), mv);
    check(`${begin}: the indexed view again (count)`, await rows(reader, 'SELECT count(*) FROM tiv'), ['1']);
    check(`${begin}: the view again`, await rows(reader, 'SELECT b FROM tv ORDER BY b'), v);
    check(`${begin}: the indexed view again (index lookup)`, await rows(reader, 'SELECT v FROM tiv WHERE k = 1'), iv);
    check(`${begin}: the indexed view again (scan)`, await rows(reader, 'SELECT v FROM tiv'), iv);
    check(`${begin}: the primary key lookup again`, await rows(reader, 'SELECT v FROM tu WHERE k = 1'), pk);
    check(`${begin}: a join of both`, await rows(reader, 'SELECT count(*) FROM tt, tu'), [String(next - 1)]);
    await reader.query('COMMIT');
    check(`${begin}: after COMMIT the table`, (await rows(reader, 'SELECT a FROM tt ORDER BY a')).length, next);
    check(`${begin}: after COMMIT the materialized view`, await rows(reader, 'SELECT n FROM tmv'), [String(next)]);
    check(`${begin}: after COMMIT the indexed view`, await rows(reader, 'SELECT v FROM tiv WHERE k = 1'), [`v${next}`]);
    next++;
  }
  // A block that writes reads its own writes.
  await reader.query(begins[0]);
  await reader.query(`INSERT INTO tt VALUES (${next})`);
  check('a block sees its own insert', (await rows(reader, 'SELECT a FROM tt ORDER BY a')).length, next);
  await reader.query('DELETE FROM tt WHERE a = 1');
  check('a block sees its own delete', (await rows(reader, 'SELECT count(*) FROM tt WHERE a = 1')), ['0']);
  await reader.query('COMMIT');
  next++;
  // ROLLBACK ends the block's timestamp too.
  await reader.query(begins[0]);
  await rows(reader, 'SELECT a FROM tt');
  await writer.query(`INSERT INTO tt VALUES (${next})`);
  await reader.query('ROLLBACK');
  check('after ROLLBACK the next read is fresh', (await rows(reader, `SELECT count(*) FROM tt WHERE a = ${next}`)), ['1']);
  if (!PG) {
    // A table that the block first reads after another session changed it cannot be read at
    // the block's timestamp (there is no history): 40001, the block can be retried.
    await writer.query('CREATE TABLE tw (x int)');
    await reader.query('BEGIN');
    await rows(reader, 'SELECT a FROM tt');
    await writer.query('INSERT INTO tw VALUES (1)');
    let code = '';
    try {
      await reader.query('SELECT x FROM tw');
    } catch (e) {
      code = e.code;
    }
    check('an unread table changed since the first read: 40001', code, '40001');
    await reader.query('ROLLBACK');
    check('retried in a new block', await rows(reader, 'SELECT x FROM tw'), ['1']);
    // A table unchanged since the first read is read (and kept for later reads).
    await reader.query('BEGIN');
    await rows(reader, 'SELECT a FROM tt');
    check('an unread, unchanged table', await rows(reader, 'SELECT x FROM tw'), ['1']);
    await writer.query('INSERT INTO tw VALUES (2)');
    check('... and kept for the next read', await rows(reader, 'SELECT x FROM tw'), ['1']);
    await reader.query('COMMIT');
  }
  await reader.end();
  await writer.end();
  if (failures) {
    console.log(`${failures} failure(s)`);
    process.exit(1);
  }
}
main().catch((e) => {
  console.log(`FAIL ${e.stack || e}`);
  process.exit(1);
});
