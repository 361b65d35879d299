// Builds the console into dist/: index.html, app.js and app.css (bundled and minified by
// esbuild, uPlot included). The generated files are what CMake embeds into the freshet binary
// (console/CMakeLists.txt). Deterministic: the same sources give the same bytes, so the
// generated C++ source, and so ccache, see a change only when the console changed.
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outArg = process.argv.indexOf("--outdir");
const out = outArg > 0 ? process.argv[outArg + 1] : join(here, "dist");
mkdirSync(out, { recursive: true });

const result = await esbuild.build({
  entryPoints: [join(here, "src/main.ts")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  outdir: out,
  entryNames: "app",
  legalComments: "none",
  logLevel: "warning",
  write: false,
});
const hash = createHash("sha256");
for (const f of result.outputFiles) {
  writeFileSync(f.path, f.contents);
  hash.update(f.contents);
}
// A version in the asset URLs: browsers may cache app.js/app.css, never index.html.
const version = hash.digest("hex").slice(0, 12);
const html = readFileSync(join(here, "src/index.html"), "utf8").replaceAll("%VERSION%", version);
writeFileSync(join(out, "index.html"), html);
