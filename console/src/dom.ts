// A few DOM helpers: the console builds its pages with h() and replaces what changed.

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>;

export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}

/** Replaces el's children. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A table: header names and rows of cells. */
export function table(cls: string, head: string[], rows: Child[][], empty = "none"): HTMLElement {
  return h(
    "table",
    { class: cls },
    h("thead", {}, h("tr", {}, head.map((c) => h("th", {}, c)))),
    h("tbody", {}, rows.length ? rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))) : h("tr", {}, h("td", { colspan: head.length, class: "empty" }, empty))),
  );
}

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–";
}
export function fmtRate(n: number): string {
  if (!Number.isFinite(n)) return "–";
  return n >= 100 ? fmtInt(n) : n.toFixed(1);
}
export function fmtMs(n: number): string {
  if (!Number.isFinite(n)) return "–";
  if (n < 1000) return `${Math.round(n)} ms`;
  if (n < 60_000) return `${(n / 1000).toFixed(1)} s`;
  return `${(n / 60_000).toFixed(1)} min`;
}
export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function link(href: string, text: string): HTMLElement {
  return h("a", { href }, text);
}

export function badge(state: string): HTMLElement {
  const cls = state === "running" || state === "hydrated" || state === "ready" ? "ok" : state === "error" || state === "failed" ? "bad" : "warn";
  return h("span", { class: `badge ${cls}` }, state || "unknown");
}

/** A progress bar in [0, 1], exposed to assistive technology (and to the tests) as a progressbar. */
export function progress(fraction: number, label: string): HTMLElement {
  const pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
  return h(
    "div",
    { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct, "aria-label": label },
    h("div", { class: "bar", style: `width:${pct}%` }),
    h("span", {}, `${pct}% ${label}`),
  );
}
