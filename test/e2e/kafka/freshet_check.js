// Helpers of test/e2e/kafka_freshet_test.sh (and bench/kafka_read.sh) against the real Freshet:
// Avro through @kafkajs/confluent-schema-registry, kcat's raw bytes, raw-socket frames.
//
//   node freshet_check.js decode TOPIC [replay]
//       stdin: kcat -C output in the format  -f '%p %o %K %S\n%k%s'  (lengths, then raw bytes).
//       Checks each key and value is the Confluent frame with the topic's registered schema id,
//       decodes it with the registry client and prints one JSON line per record
//       {"p":P,"o":O,"key":{col:text},"value":{col:text}|null}, columns as PostgreSQL's text
//       form (psql -At): numeric from Avro decimal bytes, timestamps from micros, t/f, ...
//       With `replay`: applies the records in order as upserts/tombstones (ENVELOPE UPSERT) and
//       prints the resulting rows as psql -At would ('|'-separated), sorted.
//   node freshet_check.js encode TOPIC KDELIM MDELIM
//       stdin: JSON lines {"key":{col:text},"value":{col:text}|null}; stdout: for kcat -P -K KDELIM
//       -D MDELIM -Z: key, KDELIM, value (empty for a tombstone), MDELIM, Avro with the topic's
//       registered schema ids. Fails if a delimiter occurs inside an encoded message.
//   node freshet_check.js bad
//       Malformed, truncated and oversized frames on raw sockets (KAFKA_PORT): each either gets
//       the spec's error code or a closed connection, and a well-formed ApiVersions on a new
//       connection is answered after each.
//   node freshet_check.js auth
//       SASL over TLS with kafkajs (KAFKA_TLS_CA, KAFKA_SASL_USER/PASSWORD): a wrong password is
//       refused with SASL_AUTHENTICATION_FAILED, the right one lists the topics and reads
//       freshet.public.kv with the registry behind Basic auth.
// Env: KAFKA_BROKER, KAFKA_PORT, REGISTRY_PORT. Exits non-zero with a message on a failed check.
'use strict';
const net = require('net');
const { SchemaRegistry } = require('@kafkajs/confluent-schema-registry');

const user = process.env.KAFKA_SASL_USER;
const password = process.env.KAFKA_SASL_PASSWORD;
const registryUrl = `http://127.0.0.1:${process.env.REGISTRY_PORT}`;
const registry = new SchemaRegistry({ host: registryUrl, auth: user ? { username: user, password } : undefined });

function fail(msg) {
  console.error('check failed: ' + msg);
  process.exit(1);
}
function check(cond, msg) {
  if (!cond) fail(msg);
}

