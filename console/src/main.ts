// The Freshet console: a single page served by freshet under /console/. Routes live in the
// URL's hash (#/, #/source/NAME, #/dataflow/NAME, #/sink/NAME, #/group/NAME, #/sql) so the server serves
// one index.html.
import "./style.css";
import { AuthError, clearCredentials } from "./api";
import { h, replace } from "./dom";
import { dataflowPage } from "./pages/dataflow";
import { groupPage } from "./pages/group";
import { loginForm } from "./pages/login";
import { overviewPage } from "./pages/overview";
import type { Page } from "./pages/page";
import { shellPage } from "./pages/shell";
import { sinkPage } from "./pages/sink";
import { sourcePage } from "./pages/source";
import { store } from "./store";

const root = document.getElementById("app")!;
const status = h("span", { class: "conn" });
const main = h("main");
let page: Page | null = null;
let unlisten: (() => void) | null = null;

function nav(): HTMLElement {
  return h("header", {},
    h("a", { class: "brand", href: "#/" }, "Freshet"),
    h("nav", {}, h("a", { href: "#/" }, "Overview"), h("a", { href: "#/sql" }, "SQL shell")),
    status);
}

function route(): Page {
  const [, kind, name] = location.hash.replace(/^#/, "").split("/").map(decodeURIComponent);
  if (kind === "source" && name) return sourcePage(name);
  if (kind === "dataflow" && name) return dataflowPage(name);
  if (kind === "sink" && name) return sinkPage(name);
  if (kind === "group" && name) return groupPage(name);
  if (kind === "sql") return shellPage(showLogin);
  return overviewPage();
}

function show(): void {
  unlisten?.();
  page?.destroy?.();
  page = route();
  replace(main, page.el);
  for (const a of root.querySelectorAll("nav a")) a.classList.toggle("active", a.getAttribute("href") === (location.hash || "#/"));
  const p = page;
  unlisten = store.listen((s) => p.update?.(s));
}

function showLogin(e: AuthError): void {
  store.stop();
  unlisten?.();
  page?.destroy?.();
  page = null;
  clearCredentials();
  replace(root, loginForm(e.message && !/^HTTP \d+$/.test(e.message) ? e.message : "", () => start()));
}

function start(): void {
  replace(root, nav(), main);
  show();
  store.start();
}

store.onAuth = showLogin;
store.onStatus = () => {
  status.textContent = store.error ? `⚠ ${store.error.message}` : "live";
  status.className = store.error ? "conn bad" : "conn ok";
};
window.addEventListener("hashchange", show);
start();
