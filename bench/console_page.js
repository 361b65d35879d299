// The web console's cost, for bench/console.sh. Headless Chromium (Debian's, driven by
// playwright-core from test/e2e/node_modules).
//   node console_page.js load URL N   N cold loads (a new browser context each: empty cache);
//                                     prints one line per load: "<load event ms> <first data ms>",
//                                     both from the page's navigation start (first data: the
//                                     overview lists the demo source).
//   node console_page.js hold URL S   keeps the overview open S seconds (its live updates run).
"use strict";
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
    } else if (mode === "hold") {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(url);
      await page.waitForTimeout(Number(arg) * 1000);
    } else {
      throw new Error(`usage: console_page.js load|hold URL N`);
    }
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
