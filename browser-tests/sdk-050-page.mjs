// What the journeys with the published SDK 0.5.0 share. 0.5.0 talks to
// https://api.basic.tech only: every request to that host is relayed to the
// server under test, and the app is served as https://todo.example/ from a
// bundle of one of the small apps in this folder.

import { chromium } from "playwright-core";
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const API = "https://api.basic.tech";
export const APP = "https://todo.example/";
const here = dirname(fileURLToPath(import.meta.url));

/// The app `entry` bundled, and the page that runs it for `projectId`.
export async function appPage(entry, projectId, schema) {
  const bundle = await build({
    entryPoints: [join(here, entry)],
    bundle: true,
    write: false,
    format: "esm",
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "error",
  });
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Todo</title></head><body>
<div id="root"></div>
<script>window.BASIC_TEST = ${JSON.stringify({ projectId, schema })};</script>
<script type="module" src="/app.js"></script></body></html>`;
  return { js: bundle.outputFiles[0].text, html };
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

/// Serves the app, relays api.basic.tech to `base` (token requests are
/// handed to `onToken`), and answers the SDK's version check offline.
export async function serve(context, base, page, onToken = () => {}) {
  await context.route(`${API}/**`, (route) => relay(route, base, onToken));
  await context.route(`${APP}**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === "/app.js") return route.fulfill({ status: 200, contentType: "text/javascript", body: page.js });
    return route.fulfill({ status: 200, contentType: "text/html", body: page.html });
  });
  await context.route("https://registry.npmjs.org/**", (route) =>
    route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ version: "0.5.0" }) }));
}

/// Relays a request for api.basic.tech to the server. A redirect is handed
/// to the page as a navigation of its own (a redirect fulfilled here would
/// be followed without routing), with its cookies.
async function relay(route, base, onToken) {
  const request = route.request();
  const url = new URL(request.url());
  const headers = { ...request.headers() };
  delete headers.host;
  const body = request.postDataBuffer();
  if (url.pathname === "/auth/token") onToken(JSON.parse(body.toString()));
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

/// A new user signs up on the server's pages from the app and allows it;
/// `shot(name)` is called at each page, `onConsent()` on the consent page.
export async function signUp(page, shot, onConsent = async () => {}) {
  await page.goto(APP);
  await page.waitForSelector("#status:text('signed out')");
  await shot("app-signed-out");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/api\.basic\.tech\/auth\/login/);
  await shot("sign-in");
  await page.getByRole("link", { name: "Create one" }).click();
  await page.getByLabel("Name", { exact: true }).fill("App User");
  await page.getByLabel("Email").fill(`sdk-${Date.now()}@users.example`);
  await page.getByLabel(/^Password/).fill("a long enough password");
  await shot("sign-up");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/auth\/consent/);
  await onConsent();
  await shot("consent");
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForSelector("#status:text('signed in')", { timeout: 15000 });
}

/// Ends the journey: its failures, or `summary`.
export function finish(failures, summary) {
  if (failures.length) {
    console.error("FAILED:\n- " + failures.join("\n- "));
    process.exit(1);
  }
  console.log(summary);
}
