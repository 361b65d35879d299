// The web console in headless Chromium (playwright-core), against a running `freshet demo`
// (MODE=demo) or a server with a password (MODE=auth). Run by test/e2e/console_test.sh, which
// sets BASE (http://127.0.0.1:PORT), OUT (the screenshot directory) and the PG* variables.
// Prints one line per check; exits 1 on the first failure.
"use strict";
const { chromium } = require("playwright-core");
const { execFileSync, spawn } = require("node:child_process");
const path = require("node:path");

const BASE = process.env.BASE;
const OUT = process.env.OUT;
const MODE = process.env.MODE || "demo";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

function psql(sql) {
  return execFileSync("psql", ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], { encoding: "utf8" }).trim();
}
function ok(msg) {
  console.log(`ok   ${msg}`);
}
class CheckFailed extends Error {}
function fail(msg) {
  throw new CheckFailed(msg);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

// Waits until fn() (run in the page) returns a truthy value; returns it.
async function until(page, what, timeoutMs, fn, arg) {
  try {
    const handle = await page.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 50 });
    return await handle.jsonValue();
  } catch (e) {
    await shot(page, `failed-${what.replace(/\W+/g, "-")}`).catch(() => {});
    fail(`${what}: not within ${timeoutMs} ms`);
  }
}

async function demoChecks(page) {
  // The overview lists the SALES source and the anomaly view.
  const t0 = Date.now();
  await page.goto(`${BASE}/console/`);
  await until(page, "overview lists source demo and view sales_anomalies", 30_000, () => {
    const text = (s) => document.querySelector(`section[data-section="${s}"]`)?.innerText ?? "";
    return text("Sources").includes("demo") && text("Views").includes("sales_anomalies") && text("Tables").includes("sales");
  });
  ok(`overview lists source demo, table sales and view sales_anomalies (${Date.now() - t0} ms after navigation)`);

  // A chart's data changes within 2 s.
  const before = await page.$eval("figure.chart", (f) => Number(f.dataset.samples || 0));
  const t1 = Date.now();
  await until(page, "the ingest chart got a new sample", 2000, (n) => Number(document.querySelector("figure.chart")?.dataset.samples || 0) > n, before);
  const last = await page.$eval("figure.chart", (f) => Number(f.dataset.last));
  if (!(last > 0)) fail(`the ingest chart's newest value is ${last}, expected rows/s > 0`);
  ok(`the ingest chart's data changed after ${Date.now() - t1} ms (newest ${Math.round(last)} rows/s)`);
  await shot(page, "overview");

  // The source page: the snapshot progress bar reaches 100 %; charts and position are shown.
  await page.goto(`${BASE}/console/#/source/demo`);
  await until(page, "snapshot progress bar at 100%", 30_000,
    () => document.querySelector('.page.source [role="progressbar"]')?.getAttribute("aria-valuenow") === "100");
  await until(page, "the source's upstream position", 5000, () => /\d/.test(document.querySelector(".page.source code.position")?.textContent ?? ""));
  await until(page, "the throughput chart drawn", 5000, () => document.querySelectorAll(".page.source figure.chart canvas").length === 2);
  ok("source demo: snapshot progress bar at 100%, upstream position and two charts shown");
  await shot(page, "source");

  // The index page: freshness and the plan as a graph of operators.
  await page.goto(`${BASE}/console/#/dataflow/sales_anomalies_customer_id_idx`);
  const ops = await until(page, "the EXPLAIN graph", 10_000, () => {
    const names = [...document.querySelectorAll("svg.plan .op-name")].map((t) => t.textContent);
    return names.length >= 5 ? names : null;
  });
  for (const op of ["Join", "Reduce", "TemporalFilter", "Get"]) if (!ops.includes(op)) fail(`the plan graph has no ${op} node: ${ops}`);
  const fresh = await until(page, "freshness in ms", 5000, () => {
    const t = document.querySelector(".freshness")?.textContent ?? "";
    return /^\d+ ms$|^\d+(\.\d)? s$/.test(t) ? t : null;
  });
  await until(page, "hydration at 100%", 5000, () => document.querySelector('.page.dataflow [role="progressbar"]')?.getAttribute("aria-valuenow") === "100");
  ok(`index page: freshness ${fresh}, hydrated, plan graph of ${ops.length} operators (${[...new Set(ops)].join(", ")})`);
  // The view's rows, live (a SUBSCRIBE with its snapshot).
  await page.click("button.watch");
  const rows = await until(page, "the view's rows streaming", 10_000, () => {
    const head = [...document.querySelectorAll(".watch-box .live-table th")].map((th) => th.textContent);
    const n = document.querySelectorAll(".watch-box .live-table tbody tr").length;
    return head.includes("customer_id") && n > 0 ? n : null;
  });
  ok(`index page: sales_anomalies' rows stream in (${rows} shown)`);
  await shot(page, "index");
  await page.click("button.watch");

  // A Kafka consumer group (kcat, committing every 500 ms) shows with its lag.
  const kcat = spawn("kcat", ["-b", process.env.KAFKA, "-G", "console_group", "-X", "auto.commit.interval.ms=500", "-q", "freshet.public.sales"],
    { stdio: ["ignore", "ignore", "inherit"] });
  try {
    await page.goto(`${BASE}/console/`);
    await until(page, "the consumer group in the overview", 20_000,
      () => (document.querySelector('section[data-section="Kafka consumer groups"]')?.innerText ?? "").includes("console_group"));
    await page.goto(`${BASE}/console/#/group/console_group`);
    const lag = await until(page, "the consumer group's lag", 5000, () => {
      const t = document.querySelector(".page.group dd.lag")?.textContent ?? "";
      return /^[\d,]+ messages$/.test(t) ? t : null;
    });
    ok(`consumer group console_group (kcat) listed, lag ${lag}`);
    await shot(page, "consumer-group");
  } finally {
    kcat.kill();
  }

  // The SQL shell: a query shows its rows.
  psql("CREATE TABLE console_t (id int PRIMARY KEY, note text); INSERT INTO console_t VALUES (1, 'first'), (2, 'second'), (3, NULL)");
  await page.goto(`${BASE}/console/#/sql`);
  await page.fill("textarea.sql-input", "SELECT id, note FROM console_t ORDER BY id");
  await page.click("button.primary");
  const cells = await until(page, "the query's rows", 5000, () => {
    const rows = [...document.querySelectorAll("table.results tbody tr")].map((tr) => [...tr.children].map((td) => td.textContent).join("|"));
    return rows.length === 3 ? rows : null;
  });
  if (cells.join(",") !== "1|first,2|second,3|NULL") fail(`the query showed ${cells.join(",")}`);
  const tag = await page.textContent(".result .tag");
  if (!tag.includes("SELECT 3")) fail(`the result's tag: ${tag}`);
  ok(`SQL shell: SELECT shows its 3 rows (${cells.join(", ")}) and "${tag.trim()}"`);
  // An error shows its SQLSTATE.
  await page.fill("textarea.sql-input", "SELECT * FROM no_such_table");
  await page.click("button.primary");
  const err = await until(page, "the error", 5000, () => document.querySelector(".output pre.error")?.textContent);
  if (!err.includes("42P01")) fail(`the error shown: ${err}`);
  ok(`SQL shell: an unknown table shows "${err}"`);

  // SUBSCRIBE: a change made from psql shows within 1 s, entering and leaving.
  await page.fill("textarea.sql-input", "SUBSCRIBE console_t");
  await page.click("button.primary");
  await until(page, "the subscription's snapshot", 5000, () => document.querySelectorAll(".live-table tbody tr").length === 3);
  const hasRow = (note) => [...document.querySelectorAll(".live-table tbody tr")].some((tr) => tr.textContent.includes(note) && Number(tr.dataset.count) > 0);
  let t2 = Date.now();
  psql("INSERT INTO console_t VALUES (4, 'from psql')");
  await until(page, "the psql INSERT in the SUBSCRIBE", 1000, hasRow, "from psql");
  const enterMs = Date.now() - t2;
  await shot(page, "subscribe");
  t2 = Date.now();
  psql("DELETE FROM console_t WHERE id = 2");
  await until(page, "the psql DELETE in the SUBSCRIBE", 1000,
    () => [...document.querySelectorAll(".live-table tbody tr")].some((tr) => tr.textContent.includes("second") && tr.dataset.count === "0"));
  const leaveMs = Date.now() - t2;
  ok(`SUBSCRIBE: a row inserted from psql entered after ${enterMs} ms, a deleted one left after ${leaveMs} ms (both including psql's own run)`);
  await page.click("text=Stop");
}

