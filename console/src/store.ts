// The console's live state: every second one request reads the introspection relations
// (src/server/introspection.cpp), and each figure's history over the last hour is kept here,
// in the page, for the charts. History starts when the console is opened (the server keeps
// none); a reload starts it again.
import { AuthError, num, records, sql, str, type Value } from "./api";

export interface Obj { id: number; name: string; type: string; on_name: string; rows: number; topic: string }
export interface Source {
  name: string; type: string; state: string; snapshot_rows_done: number; snapshot_rows_total: number;
  lag_ms: number; rows_per_second: number; rows_total: number; position: string; last_error: string;
}
export interface Dataflow { object_id: number; object_name: string; frontier_ms: number; lag_ms: number; pending_steps: number; hydrated: boolean; error: string }
export interface Arrangement { object_id: number; object_name: string; object_type: string; records: number; bytes: number }
export interface Sink {
  name: string; type: string; state: string; from_name: string; topic: string; messages_total: number;
  committed_ts: number; position: string; last_error: string;
}
export interface GroupOffset { group_id: string; topic: string; partition: number; committed_offset: number; end_offset: number; lag: number }
/** A Kafka consumer group, summed over its partitions (lag only where the server knows the end). */
export interface Group { name: string; topics: string[]; partitions: number; committed: number; lag: number; rate: number }

export interface Snapshot {
  at: number;
  objects: Obj[];
  sources: Source[];
  dataflows: Dataflow[];
  arrangements: Arrangement[];
  sinks: Sink[];
  groups: Group[];
  /** Figures derived from two polls: net rows/s per table, messages/s per sink. */
  tableRate: Map<string, number>;
  sinkRate: Map<string, number>;
}

export const kPollMs = 1000;
const kHistoryMs = 3600_000;

export class Series {
  t: number[] = []; // seconds since the epoch (uPlot's x)
  v: number[] = [];
  push(atMs: number, value: number): void {
    this.t.push(atMs / 1000);
    this.v.push(value);
    let drop = 0;
    while (drop < this.t.length && this.t[drop] < (atMs - kHistoryMs) / 1000) drop++;
    if (drop) {
      this.t.splice(0, drop);
      this.v.splice(0, drop);
    }
  }
}

const kQueries = [
  "SELECT id, name, type, on_name, rows, topic FROM mz_objects ORDER BY name",
  "SELECT name, type, state, snapshot_rows_done, snapshot_rows_total, lag_ms, rows_per_second, rows_total, position, last_error FROM mz_source_statuses ORDER BY name",
  "SELECT object_id, object_name, frontier_ms, lag_ms, pending_steps, hydrated, error FROM mz_dataflow_frontiers ORDER BY object_name",
  "SELECT name, type, state, from_name, topic, messages_total, committed_ts, position, last_error FROM mz_sink_statuses ORDER BY name",
  "SELECT group_id, topic, partition, committed_offset, end_offset, lag FROM mz_kafka_consumer_groups ORDER BY group_id, topic, partition",
];
// Arrangement sizes are read only every few polls: the server answers them once the compute
// thread is idle, holding back the publication of writes meanwhile (src/server/coordinator.cpp).
const kArrangementQuery = "SELECT object_id, object_name, object_type, records, bytes FROM mz_arrangement_sizes ORDER BY object_name";
const kArrangementEveryPolls = 5;

const numeric = new Set(["id", "rows", "snapshot_rows_done", "snapshot_rows_total", "lag_ms", "rows_per_second", "rows_total",
  "object_id", "frontier_ms", "pending_steps", "records", "bytes", "messages_total", "committed_ts", "partition",
  "committed_offset", "end_offset", "lag"]);

function typed<T>(rows: Record<string, Value>[]): T[] {
  return rows.map((r) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) o[k] = numeric.has(k) ? num(v) : k === "hydrated" ? v === true || v === "t" || v === "true" : str(v);
    return o as T;
  });
}

function groups(offsets: GroupOffset[]): Group[] {
  const out = new Map<string, Group>();
  for (const o of offsets) {
    let g = out.get(o.group_id);
    if (!g) out.set(o.group_id, (g = { name: o.group_id, topics: [], partitions: 0, committed: 0, lag: 0, rate: 0 }));
    if (!g.topics.includes(o.topic)) g.topics.push(o.topic);
    g.partitions++;
    g.committed += o.committed_offset;
    g.lag += o.lag; // NaN once one partition's end is unknown (a raw topic): shown as "–"
  }
  return [...out.values()];
}

