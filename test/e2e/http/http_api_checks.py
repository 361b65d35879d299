#!/usr/bin/env python3
"""Checks of Freshet's HTTP listener with real clients (run by test/e2e/http_api_test.sh):
POST /api/sql (Materialize's JSON shape), /api/subscribe (server-sent events), /health,
/metrics (parsed by prometheus_client's text parser), Basic auth, the schema registry on the
same listener, and Kafka ListGroups/DescribeGroups through kafka-python.

Environment: FRESHET_HTTP_PORT, PGPORT (psql), FRESHET_KAFKA_PORT, HTTP_USER, HTTP_PASSWORD.
Exits non-zero with the failed check's name."""
import base64
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

PORT = int(os.environ["FRESHET_HTTP_PORT"])
BASE = f"http://127.0.0.1:{PORT}"
USER = os.environ.get("HTTP_USER", "freshet")
PASSWORD = os.environ.get("HTTP_PASSWORD", "")
checks = 0


def check(cond, what):
    global checks
    if not cond:
        print(f"FAILED: {what}", flush=True)
        sys.exit(1)
    checks += 1


def auth_header(user=USER, password=PASSWORD):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request(method, path, body=None, auth=True, user=USER, password=PASSWORD, timeout=30):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", auth_header(user, password))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def sql(body):
    status, _, text = request("POST", "/api/sql", body)
    check(status == 200, f"/api/sql answered {status}: {text}")
    return json.loads(text)["results"]


def psql(statement):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", os.environ["PGPORT"],
                    "-U", USER, "-d", "freshet", "-c", statement], check=True, capture_output=True)


# ---- /health and authentication ---------------------------------------------------------
status, _, text = request("GET", "/health", auth=False)
check(status == 200 and text == "ok\n", f"/health without credentials: {status} {text!r}")
if PASSWORD:
    status, headers, _ = request("POST", "/api/sql", {"query": "SELECT 1"}, auth=False)
    check(status == 401, f"/api/sql without credentials answered {status}")
    check(headers.get("WWW-Authenticate", "").startswith("Basic"), "401 names Basic in WWW-Authenticate")
    status, _, text = request("POST", "/api/sql", {"query": "SELECT 1"}, password="wrong")
    check(status == 401, f"/api/sql with a wrong password answered {status}")
    check(json.loads(text)["error"]["code"] == "28P01", f"wrong password error: {text}")
    status, _, _ = request("GET", "/metrics", auth=False)
    check(status == 401, f"/metrics without credentials answered {status}")
    status, _, _ = request("GET", "/subjects", auth=False)
    check(status == 401, f"registry /subjects without credentials answered {status}")

# ---- POST /api/sql ----------------------------------------------------------------------
res = sql({"query": "CREATE TABLE h (i int, b bigint, n numeric(10,2), f float8, t text, d date, "
                    "ts timestamp, ok bool, j jsonb, v varchar(5)); "
                    "INSERT INTO h VALUES (1, 9007199254740993, 12.50, 2.5, 'a\"b', '2024-02-29', "
                    "'2024-02-29 12:34:56.5', true, '{\"k\": [1, null]}', 'xy'), "
                    "(NULL, NULL, NULL, 'NaN', NULL, NULL, NULL, NULL, NULL, NULL)"})
check(res == [{"ok": "CREATE TABLE", "notices": []}, {"ok": "INSERT 0 2", "notices": []}], f"DDL and INSERT: {res}")
res = sql({"query": "SELECT * FROM h ORDER BY i NULLS LAST"})
check(len(res) == 1 and res[0]["tag"] == "SELECT 2", f"SELECT tag: {res}")
check(res[0]["rows"][0] == [1, 9007199254740993, "12.50", 2.5, 'a"b', "2024-02-29", "2024-02-29 12:34:56.5",
                            True, {"k": [1, None]}, "xy"], f"row values: {res[0]['rows'][0]}")
check(res[0]["rows"][1] == [None, None, None, "NaN", None, None, None, None, None, None], f"NULLs: {res[0]['rows'][1]}")
cols = res[0]["desc"]["columns"]
check([c["name"] for c in cols] == ["i", "b", "n", "f", "t", "d", "ts", "ok", "j", "v"], f"column names {cols}")
check([c["type_oid"] for c in cols] == [23, 20, 1700, 701, 25, 1082, 1114, 16, 3802, 1043], f"type oids {cols}")
check(cols[0]["type_len"] == 4 and cols[4]["type_len"] == -1, f"type_len {cols}")
check(cols[2]["type_mod"] == (10 << 16 | 2) + 4 and cols[9]["type_mod"] == 9, f"type_mod {cols}")
check(res[0]["notices"] == [], "notices")