async function getJson(path) {
  const headers = user ? { Authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64') } : {};
  const res = await fetch(registryUrl + path, { headers });
  check(res.ok, `GET ${path}: HTTP ${res.status}`);
  return res.json();
}

// Field name -> Avro type (without the ["null", T] wrapper) of a registered record schema.
const schemaFields = new Map();
async function fieldsOf(id) {
  if (!schemaFields.has(id)) {
    const s = JSON.parse((await getJson(`/schemas/ids/${id}`)).schema);
    check(s.type === 'record', `schema ${id} is a record`);
    schemaFields.set(id, s.fields.map((f) => ({ name: f.name, type: Array.isArray(f.type) ? f.type.find((t) => t !== 'null') : f.type, nullable: Array.isArray(f.type) })));
  }
  return schemaFields.get(id);
}

const pad = (n, w = 2) => String(n).padStart(w, '0');
function microsToText(us, withDate) {
  const big = BigInt(us);
  let secs = big / 1000000n, frac = big % 1000000n;
  if (frac < 0n) { frac += 1000000n; secs -= 1n; }
  const d = new Date(Number(secs) * 1000);
  let s = withDate
    ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
    : `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (frac !== 0n) s += '.' + pad(frac, 6).replace(/0+$/, '');
  return s;
}
function decimalToText(buf, scale) {
  let v = 0n;
  for (const b of buf) v = (v << 8n) | BigInt(b);
  if (buf.length && buf[0] & 0x80) v -= 1n << BigInt(8 * buf.length);
  const neg = v < 0n;
  let digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  if (scale > 0) digits = digits.slice(0, -scale) + '.' + digits.slice(-scale);
  return (neg ? '-' : '') + digits;
}
function textToDecimal(text, scale) {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  check(m, 'decimal text ' + text);
  const frac = (m[3] || '').padEnd(scale, '0').slice(0, scale);
  let v = BigInt((m[2] || '0') + frac);
  if (m[1]) v = -v;
  const bytes = [];
  for (;;) {
    bytes.unshift(Number(v & 0xffn));
    const rest = v >> 8n;
    if ((rest === 0n && !(bytes[0] & 0x80)) || (rest === -1n && bytes[0] & 0x80)) break;
    v = rest;
  }
  return Buffer.from(bytes);
}

// A decoded Avro value -> PostgreSQL's text form.
function toText(type, v) {
  if (v === null || v === undefined) return null;
  const lt = typeof type === 'object' ? type.logicalType : undefined;
  if (lt === 'decimal') return decimalToText(v, type.scale || 0);
  if (lt === 'timestamp-micros') return microsToText(v, true);
  if (lt === 'time-micros') return microsToText(v, false);
  if (lt === 'date') {
    const d = new Date(v * 86400000);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  }
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (Buffer.isBuffer(v)) return '\\x' + v.toString('hex');
  return String(v);
}
// PostgreSQL text -> the value the registry client encodes.
function fromText(type, text) {
  if (text === null || text === undefined) return null;
  const base = typeof type === 'object' ? type.type : type;
  const lt = typeof type === 'object' ? type.logicalType : undefined;
  if (lt === 'decimal') return textToDecimal(String(text), type.scale || 0);
  if (lt === 'timestamp-micros') return Date.parse(String(text).replace(' ', 'T') + 'Z') * 1000;
  if (base === 'int' || base === 'long' || base === 'float' || base === 'double') return Number(text);
  if (base === 'boolean') return text === true || text === 't' || text === 'true';
  return String(text);
}

async function decodeFramed(buf, topic, part) {
  check(buf.length >= 5 && buf[0] === 0, `${topic} ${part}: not the Confluent frame (magic byte 0): ${buf.toString('hex').slice(0, 20)}`);
  const id = buf.readInt32BE(1);
  const want = await latestId(`${topic}-${part}`);
  check(id === want, `${topic} ${part}: schema id ${id}, registry's latest for ${topic}-${part} is ${want}`);
  const decoded = await registry.decode(buf);
  const out = {};
  for (const f of await fieldsOf(id)) out[f.name] = toText(f.type, decoded[f.name]);
  return out;
}
const latestIds = new Map();
async function latestId(subject) {
  if (!latestIds.has(subject)) latestIds.set(subject, await registry.getLatestSchemaId(subject));
  return latestIds.get(subject);
}

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks);
}

async function decodeMode(topic, replay) {
  const buf = await readStdin();
  const records = [];
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    check(nl > pos, `kcat output: no header line at byte ${pos}`);
    const [p, o, klen, vlen] = buf.toString('latin1', pos, nl).split(' ').map(Number);
    pos = nl + 1;
    const key = klen >= 0 ? buf.subarray(pos, pos + klen) : null;
    pos += Math.max(klen, 0);
    const value = vlen >= 0 ? buf.subarray(pos, pos + vlen) : null;
    pos += Math.max(vlen, 0);
    check(pos <= buf.length, 'kcat output truncated');
    records.push({
      p, o,
      key: key === null ? null : await decodeFramed(key, topic, 'key'),
      value: value === null ? null : await decodeFramed(value, topic, 'value'),
    });
  }
  if (!replay) {
    for (const r of records) console.log(JSON.stringify(r));
    return;
  }
  const state = new Map();
  for (const r of records) {
    const k = JSON.stringify(r.key);
    if (r.value === null) state.delete(k);
    else state.set(k, r.value);
  }
  const rows = [...state.values()].map((v) => Object.values(v).map((x) => (x === null ? '' : x)).join('|'));
  rows.sort();
  for (const r of rows) console.log(r);
}

