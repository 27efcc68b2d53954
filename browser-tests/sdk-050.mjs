// Runs an app built with the published Basic SDK 0.5.0 (unmodified, from the
// npm registry) against this server in headless Chromium: a new user signs
// up through the server's pages, the SDK exchanges the code, reads the user,
// checks the schema, adds, lists, updates and deletes records over REST,
// survives a reload, and refreshes its expired token. 0.5.0 talks to
// https://api.basic.tech only: every request to that host is relayed to the
// server here, and the app itself is served as https://todo.example/.
// Saves a screenshot of every step.
//
// Usage: node sdk-050.mjs BASE_URL PROJECT_ID SCHEMA_JSON SCREENSHOT_DIR TOKEN_TTL_SECS

import { chromium } from "playwright-core";
import { build } from "esbuild";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [base, projectId, schemaText, shots, ttlText] = process.argv.slice(2);
if (!base || !projectId || !schemaText || !shots || !ttlText) {
  console.error("usage: node sdk-050.mjs BASE_URL PROJECT_ID SCHEMA_JSON SCREENSHOT_DIR TOKEN_TTL_SECS");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const here = dirname(fileURLToPath(import.meta.url));
const API = "https://api.basic.tech";
const APP = "https://todo.example/";

const bundle = await build({
  entryPoints: [join(here, "sdk-app/app.jsx")],
  bundle: true,
  write: false,
  format: "esm",
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "error",
});
const page_html = `<!doctype html><html><head><meta charset="utf-8"><title>Todo</title></head><body>
<div id="root"></div>
<script>window.BASIC_TEST = ${JSON.stringify({ projectId, schema: JSON.parse(schemaText) })};</script>
<script type="module" src="/app.js"></script></body></html>`;

const tokenRequests = [];
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

/// Relays a request for api.basic.tech to the server. A redirect is handed
/// to the page as a navigation of its own (a redirect fulfilled here would
/// be followed without routing), with its cookies.
async function relay(route) {
  const request = route.request();
  const url = new URL(request.url());
  const headers = { ...request.headers() };
  delete headers.host;
  const body = request.postDataBuffer();
  if (url.pathname === "/auth/token") tokenRequests.push(JSON.parse(body.toString()));
  const answer = await fetch(base + url.pathname + url.search, {
    method: request.method(),
    headers,
    body: body ?? undefined,
    redirect: "manual",
  });
  const cookies = answer.headers.getSetCookie();
  const passed = {};
  answer.headers.forEach((value, name) => {
    if (!["set-cookie", "content-encoding", "content-length", "transfer-encoding", "connection"].includes(name)) {
      passed[name] = value;
    }
  });
  if (cookies.length) passed["set-cookie"] = cookies.join("\n");
  if (answer.status >= 300 && answer.status < 400) {
    const next = new URL(answer.headers.get("location"), API + url.pathname).href;
    const go = `<!doctype html><script>location.replace(${JSON.stringify(next)})</script>`;
    delete passed.location;
    return route.fulfill({ status: 200, headers: { ...passed, "content-type": "text/html" }, body: go });
  }
  return route.fulfill({ status: answer.status, headers: passed, body: Buffer.from(await answer.arrayBuffer()) });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
let step = 0;
try {
  const context = await browser.newContext({ viewport: { width: 800, height: 720 } });
  const page = await context.newPage();
  const shot = async (name) => page.screenshot({ path: `${shots}/${String(++step).padStart(2, "0")}-${name}.png`, fullPage: true });
  page.on("console", (m) => { if (m.type() === "error") console.log("page:", m.text()); });
  await context.route(`${API}/**`, relay);
  await context.route(`${APP}**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === "/app.js") {
      return route.fulfill({ status: 200, contentType: "text/javascript", body: bundle.outputFiles[0].text });
    }
    return route.fulfill({ status: 200, contentType: "text/html", body: page_html });
  });
  // The SDK asks the registry for its latest version: answer offline.
  await context.route("https://registry.npmjs.org/**", (route) =>
    route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ version: "0.5.0" }) }));
  // Live sync is not served yet: the SDK's socket is closed at once.
  await context.routeWebSocket(/wss:\/\/api\.basic\.tech\//, (ws) => ws.close());

  // 1. Signed out; signing in leads to the server's pages.
  await page.goto(APP);
  await page.waitForSelector("#status:text('signed out')");
  await shot("app-signed-out");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/api\.basic\.tech\/auth\/login/);
  await shot("sign-in");
  await page.getByRole("link", { name: "Create one" }).click();
  const email = `sdk-${Date.now()}@users.example`; // not shown to the app: it asked for `openid` only
  await page.getByLabel("Name", { exact: true }).fill("App User");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill("a long enough password");
  await shot("sign-up");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/auth\/consent/);
  check((await page.textContent("h1")).includes("Todo App"), "the consent page names the app");
  await shot("consent");
  await page.getByRole("button", { name: "Allow" }).click();

  // 2. Back in the app: the SDK exchanged the code and read the user.
  await page.waitForSelector("#status:text('signed in')", { timeout: 15000 });
  check(tokenRequests.length === 1 && Object.keys(tokenRequests[0]).join() === "code", "0.5.0 sends {code} alone");
  const account = await page.textContent("#account");
  check(/^[0-9a-f-]{36}$/.test(account), `the app read the user's id: ${account}`);
  console.log(`ACCOUNT ${account}`);
  await shot("app-signed-in");

  // 3. Records over REST: add, list, update, list, delete, list.
  const roundTrip = async (name) => {
    await page.getByRole("button", { name: "Add, list, update, delete" }).click();
    await page.waitForSelector("#result");
    const result = JSON.parse(await page.textContent("#result"));
    check(!result.error, `${name}: ${result.error}`);
    check(result.added?.data?.title === "Milk", `${name}: the record is added: ${JSON.stringify(result.added)}`);
    check(result.afterAdd?.data?.length === 1, `${name}: the list holds it`);
    check(result.updated?.data?.title === "Oat milk", `${name}: it is updated`);
    check(result.afterUpdate?.data?.[0]?.title === "Oat milk", `${name}: the list shows the change`);
    check(Array.isArray(result.afterDelete?.data) && result.afterDelete.data.length === 0, `${name}: it is deleted`);
    await shot(name);
  };
  await roundTrip("records");

  // 4. A reload keeps the user signed in (the SDK keeps its token in a cookie).
  await page.reload();
  await page.waitForSelector("#status:text('signed in')", { timeout: 15000 });
  check((await page.textContent("#account")) === account, "the same user after the reload");
  await shot("after-reload");

  // 5. Once the access token has expired, the SDK refreshes it with {code: <refresh>}.
  await page.waitForTimeout((Number(ttlText) + 1) * 1000);
  const before = tokenRequests.length;
  await page.evaluate(() => document.getElementById("result")?.remove());
  await roundTrip("records-after-refresh");
  const refreshes = tokenRequests.slice(before);
  check(refreshes.length >= 1 && refreshes.every((r) => r.code?.startsWith("refresh_")), "the SDK refreshed its token");
} catch (e) {
  failures.push(String(e.stack || e));
} finally {
  await browser.close();
}

if (failures.length) {
  console.error("FAILED:\n- " + failures.join("\n- "));
  process.exit(1);
}
console.log(`OK ${step} steps, ${tokenRequests.length} token requests`);