type Listener = (s: Snapshot) => void;

class Store {
  snapshot: Snapshot | null = null;
  error: Error | null = null;
  private history = new Map<string, Series>();
  private listeners = new Set<Listener>();
  private timer = 0;
  private inFlight = false;
  private polls = 0;
  onAuth: (e: AuthError) => void = () => {};
  /** After every poll, successful or not (the connection indicator). */
  onStatus: () => void = () => {};

  series(key: string): Series {
    let s = this.history.get(key);
    if (!s) this.history.set(key, (s = new Series()));
    return s;
  }
  listen(fn: Listener): () => void {
    this.listeners.add(fn);
    if (this.snapshot) fn(this.snapshot);
    return () => this.listeners.delete(fn);
  }
  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = window.setInterval(() => void this.poll(), kPollMs);
  }
  stop(): void {
    window.clearInterval(this.timer);
    this.timer = 0;
  }

  private async poll(): Promise<void> {
    if (this.inFlight) return; // a slow server gets one request at a time
    this.inFlight = true;
    try {
      const prev = this.snapshot;
      const sizes = !prev || this.polls % kArrangementEveryPolls === 0;
      const [o, s, d, k, g, a] = await sql(...kQueries, ...(sizes ? [kArrangementQuery] : []));
      this.polls++;
      const snap: Snapshot = {
        at: Date.now(),
        objects: typed<Obj>(records(o)),
        sources: typed<Source>(records(s)),
        dataflows: typed<Dataflow>(records(d)),
        arrangements: a ? typed<Arrangement>(records(a)) : prev?.arrangements ?? [],
        sinks: typed<Sink>(records(k)),
        groups: groups(typed<GroupOffset>(records(g))),
        tableRate: new Map(),
        sinkRate: new Map(),
      };
      this.derive(prev, snap);
      this.snapshot = snap;
      this.error = null;
    } catch (e) {
      this.error = e as Error;
      if (e instanceof AuthError) {
        this.stop();
        this.onAuth(e);
      }
    } finally {
      this.inFlight = false;
    }
    this.onStatus();
    if (this.snapshot && !this.error) for (const fn of this.listeners) fn(this.snapshot);
  }

  private derive(prev: Snapshot | null, s: Snapshot): void {
    const dt = prev ? (s.at - prev.at) / 1000 : 0;
    let ingest = 0;
    for (const src of s.sources) {
      this.series(`source:${src.name}:rate`).push(s.at, src.rows_per_second);
      if (Number.isFinite(src.lag_ms)) this.series(`source:${src.name}:lag`).push(s.at, src.lag_ms);
      ingest += src.rows_per_second;
    }
    this.series("total:ingest").push(s.at, ingest);
    for (const t of s.objects.filter((o) => o.type === "table")) {
      const before = prev?.objects.find((p) => p.id === t.id);
      if (before && dt > 0) s.tableRate.set(t.name, (t.rows - before.rows) / dt);
    }
    for (const d of s.dataflows) this.series(`dataflow:${d.object_name}:lag`).push(s.at, d.lag_ms);
    if (s.dataflows.length) this.series("total:lag").push(s.at, Math.max(...s.dataflows.map((d) => d.lag_ms)));
    for (const g of s.groups) {
      const before = prev?.groups.find((p) => p.name === g.name);
      g.rate = before && dt > 0 ? Math.max(0, (g.committed - before.committed) / dt) : 0;
      this.series(`group:${g.name}:rate`).push(s.at, g.rate);
      if (Number.isFinite(g.lag)) this.series(`group:${g.name}:lag`).push(s.at, g.lag);
    }
    for (const k of s.sinks) {
      const before = prev?.sinks.find((p) => p.name === k.name);
      const rate = before && dt > 0 ? Math.max(0, (k.messages_total - before.messages_total) / dt) : 0;
      s.sinkRate.set(k.name, rate);
      this.series(`sink:${k.name}:rate`).push(s.at, rate);
      if (Number.isFinite(k.committed_ts)) this.series(`sink:${k.name}:lag`).push(s.at, Math.max(0, s.at - k.committed_ts));
    }
  }
}

export const store = new Store();
