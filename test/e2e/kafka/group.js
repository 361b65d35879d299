// kafkajs + @kafkajs/confluent-schema-registry against src/kafka's test server.
//   MODE=group: a group of 3 consumers splits the 6 partitions of shop.public.orders, decodes
//     every Avro key/value through the registry, commits; a producer then writes 30 more
//     Avro orders; a new group generation of 3 resumes from the committed offsets and reads
//     exactly the new ones. Also reads shop.public.customers (Avro, with a tombstone).
//   MODE=auth: SASL (KAFKA_SASL_MECHANISM, user/password) over TLS, registry with Basic auth.
// Exits non-zero with a message on the first failed check.
'use strict';
const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry } = require('@kafkajs/confluent-schema-registry');

const mode = process.env.MODE || 'group';
const user = process.env.KAFKA_SASL_USER;
const password = process.env.KAFKA_SASL_PASSWORD;
const kafka = new Kafka({
  clientId: 'freshet-e2e',
  brokers: [process.env.KAFKA_BROKER],
  logLevel: logLevel.ERROR,
  ssl: process.env.KAFKA_TLS_CA ? { ca: [require('fs').readFileSync(process.env.KAFKA_TLS_CA, 'utf8')] } : undefined,
  sasl: user ? { mechanism: process.env.KAFKA_SASL_MECHANISM || 'plain', username: user, password } : undefined,
  retry: { retries: 3 },
});
const registry = new SchemaRegistry({
  host: `http://127.0.0.1:${process.env.REGISTRY_PORT}`,
  auth: user ? { username: user, password } : undefined,
});

function check(cond, msg) {
  if (!cond) {
    console.error('check failed: ' + msg);
    process.exit(1);
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    check(Date.now() < end, 'timed out waiting for ' + what);
    await sleep(50);
  }
}

// Runs n consumers of topic in group until expected records are seen; returns
// {records: [{partition, offset, key, value}], assignments: [[partitions]...]}.
async function consumeGroup(groupId, topic, n, expected) {
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
        const key = await registry.decode(message.key);
        const value = message.value === null ? null : await registry.decode(message.value);
        records.push({ member: i, partition, offset: Number(message.offset), key, value });
      },
    });
  }));
  await waitFor(() => records.length >= expected, 60000, `${expected} records in ${groupId} (have ${records.length})`);
  await sleep(1500);  // anything beyond expected would show up now; lets commits finish
  await Promise.all(consumers.map((c) => c.disconnect()));
  return { records, assignments };
}

async function groupMode() {
  const topic = 'shop.public.orders';
  const first = await consumeGroup('jsgroup', topic, 3, 60);
  check(first.records.length === 60, `first round read ${first.records.length} records, want 60`);
  const ids = new Set(first.records.map((r) => r.value.order_id));
  check(ids.size === 60, 'every order 0..59 once');
  for (const r of first.records) {
    check(r.key.order_id === r.value.order_id, 'key matches value');
    check(r.partition === r.value.order_id % 6, 'partition of order ' + r.value.order_id);
    check(typeof r.value.amount === 'number' && r.value.amount === r.value.order_id * 1.5, 'amount decoded');
    check(r.value.order_id % 3 === 0 ? r.value.note === null : r.value.note === 'note ' + r.value.order_id, 'nullable note');
  }
  const split = first.assignments.map((a) => (a || []).length);
  check(split.every((n) => n === 2), 'each of 3 members got 2 of 6 partitions: ' + JSON.stringify(first.assignments));
  check(new Set(first.assignments.flat()).size === 6, 'assignments are disjoint and cover all partitions');
  const members = new Set(first.records.map((r) => r.member));
  check(members.size === 3, 'all 3 members consumed records');

  // Produce 30 more orders, Avro-encoded with the registry's schema ids.
  const keyId = await registry.getLatestSchemaId(`${topic}-key`);
  const valueId = await registry.getLatestSchemaId(`${topic}-value`);
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 60; i < 90; i++) {
    messages.push({
      partition: i % 6,
      key: await registry.encode(keyId, { order_id: i }),
      value: await registry.encode(valueId, { order_id: i, customer: i % 7, amount: i * 1.5, note: i % 2 ? 'p' + i : null }),
    });
  }
  await producer.send({ topic, messages });
  await producer.disconnect();

  // The same group resumes from its committed offsets: exactly the 30 new orders.
  const second = await consumeGroup('jsgroup', topic, 3, 30);
  check(second.records.length === 30, `resumed group read ${second.records.length} records, want 30`);
  const ids2 = second.records.map((r) => r.value.order_id).sort((a, b) => a - b);
  check(ids2[0] === 60 && ids2[29] === 89 && new Set(ids2).size === 30, 'resumed at the committed offsets: ' + ids2);
  check(second.records.every((r) => r.value.note === (r.value.order_id % 2 ? 'p' + r.value.order_id : null)), 'produced notes');

  // A second topic with a tombstone and more types.
  const cust = await consumeGroup('jscust', 'shop.public.customers', 1, 31);
  check(cust.records.length === 31, 'customers: 30 rows and a tombstone');
  const tomb = cust.records.filter((r) => r.value === null);
  check(tomb.length === 1 && tomb[0].key.id === 7, 'tombstone for id 7');
  const c3 = cust.records.find((r) => r.value && r.value.id === 3);
  check(c3.value.name === 'customer 3' && c3.value.active === false && c3.value.tag.length === 36, 'customer 3: ' + JSON.stringify(c3.value));
  check(c3.value.attrs === '{"tier": 0}', 'jsonb as a string');
  console.log('kafkajs group checks passed');
}

async function authMode() {
  const admin = kafka.admin();
  await admin.connect();
  const topics = await admin.listTopics();
  check(topics.includes('shop.public.orders'), 'listTopics over SASL/TLS: ' + topics);
  await admin.disconnect();
  const cust = await consumeGroup('authgroup', 'shop.public.customers', 1, 31);
  check(cust.records.length === 31, 'customers over SASL/TLS');
  console.log('kafkajs auth checks passed');
}

(mode === 'group' ? groupMode() : authMode()).then(() => process.exit(0), (e) => {
  console.error('error: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
