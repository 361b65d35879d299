// DuckDB side of bench/analytics.sh: loads the same data.sql (one statement per line) into an
// in-memory DuckDB (npm @duckdb/node-api, installed in test/e2e by scripts/install-deps.sh),
// then runs every query of queries.sql once as a warm-up and RUNS times timed. Writes each
// query's rows as psql's unaligned output (`|` between columns, NULL as empty) to
// OUT_DIR/result-duckdb-<name>.txt and prints `name<TAB>median ms` (or `name<TAB>error`) per
// query on stdout. Time is measured in-process (no client round trip, unlike psql's \timing).
//   node analytics_duckdb.js DATA_SQL QUERIES_SQL OUT_DIR   (env: RUNS, DUCKDB_THREADS)
'use strict';
const fs = require('fs');
const path = require('path');
const { DuckDBInstance } = require(path.join(__dirname, '../test/e2e/node_modules/@duckdb/node-api'));

async function main() {
  const [dataSql, queriesSql, outDir] = process.argv.slice(2);
  const runs = +(process.env.RUNS || 5);
  const opts = process.env.DUCKDB_THREADS ? { threads: String(process.env.DUCKDB_THREADS) } : {};
  const inst = await DuckDBInstance.create(':memory:', opts);
  const con = await inst.connect();
  const t0 = performance.now();
  for (const line of fs.readFileSync(dataSql, 'utf8').split('\n')) {
    if (line.trim()) await con.run(line);
  }
  process.stderr.write(`bench: duckdb loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  const fmt = (v) => (v === null || v === undefined ? '' : String(v));
  for (const line of fs.readFileSync(queriesSql, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('--')) continue;
    const bar = line.indexOf('|');
    const name = line.slice(0, bar), sql = line.slice(bar + 1);
    try {
      const reader = await con.runAndReadAll(sql);
      const text = reader.getRows().map((r) => r.map(fmt).join('|')).join('\n');
      fs.writeFileSync(path.join(outDir, `result-duckdb-${name}.txt`), text ? text + '\n' : '');
      const times = [];
      for (let i = 0; i < runs; i++) {
        const s = performance.now();
        const rd = await con.runAndReadAll(sql);
        rd.getRows();
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      const m = runs % 2 ? times[(runs - 1) / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
      console.log(`${name}\t${m.toFixed(1)}`);
    } catch (e) {
      process.stderr.write(`bench: duckdb ${name}: ${e.message}\n`);
      console.log(`${name}\terror`);
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