async function encodeMode(topic, kdelim, mdelim) {
  const kd = Buffer.from(kdelim), md = Buffer.from(mdelim);
  const keyId = await latestId(`${topic}-key`), valueId = await latestId(`${topic}-value`);
  const lines = (await readStdin()).toString('utf8').split('\n').filter((l) => l.trim());
  const out = [];
  for (const line of lines) {
    const { key, value } = JSON.parse(line);
    const enc = async (id, obj) => {
      const v = {};
      for (const f of await fieldsOf(id)) v[f.name] = fromText(f.type, obj[f.name] === undefined ? null : obj[f.name]);
      return registry.encode(id, v);
    };
    const k = await enc(keyId, key);
    const v = value === null ? Buffer.alloc(0) : await enc(valueId, value);
    for (const b of [k, v]) check(b.indexOf(kd) < 0 && b.indexOf(md) < 0, 'a delimiter occurs in an encoded message: ' + line);
    out.push(k, kd, v, md);
  }
  process.stdout.write(Buffer.concat(out));
}

// ---- raw frames ---------------------------------------------------------------------------
// Sends bytes on a new connection; resolves {data, closed} once one whole response arrived, the
// server closed the connection, or waitMs passed.
function exchange(bytes, waitMs = 1500, endAfter = false) {
  return new Promise((resolve) => {
    const s = net.connect(Number(process.env.KAFKA_PORT), '127.0.0.1');
    const chunks = [];
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      s.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    };
    s.on('connect', () => {
      s.write(bytes);
      if (endAfter) s.end();
    });
    s.on('data', (d) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);  // one complete response is all any case expects
      if (all.length >= 4 && all.length >= 4 + all.readInt32BE(0)) finish(false);
    });
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    setTimeout(() => finish(false), waitMs);
  });
}
function frame(apiKey, version, correlation, body = Buffer.alloc(0), clientId = 'bad-frames') {
  const id = Buffer.from(clientId);
  const h = Buffer.alloc(10);
  h.writeInt16BE(apiKey, 0);
  h.writeInt16BE(version, 2);
  h.writeInt32BE(correlation, 4);
  h.writeInt16BE(id.length, 8);
  const payload = Buffer.concat([h, id, body]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);
  return Buffer.concat([size, payload]);
}
// ApiVersions v0 answered: size, correlation id, error 0, a non-empty array of APIs.
async function apiVersionsWorks(what) {
  const r = await exchange(frame(18, 0, 4242), 3000);
  check(r.data.length >= 10, `after ${what}: ApiVersions on a new connection got ${r.data.length} bytes`);
  check(r.data.readInt32BE(0) === r.data.length - 4, `after ${what}: ApiVersions response size`);
  check(r.data.readInt32BE(4) === 4242 && r.data.readInt16BE(8) === 0, `after ${what}: ApiVersions correlation/error`);
}

async function badMode() {
  const cases = [];
  // An unknown API key: UNSUPPORTED_VERSION (35) in ApiVersions v0's form or correlation + code.
  let r = await exchange(frame(999, 0, 7));
  check(r.data.length >= 10 && r.data.readInt32BE(4) === 7 && r.data.readInt16BE(8) === 35,
    `unknown API key 999: want correlation 7 + error 35, got ${r.data.toString('hex')} closed=${r.closed}`);
  cases.push('unknown api key -> 35');
  // An unsupported version of a known API (Metadata v99): 35 too.
  r = await exchange(frame(3, 99, 8));
  check(r.data.length >= 10 && r.data.readInt32BE(4) === 8 && r.data.readInt16BE(8) === 35,
    `Metadata v99: want correlation 8 + error 35, got ${r.data.toString('hex')} closed=${r.closed}`);
  cases.push('unsupported version -> 35');
  await apiVersionsWorks('unsupported versions');
  // Malformed: a Metadata v1 body whose topic array claims 1e9 entries of garbage.
  r = await exchange(frame(3, 1, 9, Buffer.from([0x3b, 0x9a, 0xca, 0x00, 0xff, 0xff, 0x41])));
  check(r.closed && r.data.length === 0, `malformed Metadata: want a closed connection, got ${r.data.toString('hex')} closed=${r.closed}`);
  cases.push('malformed metadata -> closed');
  await apiVersionsWorks('a malformed Metadata');
  // Malformed: a header shorter than its fixed part (size 3).
  r = await exchange(Buffer.from([0, 0, 0, 3, 0, 18, 0]));
  check(r.closed, 'a 3-byte frame did not close the connection');
  cases.push('3-byte frame -> closed');
  // Malformed: a client id length pointing past the frame.
  const bogus = frame(18, 0, 10);
  bogus.writeInt16BE(500, 12);
  r = await exchange(bogus);
  check(r.closed && r.data.length === 0, `client id past the frame: want a closed connection, got ${r.data.toString('hex')} closed=${r.closed}`);
  cases.push('client id past the end -> closed');
  // Negative size.
  r = await exchange(Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 2, 3, 4]));
  check(r.closed && r.data.length === 0, 'a negative frame size did not close the connection');
  cases.push('negative size -> closed');
  // Truncated: the size says 100 bytes, 14 come, then the client half-closes.
  r = await exchange(Buffer.concat([Buffer.from([0, 0, 0, 100]), frame(18, 0, 11).subarray(4)]), 3000, true);
  check(r.closed && r.data.length === 0, `truncated frame: want a closed connection without a response, got ${r.data.toString('hex')}`);
  cases.push('truncated -> closed');
  await apiVersionsWorks('a truncated frame');
  // Oversized: 200 MiB announced (max_request_bytes is 100 MiB): closed before reading it.
  const big = Buffer.alloc(4 + 64 * 1024);
  big.writeInt32BE(200 * 1024 * 1024, 0);
  r = await exchange(big, 3000);
  check(r.closed && r.data.length === 0, 'a 200 MiB frame did not close the connection');
  cases.push('oversized -> closed');
  // Garbage that is not Kafka at all (an HTTP request).
  r = await exchange(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 3000);
  check(r.closed, 'an HTTP request on the Kafka port did not close the connection');
  cases.push('http on kafka port -> closed');
  await apiVersionsWorks('all bad frames');
  console.log('bad frames: ' + cases.join('; '));
}

