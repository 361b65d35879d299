// kafkajs consumer groups against the real Freshet (test/e2e/kafka_freshet_test.sh).
//
//   node freshet_group.js consume TOPIC GROUP N EXPECTED OUTFILE
//       N consumers in GROUP subscribe to TOPIC (fromBeginning: only used when the group has no
//       committed offset), decode every key and value through the registry, commit (kafkajs
//       auto-commit after each batch) until EXPECTED records arrived, wait 2 s for any extra
//       record, leave. Checks that the N members split the partitions (disjoint, covering, each
//       member at least one) and every member consumed. Writes one JSON line per record
//       {"member","p","o","key","value"} to OUTFILE and prints the group's committed offsets
//       before it started.
//   node freshet_group.js check FULL FILE...
//       FULL: freshet_check.js decode output of the whole topic (kcat from the beginning).
//       The FILEs (successive runs of one group) together hold every (partition, offset) of
//       FULL exactly once: no loss, no duplicate; per key the same number of records; the same
//       values.
// Env: KAFKA_BROKER, REGISTRY_PORT.
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry } = require('@kafkajs/confluent-schema-registry');

function fail(msg) {
  console.error('check failed: ' + msg);
  process.exit(1);
}
function check(cond, msg) {
  if (!cond) fail(msg);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Decoded Avro -> plain JSON-able values (Buffers as hex, so decimals compare).
function plain(v) {
  if (v === null || v === undefined) return null;
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = Buffer.isBuffer(x) ? x.toString('hex') : x;
  return out;
}

async function consume(topic, groupId, n, expected, outFile) {
  const kafka = new Kafka({ clientId: 'freshet-e2e-group', brokers: [process.env.KAFKA_BROKER], logLevel: logLevel.ERROR, retry: { retries: 5 } });
  const registry = new SchemaRegistry({ host: `http://127.0.0.1:${process.env.REGISTRY_PORT}` });
  const admin = kafka.admin();
  await admin.connect();
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  console.log(`${groupId} committed before: ` + JSON.stringify(committed[0].partitions.map((p) => [p.partition, p.offset])));

  const records = [];
  const assignments = new Array(n).fill(null);
  const consumers = [];
  for (let i = 0; i < n; i++) {
    const c = kafka.consumer({ groupId, sessionTimeout: 10000, rebalanceTimeout: 10000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
    c.on(c.events.GROUP_JOIN, (e) => { assignments[i] = (e.payload.memberAssignment[topic] || []).slice().sort(); });
    consumers.push(c);
  }
  await Promise.all(consumers.map(async (c, i) => {
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({
      eachMessage: async ({ partition, message }) => {
        const key = message.key === null ? null : plain(await registry.decode(message.key));
        const value = message.value === null ? null : plain(await registry.decode(message.value));
        records.push({ member: i, p: partition, o: Number(message.offset), key, value });
      },
    });
  }));
  const end = Date.now() + 60000;
  while (records.length < expected) {
    check(Date.now() < end, `timed out: ${records.length} of ${expected} records in ${groupId}`);
    await sleep(50);
  }
  await sleep(2000);  // any record beyond the expected ones shows up now; commits finish
  await Promise.all(consumers.map((c) => c.disconnect()));
  fs.writeFileSync(outFile, records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
  check(records.length === expected, `${groupId} read ${records.length} records, want ${expected}`);
  const parts = assignments.flat();
  check(assignments.every((a) => a && a.length >= 1), 'every member got a partition: ' + JSON.stringify(assignments));
  check(new Set(parts).size === parts.length, 'assignments are disjoint: ' + JSON.stringify(assignments));
  const all = (await kafkaPartitions(kafka, topic)).sort();
  check(JSON.stringify(parts.slice().sort()) === JSON.stringify(all), `assignments ${JSON.stringify(assignments)} cover partitions ${all}`);
  if (expected >= 3 * n) check(new Set(records.map((r) => r.member)).size === n, 'every member consumed');
  console.log(`${groupId}: ${records.length} records, assignments ${JSON.stringify(assignments)}`);
}

async function kafkaPartitions(kafka, topic) {
  const admin = kafka.admin();
  await admin.connect();
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  await admin.disconnect();
  return md.topics[0].partitions.map((p) => p.partitionId);
}

function readLines(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

function checkMode(fullFile, files) {
  const full = readLines(fullFile);
  const got = files.flatMap(readLines);
  const pos = (r) => `${r.p}/${r.o}`;
  const seen = new Map();
  for (const r of got) {
    check(!seen.has(pos(r)), `duplicate: partition ${r.p} offset ${r.o} consumed twice`);
    seen.set(pos(r), r);
  }
  const keyCount = new Map();
  const bump = (k, d) => keyCount.set(k, (keyCount.get(k) || 0) + d);
  for (const f of full) {
    const r = seen.get(pos(f));
    check(r, `lost: partition ${f.p} offset ${f.o} (key ${JSON.stringify(f.key)}) was never consumed by the group`);
    bump(JSON.stringify(f.key && Object.values(f.key)), 1);
    bump(JSON.stringify(r.key && Object.values(r.key).map(String)), -1);
    check((f.value === null) === (r.value === null), `tombstone mismatch at ${pos(f)}`);
  }
  check(got.length === full.length, `the group consumed ${got.length} records, the topic has ${full.length}`);
  for (const [k, c] of keyCount) check(c === 0, `key ${k}: count differs by ${c}`);
  console.log(`group check: ${got.length} records over ${files.length} runs = the topic's ${full.length}, ${keyCount.size} keys, no loss, no duplicate`);
}

const [mode, ...a] = process.argv.slice(2);
if (mode === 'consume') {
  consume(a[0], a[1], Number(a[2]), Number(a[3]), a[4]).then(() => process.exit(0), (e) => fail(e && e.stack ? e.stack : String(e)));
} else if (mode === 'check') {
  checkMode(a[0], a.slice(1));
} else {
  fail('usage: freshet_group.js consume|check ...');
}
