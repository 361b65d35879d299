// The console's only way to the server: Materialize's HTTP SQL API (`POST /api/sql`) and the
// SUBSCRIBE stream, both served by freshet on its HTTP listener (src/server/http_api.hpp).
// Credentials, when the server asks for them, go as HTTP Basic auth on every request; they
// are kept in sessionStorage (gone when the tab closes), never in a cookie the page cannot see.

export type Value = string | number | boolean | null | Value[] | { [k: string]: Value };
export interface Column { name: string; type_oid?: number }
export interface Result { tag?: string; columns: Column[]; rows: Value[][] }

export class SqlError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}
/** The server refused the credentials (or wants some): show the login form. */
export class AuthError extends Error {}

const kAuthKey = "freshet.auth";

export function setCredentials(user: string, password: string): void {
  const utf8 = new TextEncoder().encode(`${user}:${password}`);
  sessionStorage.setItem(kAuthKey, btoa(String.fromCharCode(...utf8)));
}
export function clearCredentials(): void {
  sessionStorage.removeItem(kAuthKey);
}
function headers(): Record<string, string> {
  const h: Record<string, string> = { "Content-Type": "application/json" };
  const auth = sessionStorage.getItem(kAuthKey);
  if (auth) h.Authorization = `Basic ${auth}`;
  return h;
}

async function post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  // credentials "omit": the browser neither adds its own nor prompts for them on a 401 (the
  // console's login form does); the Authorization header set here is sent all the same.
  const res = await fetch(url, { method: "POST", headers: headers(), body: JSON.stringify(body), signal, credentials: "omit" });
  // 401 only: a 403 (insufficient privilege) is an answer for the statement, not a login.
  if (res.status === 401) throw new AuthError(await errorText(res));
  return res;
}

async function errorText(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const j = JSON.parse(text);
    return j?.error?.message ?? j?.message ?? text;
  } catch {
    return text || `HTTP ${res.status}`;
  }
}

interface ApiResult {
  tag?: string;
  rows?: Value[][];
  desc?: { columns?: Column[] };
  error?: { message: string; code?: string } | string;
}

function toResult(r: ApiResult): Result {
  if (r.error !== undefined) {
    if (typeof r.error === "string") throw new SqlError(r.error);
    throw new SqlError(r.error.message, r.error.code);
  }
  return { tag: r.tag, columns: r.desc?.columns ?? [], rows: r.rows ?? [] };
}

/**
 * Runs statements in one request; one Result per statement. Throws SqlError for the first
 * statement that failed, AuthError when the server wants (other) credentials.
 */
export async function sql(...queries: string[]): Promise<Result[]> {
  const res = await post("/api/sql", { queries: queries.map((query) => ({ query, params: [] })) });
  if (!res.ok && res.status !== 400) throw new SqlError(await errorText(res));
  const body = (await res.json()) as { results?: ApiResult[]; error?: ApiResult["error"] };
  if (body.error !== undefined) toResult({ error: body.error });
  return (body.results ?? []).map(toResult);
}

/** One SQL text, possibly several statements (the shell): results as the server gives them. */
export async function sqlText(query: string): Promise<Result[]> {
  const res = await post("/api/sql", { query });
  if (!res.ok && res.status !== 400) throw new SqlError(await errorText(res));
  const body = (await res.json()) as { results?: ApiResult[]; error?: ApiResult["error"] };
  if (body.error !== undefined) toResult({ error: body.error });
  return (body.results ?? []).map(toResult);
}

/** Rows of a result as objects by column name. */
export function records(r: Result): Record<string, Value>[] {
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
}

export const num = (v: Value | undefined): number => (v === null || v === undefined ? NaN : Number(v));
export const str = (v: Value | undefined): string => (v === null || v === undefined ? "" : String(v));

/** A double-quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export interface SubscribeHandlers {
  columns(cols: Column[]): void;
  rows(rows: Value[][]): void;
  error(e: Error): void;
  end(): void;
}

/**
 * Runs a SUBSCRIBE and calls back with its rows (mz_timestamp, mz_diff, columns...) as they
 * arrive. Read with fetch() rather than EventSource, which cannot send credentials in a header.
 * Returns a function that stops it.
 */
export function subscribe(query: string, h: SubscribeHandlers): () => void {
  const ctl = new AbortController();
  (async () => {
    const res = await post("/api/subscribe", { query }, ctl.signal);
    if (!res.ok) throw new SqlError(await errorText(res));
    if (!res.body) throw new SqlError("the server sent no stream");
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let sep: number;
      while ((sep = buf.indexOf("\n\n")) >= 0) {
        const raw = buf.slice(0, sep);
        buf = buf.slice(sep + 2);
        handleEvent(raw, h);
      }
    }
    h.end();
  })().catch((e: Error) => {
    if (e.name !== "AbortError") h.error(e);
    else h.end();
  });
  return () => ctl.abort();
}

function handleEvent(raw: string, h: SubscribeHandlers): void {
  let event = "message";
  const data: string[] = [];
  for (const line of raw.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return;
  const payload = JSON.parse(data.join("\n"));
  // src/server/http_api.cpp: desc {columns}, rows {rows: [[mz_timestamp, mz_diff, ...]]},
  // progress {mz_timestamp} (ignored here), error {message, code}.
  if (event === "desc") h.columns(payload.columns);
  else if (event === "rows") h.rows(payload.rows);
  else if (event === "error") h.error(new SqlError(payload.message ?? String(payload), payload.code));
}