# Several statements: results in order; processing stops at the first error.
res = sql({"query": "SELECT 1 AS one; SELECT * FROM nope; SELECT 2"})
check(len(res) == 2 and res[0]["rows"] == [[1]], f"multi-statement results: {res}")
check(res[1]["error"]["code"] == "42P01" and "nope" in res[1]["error"]["message"], f"error result: {res[1]}")
res = sql({"query": "SELECT 1/0"})
check(res[0]["error"]["code"] == "22012", f"division by zero: {res}")
res = sql({"query": "SELEC 1"})
check(res[0]["error"]["code"] == "42601", f"syntax error: {res}")

# Extended: one statement per query, parameters as text (or null).
res = sql({"queries": [{"query": "SELECT $1::int + 1 AS x, $2::text AS y", "params": ["41", None]},
                       {"query": "INSERT INTO h (i, t) VALUES ($1, $2)", "params": ["7", "seven"]},
                       {"query": "SELECT t FROM h WHERE i = $1", "params": [7]}]})
check(res[0]["rows"] == [[42, None]] and res[1]["ok"] == "INSERT 0 1" and res[2]["rows"] == [["seven"]], f"extended: {res}")
res = sql({"queries": [{"query": "SELECT 1; SELECT 2"}]})
check(res[0]["error"]["code"] == "42601", f"two statements in one extended query: {res}")
res = sql({"query": "SUBSCRIBE h"})
check(res[0]["error"]["code"] == "0A000", f"SUBSCRIBE through /api/sql: {res}")
# statement_timeout through ?options= (Materialize's session options).
opts = urllib.request.quote(json.dumps({"statement_timeout": "1ms"}))
status, _, text = request("POST", f"/api/sql?options={opts}",
                          {"query": "SELECT count(*) FROM generate_series(1, 30000000) a"})
check(status == 200 and json.loads(text)["results"][0].get("error", {}).get("code") == "57014",
      f"statement_timeout from options: {text[:300]}")

# A client that disconnects cancels its statement. SELECT ... AS OF a time 20 s ahead waits
# (cancellably) for that time; the client leaves after 0.5 s; its HTTP connection must be gone
# (the handler returned) long before the 20 s.
import socket  # noqa: E402
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402


def sample(family, **labels):
    _, _, text = request("GET", "/metrics")
    for f in text_string_to_metric_families(text):
        if f.name == family:
            for s_ in f.samples:
                if all(s_.labels.get(k) == v for k, v in labels.items()):
                    return s_.value
    return None