async function authChecks(page) {
  const t0 = Date.now();
  await page.goto(`${BASE}/console/`);
  await until(page, "the login form", 10_000, () => document.querySelector("form.login"));
  ok(`with a password configured the console asks for it (${Date.now() - t0} ms)`);
  await page.fill('form.login input[name="password"]', "wrong-password");
  await page.click('form.login button[type="submit"]');
  const msg = await until(page, "the refusal", 5000, () => document.querySelector('form.login [role="alert"]')?.textContent || null);
  if (!/password authentication failed/.test(msg)) fail(`a wrong password showed "${msg}"`);
  if (await page.$("header nav")) fail("a wrong password got past the login form");
  await shot(page, "login-refused");
  ok(`a wrong password is refused: "${msg}"`);
  // The API refuses it too, whatever the page does.
  const status = await page.evaluate(async () => (await fetch("/api/sql", { method: "POST", credentials: "omit",
    headers: { Authorization: `Basic ${btoa("freshet:wrong-password")}`, "Content-Type": "application/json" }, body: '{"query":"SELECT 1"}' })).status);
  if (status !== 401) fail(`POST /api/sql with a wrong password answered ${status}`);
  ok("POST /api/sql with a wrong password answers 401");
  await page.fill('form.login input[name="password"]', process.env.PGPASSWORD);
  await page.click('form.login button[type="submit"]');
  await until(page, "the overview after signing in", 10_000, () => document.querySelector(".conn.ok") && document.querySelector('section[data-section="Sources"]'));
  ok("the right password opens the console");
  await shot(page, "signed-in");
}

(async () => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  let rc = 0;
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    if (MODE === "auth") await authChecks(page);
    else await demoChecks(page);
    if (errors.length) fail(`errors in the page: ${errors.join("; ")}`);
  } catch (e) {
    console.log(`FAILED ${e instanceof CheckFailed ? e.message : e.stack}`);
    rc = 1;
  } finally {
    await browser.close();
  }
  process.exit(rc);
})();
