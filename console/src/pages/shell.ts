// The SQL shell: a query's results as a table; a SUBSCRIBE's rows entering and leaving live.
import { AuthError, type Column, sqlText, subscribe, type Value } from "../api";
import { fmtInt, h, replace } from "../dom";
import type { Page } from "./page";

const kMaxShownRows = 1000;
const kFlashMs = 1500;

export function shellPage(onAuth: (e: AuthError) => void): Page {
  const input = h("textarea", { class: "sql-input", rows: 4, spellcheck: "false", placeholder: "SELECT * FROM sales_anomalies LIMIT 10;   (Ctrl+Enter runs; SUBSCRIBE streams)" }) as HTMLTextAreaElement;
  input.value = sessionStorage.getItem("freshet.shell") ?? "";
  const runBtn = h("button", { class: "primary", type: "button" }, "Run");
  const stopBtn = h("button", { type: "button", disabled: true }, "Stop");
  const status = h("span", { class: "muted status" });
  const output = h("div", { class: "output" });
  let stop: (() => void) | null = null;

  const finish = (msg: string) => {
    stop = null;
    stopBtn.toggleAttribute("disabled", true);
    runBtn.removeAttribute("disabled");
    status.textContent = msg;
  };
  const fail = (e: unknown) => {
    if (e instanceof AuthError) onAuth(e);
    const code = (e as { code?: string }).code;
    replace(output, h("pre", { class: "error" }, code ? `ERROR ${code}: ${(e as Error).message}` : `ERROR: ${(e as Error).message}`));
  };

  const run = async () => {
    stop?.();
    const q = input.value.trim();
    if (!q) return;
    sessionStorage.setItem("freshet.shell", q);
    runBtn.toggleAttribute("disabled", true);
    status.textContent = "running…";
    if (/^subscribe\b/i.test(q)) {
      stopBtn.removeAttribute("disabled");
      const live = new LiveTable();
      replace(output, live.el);
      status.textContent = "subscribed";
      stop = subscribe(q, {
        columns: (cols) => live.setColumns(cols),
        rows: (rows) => live.apply(rows),
        error: (e) => {
          fail(e);
          finish("failed");
        },
        end: () => finish("subscription ended"),
      });
      return;
    }
    const started = performance.now();
    try {
      const results = await sqlText(q);
      replace(output, results.map((r) => h("div", { class: "result" },
        r.columns.length ? resultTable(r.columns, r.rows) : null,
        h("p", { class: "muted tag" }, r.tag ?? "", r.columns.length ? ` · ${fmtInt(r.rows.length)} rows` : ""))));
      finish(`done in ${Math.round(performance.now() - started)} ms`);
    } catch (e) {
      fail(e);
      finish("failed");
    }
  };

  runBtn.addEventListener("click", () => void run());
  stopBtn.addEventListener("click", () => {
    stop?.();
    finish("stopped");
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void run();
    }
  });
  const el = h("div", { class: "page shell" }, h("h1", {}, "SQL shell"), input, h("div", { class: "toolbar" }, runBtn, stopBtn, status), output);
  return { el, destroy: () => stop?.() };
}

function cell(v: Value): string {
  if (v === null) return "NULL";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

function resultTable(columns: Column[], rows: Value[][]): HTMLElement {
  const shown = rows.slice(0, kMaxShownRows);
  return h("div", { class: "table-scroll" },
    h("table", { class: "grid results" },
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c.name)))),
      h("tbody", {}, shown.map((r) => h("tr", {}, r.map((v) => h("td", { class: v === null ? "null" : "" }, cell(v))))))),
    rows.length > shown.length ? h("p", { class: "muted" }, `first ${kMaxShownRows} of ${fmtInt(rows.length)} rows shown`) : null);
}

/**
 * A SUBSCRIBE's current contents: each update (mz_timestamp, mz_diff, columns...) adds or
 * removes copies of a row; a row that enters flashes green, one that leaves stays a moment,
 * struck through, then goes.
 */
export class LiveTable {
  readonly el: HTMLElement;
  private columns: Column[] = [];
  private diffAt = 1;
  private dataAt: number[] = [];
  private rows = new Map<string, { values: Value[]; count: number; tr: HTMLElement | null }>();
  private entered = 0;
  private left = 0;
  private readonly head = h("thead");
  private readonly body = h("tbody");
  private readonly counter = h("p", { class: "muted counter" }, "waiting for the first rows…");

  constructor() {
    this.el = h("div", { class: "live" }, this.counter, h("div", { class: "table-scroll" }, h("table", { class: "grid results live-table" }, this.head, this.body)));
  }

  setColumns(cols: Column[]): void {
    this.columns = cols;
    this.diffAt = Math.max(0, cols.findIndex((c) => c.name === "mz_diff"));
    this.dataAt = cols.map((c, i) => (c.name.startsWith("mz_") ? -1 : i)).filter((i) => i >= 0);
    replace(this.head, h("tr", {}, this.dataAt.map((i) => h("th", {}, this.columns[i].name))));
  }

  apply(updates: Value[][]): void {
    if (!this.columns.length && updates.length) this.setColumns(updates[0].map((_, i) => ({ name: i === 0 ? "mz_timestamp" : i === 1 ? "mz_diff" : `column${i - 1}` })));
    for (const u of updates) {
      const diff = Number(u[this.diffAt]);
      const values = this.dataAt.map((i) => u[i]);
      const key = JSON.stringify(values);
      let r = this.rows.get(key);
      if (!r) this.rows.set(key, (r = { values, count: 0, tr: null }));
      r.count += diff;
      if (diff > 0) this.entered += diff;
      else this.left -= diff;
      this.render(key, r, diff > 0);
    }
    this.counter.textContent = `${fmtInt(this.entered)} entered · ${fmtInt(this.left)} left · ${fmtInt([...this.rows.values()].reduce((s, r) => s + Math.max(0, r.count), 0))} now`;
  }

  private render(key: string, r: { values: Value[]; count: number; tr: HTMLElement | null }, entered: boolean): void {
    if (!r.tr) {
      if (this.body.childElementCount >= kMaxShownRows) return;
      r.tr = h("tr", {}, r.values.map((v) => h("td", { class: v === null ? "null" : "" }, cell(v))));
      this.body.prepend(r.tr);
    }
    const tr = r.tr;
    tr.classList.remove("entered", "left");
    void tr.offsetWidth; // restart the flash
    tr.classList.add(entered ? "entered" : "left");
    tr.dataset.count = String(r.count);
    if (r.count <= 0) {
      window.setTimeout(() => {
        const cur = this.rows.get(key);
        if (cur && cur.count <= 0) {
          cur.tr?.remove();
          this.rows.delete(key);
        }
      }, kFlashMs);
    }
  }
}