now_ms = int(sql({"query": "SELECT mz_now()::text AS t"})[0]["rows"][0][0])
gone0 = sample("freshet_http_client_gone")
# (A query over a table: one that reads no collection answers AS OF any time at once.)
body = json.dumps({"query": f"SELECT count(*) AS x FROM h AS OF {now_ms + 20000}"}).encode()
sock = socket.create_connection(("127.0.0.1", PORT))
sock.sendall(b"POST /api/sql HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth_header().encode() +
             b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
time.sleep(0.5)
check(sample("freshet_connections", protocol="http") >= 2, "the waiting request holds its connection")
sock.close()
left = time.monotonic()
# Each sample is a connection of its own (counted while it is answered: hence 1), and the
# server counts the previous one's close a moment after the client has it: so the check is
# on the sample that ended the wait, not on a fresh one that may still see its predecessor.
conns = sample("freshet_connections", protocol="http")
while time.monotonic() < left + 5 and conns != 1:
    time.sleep(0.05)
    conns = sample("freshet_connections", protocol="http")
waited = time.monotonic() - left
print(f"a statement whose client left ended after {waited * 1000:.0f} ms")
check(conns == 1, "the statement ended when its client left")
check(sample("freshet_http_client_gone") == gone0 + 1, "the client's leaving is counted")

# Who the session is comes from authentication, not from options.
opts = urllib.request.quote(json.dumps({"session_authorization": "someone"}))
status, _, text = request("POST", f"/api/sql?options={opts}", {"query": "SELECT 1"})
check(status == 400 and "cannot be set" in text, f"options cannot change the user: {status} {text}")

# Malformed bodies: 400, the server stays up.
for body in [b"", b"{", b"[]", b'{"query": 1}', b'{"queries": [1]}', b'{"query": "x", "queries": []}',
             b'{"queries": [{"query": "SELECT $1", "params": {"a": 1}}]}']:
    status, _, _ = request("POST", "/api/sql", body)
    check(status == 400, f"malformed body {body!r} answered {status}")
status, _, _ = request("GET", "/api/sql")
check(status == 405, "GET /api/sql is 405")

# The registry keeps its routes on the same listener.
status, _, text = request("GET", "/subjects")
check(status == 200 and "freshet.public.h-value" in json.loads(text), f"registry subjects: {status} {text}")
status, _, text = request("GET", "/nothing-here")
check(status == 404, f"unknown path: {status}")
# The console's routes: a redirect, and a clear 404 while no assets are built in.
req = urllib.request.Request(BASE + "/", method="GET")
req.add_header("Authorization", auth_header())


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


try:
    urllib.request.build_opener(NoRedirect).open(req, timeout=10)
    check(False, "GET / did not redirect")
except urllib.error.HTTPError as e:
    check(e.code == 302 and e.headers["Location"] == "/console/", f"GET / answered {e.code} {e.headers.get('Location')}")

# /console/ serves the console's assets, or says clearly that this binary has none.
status, headers, text = request("GET", "/console/")
check(status == 200 or (status == 404 and "console assets not built" in text), f"/console/: {status} {text[:100]}")
# Without a console built in, its routes need the password like /api/*; a built console may
# serve its static files to anyone (they hold no data: console/README.md) and log in itself.
status, _, _ = request("GET", "/console/", auth=False)
check(status in (200, 401) if PASSWORD else status in (200, 404), f"/console/ without credentials: {status}")
if PASSWORD:
    status, _, _ = request("GET", "/console/no-such-file.js", auth=False)
    check(status in (401, 404), f"an unknown console path without credentials: {status}")

# ---- /api/subscribe (server-sent events) ------------------------------------------------
def open_stream(query):
    req = urllib.request.Request(BASE + "/api/subscribe?query=" + urllib.request.quote(query))
    req.add_header("Authorization", auth_header())
    return urllib.request.urlopen(req, timeout=30)


def read_events(resp, out, stop):
    event = None
    try:
        for raw in resp:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                out.append((time.monotonic(), event, json.loads(line[6:])))
            if stop.is_set():
                return
    except Exception:
        pass


def dataflows():
    return sql({"query": "SELECT object_name FROM mz_dataflow_frontiers WHERE object_name = 'subscribe'"})[0]["rows"]


baseline = len(dataflows())
resp = open_stream("SELECT i, t FROM h WHERE i > 100")
check(resp.headers["Content-Type"].startswith("text/event-stream"), "SSE content type")
events, stop = [], threading.Event()
reader = threading.Thread(target=read_events, args=(resp, events, stop), daemon=True)
reader.start()
deadline = time.monotonic() + 10
while time.monotonic() < deadline and not any(e[1] == "progress" for e in events):
    time.sleep(0.02)
check(events and events[0][1] == "desc", f"first event is desc: {events[:1]}")
check([c["name"] for c in events[0][2]["columns"]] == ["mz_timestamp", "mz_diff", "i", "t"], f"desc: {events[0]}")
check(any(e[1] == "progress" for e in events), "a progress event arrives")
inserted_at = time.monotonic()
psql("INSERT INTO h (i, t) VALUES (101, 'live')")
seen = None
while time.monotonic() < inserted_at + 5 and seen is None:
    for at, ev, data in list(events):
        if ev == "rows" and any(r[2:] == [101, "live"] and r[1] == 1 for r in data["rows"]):
            seen = at
    time.sleep(0.01)
check(seen is not None, "the INSERT from psql arrives as a rows event")
latency = seen - inserted_at
print(f"subscribe: psql INSERT seen on the event stream after {latency * 1000:.0f} ms (psql included)")
check(latency < 1.0, f"the INSERT arrived within 1 s ({latency:.3f} s)")
psql("DELETE FROM h WHERE i = 101")
deadline = time.monotonic() + 5
while time.monotonic() < deadline and not any(
        ev == "rows" and any(r[1] == -1 and r[2:] == [101, "live"] for r in d["rows"]) for _, ev, d in list(events)):
    time.sleep(0.02)
check(any(ev == "rows" and any(r[1] == -1 for r in d["rows"]) for _, ev, d in events), "the DELETE arrives as mz_diff -1")
check(len(dataflows()) == baseline + 1, "the subscription runs a dataflow")
stop.set()
resp.close()
deadline = time.monotonic() + 5
while time.monotonic() < deadline and len(dataflows()) != baseline:
    time.sleep(0.05)
check(len(dataflows()) == baseline, "closing the stream ends its subscription")
status, _, text = request("GET", "/api/subscribe?query=" + urllib.request.quote("SELECT * FROM nope"))
check(status == 400 and json.loads(text)["error"]["code"] == "42P01", f"subscribe error: {status} {text}")

# ---- /metrics ---------------------------------------------------------------------------
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402


def scrape():
    status, headers, text = request("GET", "/metrics")
    check(status == 200, f"/metrics answered {status}")
    check(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"), f"metrics content type {headers}")
    fams = {f.name: f for f in text_string_to_metric_families(text)}  # raises on a malformed exposition
    return fams, text


def value(fams, family, sample=None, **labels):
    f = fams.get(family)
    check(f is not None, f"metric family {family} present")
    for s in f.samples:
        if (sample is None or s.name == sample) and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    check(False, f"sample {sample or family} {labels} present")


sql({"query": "CREATE TABLE m (k int, v text); CREATE VIEW mv AS SELECT count(*) AS n FROM m; CREATE INDEX mv_idx ON mv (n)"})
before, text = scrape()
for family, kind in [("freshet_write_commits", "counter"), ("freshet_write_commit_latency_seconds", "histogram"),
                     ("freshet_table_rows_written", "counter"), ("freshet_dataflow_frontier_lag_ms", "gauge"),
                     ("freshet_arrangement_records", "gauge"), ("freshet_connections", "gauge"),
                     ("freshet_kafka_requests", "counter"), ("freshet_http_requests", "counter")]:
    check(family in before and before[family].type == kind, f"{family} is a {kind}")
check("# TYPE freshet_write_commit_latency_seconds histogram" in text, "histogram TYPE line")
commits0 = value(before, "freshet_write_commits", "freshet_write_commits_total")
hist0 = value(before, "freshet_write_commit_latency_seconds", "freshet_write_commit_latency_seconds_count")
rows0 = value(before, "freshet_table_rows_written", table="public.m")
http0 = value(before, "freshet_http_requests")
# Load: 50 write transactions through the SQL API.
for i in range(50):
    sql({"query": f"INSERT INTO m VALUES ({i}, 'x{i}')"})
after, _ = scrape()
commits1 = value(after, "freshet_write_commits", "freshet_write_commits_total")
check(commits1 >= commits0 + 50, f"write commits moved {commits0} -> {commits1}")
check(value(after, "freshet_write_commit_latency_seconds", "freshet_write_commit_latency_seconds_count") >= hist0 + 50,
      "the commit-latency histogram counted the writes")
check(value(after, "freshet_table_rows_written", table="public.m") == rows0 + 50, "rows written to m moved by 50")
# Where the writes spent their time: one observation per write in each phase.
for phase in ("lock_wait", "locked", "apply", "durable", "publish"):
    n0 = value(before, "freshet_write_phase_seconds", "freshet_write_phase_seconds_count", phase=phase)
    n1 = value(after, "freshet_write_phase_seconds", "freshet_write_phase_seconds_count", phase=phase)
    check(n1 >= n0 + 50, f"write phase {phase} counted the writes ({n0} -> {n1})")
check(value(after, "freshet_table_bytes_written", table="public.m") > 0, "bytes written to m")
check(value(after, "freshet_http_requests") >= http0 + 50, "HTTP requests moved")
buckets = [s for s in after["freshet_write_commit_latency_seconds"].samples if s.name.endswith("_bucket")]
check(buckets[-1].labels["le"] == "+Inf" and all(a.value <= b.value for a, b in zip(buckets, buckets[1:])),
      "histogram buckets are cumulative and end at +Inf")
check(buckets[-1].value == value(after, "freshet_write_commit_latency_seconds", "freshet_write_commit_latency_seconds_count"),
      "the +Inf bucket equals _count")
check(value(after, "freshet_arrangement_records", name="mv") == 1, "arrangement records of mv's index")
check(value(after, "freshet_dataflow_frontier_lag_ms", name="mv") >= 0, "frontier lag of mv")
check(value(after, "freshet_connections", protocol="http") >= 1, "HTTP connections gauge")

# A source's rows and bytes move while it ingests.
res = sql({"query": "CREATE SOURCE gen FROM LOAD GENERATOR SALES (TICK INTERVAL '100ms', RATE 200) FOR ALL TABLES"})
check("ok" in res[0], f"CREATE SOURCE: {res}")
deadline = time.monotonic() + 10
fams = None
while time.monotonic() < deadline:
    fams, _ = scrape()
    if any(s_.labels.get("source") == "gen" and s_.value > 0 for s_ in fams["freshet_source_rows"].samples):
        break
    time.sleep(0.2)
rows1 = value(fams, "freshet_source_rows", "freshet_source_rows_total", source="gen")
bytes1 = value(fams, "freshet_source_bytes", "freshet_source_bytes_total", source="gen")
check(rows1 > 0 and bytes1 > rows1, f"source gen ingested {rows1} rows, {bytes1} bytes")
time.sleep(1.0)
fams, _ = scrape()
check(value(fams, "freshet_source_rows", "freshet_source_rows_total", source="gen") > rows1, "source rows keep moving")
check(value(fams, "freshet_source_bytes", "freshet_source_bytes_total", source="gen") > bytes1, "source bytes keep moving")
check(value(fams, "freshet_source_up", source="gen") == 1, "source gen is up")
sql({"query": "DROP SOURCE gen CASCADE"})

# ---- Kafka ListGroups / DescribeGroups (kafka-python, confluent-kafka) ------------------
from kafka import KafkaAdminClient, KafkaConsumer  # noqa: E402

KAFKA = f"127.0.0.1:{os.environ['FRESHET_KAFKA_PORT']}"
auth = dict(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_plain_username=USER,
            sasl_plain_password=PASSWORD) if PASSWORD else {}
consumer = KafkaConsumer("freshet.public.h", bootstrap_servers=KAFKA, group_id="http-api-group",
                         client_id="http-api-consumer", auto_offset_reset="earliest", consumer_timeout_ms=500, **auth)
deadline = time.monotonic() + 30
while time.monotonic() < deadline and not consumer.assignment():
    consumer.poll(timeout_ms=500)
check(consumer.assignment(), "the kafka-python consumer joined its group and got partitions")
admin = KafkaAdminClient(bootstrap_servers=KAFKA, client_id="http-api-admin", **auth)
groups = admin.list_consumer_groups()
check(("http-api-group", "consumer") in groups, f"list_consumer_groups: {groups}")
desc = admin.describe_consumer_groups(["http-api-group", "no-such-group"])
by_id = {d.group: d for d in desc}
g = by_id.get("http-api-group")
check(g is not None and g.state == "Stable" and g.protocol_type == "consumer", f"describe_consumer_groups: {desc}")
check(len(g.members) == 1 and g.members[0].client_id == "http-api-consumer", f"members: {g.members}")
check(g.members[0].client_host == "/127.0.0.1", f"client_host: {g.members[0].client_host}")
assignment = g.members[0].member_assignment
check(assignment is not None and any(t == "freshet.public.h" for t, _ in assignment.assignment), f"assignment: {assignment}")
check(by_id["no-such-group"].state == "Dead", f"unknown group: {by_id.get('no-such-group')}")
admin.close()

from confluent_kafka.admin import AdminClient  # noqa: E402

conf = {"bootstrap.servers": KAFKA}
if PASSWORD:
    conf.update({"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.username": USER,
                 "sasl.password": PASSWORD})
cgroups = AdminClient(conf).list_groups(timeout=10)
cg = [x for x in cgroups if x.id == "http-api-group"]
check(cg and cg[0].state == "Stable" and cg[0].protocol_type == "consumer" and len(cg[0].members) == 1,
      f"confluent-kafka list_groups: {[(x.id, x.state, x.protocol_type) for x in cgroups]}")
check(cg[0].members[0].client_id == "http-api-consumer", "confluent-kafka sees the member")
consumer.close()
fams, _ = scrape()
check(value(fams, "freshet_kafka_requests", api="ListGroups") >= 1, "Kafka ListGroups requests counted")
check(value(fams, "freshet_kafka_request_bytes", api="Fetch") > 0, "Kafka Fetch bytes counted")
check(value(fams, "freshet_connections_accepted", protocol="kafka") >= 2, "Kafka connections counted")

print(f"http api: {checks} checks passed")
