// The web console's cost, for bench/console.sh. Headless Chromium (Debian's, driven by
// playwright-core from test/e2e/node_modules).
//   node console_page.js load URL N   N cold loads (a new browser context each: empty cache);
//                                     prints one line per load: "<load event ms> <first data ms>",
//                                     both from the page's navigation start (first data: the
//                                     overview lists the demo source).
//   node console_page.js cpu URL PID S SEG
//                                     the server's CPU (utime + stime of PID, /proc/PID/stat)
//                                     with the console closed (the tab on about:blank) and open
//                                     (the overview, polling), alternating every SEG seconds
//                                     until each state had S seconds, so that the server's own
//                                     drift (the demo's load, other programs) falls on both
//                                     alike; prints "<closed %> <open %>" of one core.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require(path.join(__dirname, "../test/e2e/node_modules/playwright-core"));

const [mode, url, arg] = process.argv.slice(2);
(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
  try {
    if (mode === "load") {
      for (let i = 0; i < Number(arg); i++) {
        const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const page = await ctx.newPage();
        await page.goto(url, { waitUntil: "load" });
        // Times from the page's own clock (navigation start = 0), not the driver's.
        const dataMs = await (await page.waitForFunction(
          () => (document.querySelector('section[data-section="Sources"]')?.innerText ?? "").includes("demo") && performance.now(),
          null, { polling: "raf", timeout: 30_000 })).jsonValue();
        const loadMs = await page.evaluate(() => performance.getEntriesByType("navigation")[0].loadEventEnd);
        console.log(`${Math.round(loadMs)} ${Math.round(dataMs)}`);
        await ctx.close();
      }
    } else if (mode === "cpu") {
      const [pid, total, seg] = process.argv.slice(4).map(Number);
      if (!(pid > 0 && total > 0 && seg > 0)) throw new Error("cpu: PID, SECONDS and SEGMENT must be positive numbers");
      const hz = Number(process.env.CLK_TCK || 100);
      const ticks = () => {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from 3 (state) on
        return Number(f[11]) + Number(f[12]); // utime (14), stime (15)
      };
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const used = { closed: 0, open: 0 };
      const secs = { closed: 0, open: 0 };
      for (let i = 0; secs.open < total; i++) {
        const state = i % 2 ? "open" : "closed";
        if (state === "open") await page.goto(url);
        else await page.goto("about:blank");
        await page.waitForTimeout(1000); // the change settles (a page load is not the steady state)
        const a = ticks();
        const t0 = Date.now();
        await page.waitForTimeout(seg * 1000);
        used[state] += ticks() - a;
        secs[state] += (Date.now() - t0) / 1000;
      }
      const pct = (s) => ((100 * used[s]) / hz / secs[s]).toFixed(2);
      console.log(`${pct("closed")} ${pct("open")}`);
    } else {
      throw new Error("usage: console_page.js load URL N | cpu URL PID SECONDS SEGMENT");
    }
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