// ---- SASL over TLS with kafkajs ---------------------------------------------------------------
async function authMode() {
  const { Kafka, logLevel } = require('kafkajs');
  const fs = require('fs');
  const mk = (pw) => new Kafka({
    clientId: 'freshet-e2e-auth',
    brokers: [process.env.KAFKA_BROKER],
    logLevel: logLevel.NOTHING,
    ssl: { ca: [fs.readFileSync(process.env.KAFKA_TLS_CA, 'utf8')] },
    sasl: { mechanism: process.env.KAFKA_SASL_MECHANISM || 'plain', username: user, password: pw },
    retry: { retries: 0 },
    connectionTimeout: 5000,
  });
  const badAdmin = mk(password + 'x').admin();
  let err = null;
  try {
    await badAdmin.connect();
    await badAdmin.listTopics();
  } catch (e) {
    err = e;
  }
  await badAdmin.disconnect().catch(() => {});
  check(err !== null, 'a wrong password was accepted by kafkajs');
  check(/SASL|auth/i.test(String(err && (err.name + ' ' + err.message))), 'wrong password: unexpected error ' + err);
  const kafka = mk(password);
  const admin = kafka.admin();
  await admin.connect();
  const topics = await admin.listTopics();
  check(topics.includes('freshet.public.kv'), 'listTopics over SASL_SSL: ' + topics);
  const offsets = await admin.fetchTopicOffsets('freshet.public.kv');
  await admin.disconnect();
  const expected = Number(process.env.EXPECT_KV_RECORDS);
  const consumer = kafka.consumer({ groupId: 'auth-' + Date.now(), maxWaitTimeInMs: 200 });
  const seen = [];
  await consumer.connect();
  await consumer.subscribe({ topic: 'freshet.public.kv', fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push({ key: await registry.decode(message.key), value: message.value && (await registry.decode(message.value)) });
    },
  });
  const end = Date.now() + 30000;
  while (seen.length < expected && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  check(seen.length === expected, `kafkajs over SASL_SSL read ${seen.length} kv records, want ${expected} (offsets ${JSON.stringify(offsets)})`);
  console.log(`kafkajs SASL_SSL: wrong password refused (${err.name}), ${topics.length} topics, ${seen.length} kv records decoded`);
}

const [mode, ...args] = process.argv.slice(2);
const run = { decode: () => decodeMode(args[0], args[1] === 'replay'), encode: () => encodeMode(args[0], args[1], args[2]), bad: badMode, auth: authMode }[mode];
if (!run) fail('usage: freshet_check.js decode|encode|bad|auth ...');
run().then(() => process.exit(0), (e) => fail(e && e.stack ? e.stack : String(e)));
