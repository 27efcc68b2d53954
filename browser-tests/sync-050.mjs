// Live sync with the published Basic SDK 0.5.0 (unmodified, from the npm
// registry) in headless Chromium: two browser contexts are two devices of
// one user. The first signs up through the server's pages; the second
// starts from its cookies (a new browser, empty IndexedDB). A record added
// on one appears in the other's `useQuery` result; then the second goes
// offline, both edit, it comes back, and both end with the same records.
// The SDK's socket to wss://api.basic.tech/ws is relayed to the server's
// /ws by this script (so going offline also closes the relay, and no
// socket is let through while offline). Saves a screenshot of every step.
//
// Usage: node --experimental-websocket sync-050.mjs BASE_URL PROJECT_ID SCHEMA_JSON SCREENSHOT_DIR

import { mkdirSync } from "node:fs";
import { APP, appPage, finish, launch, serve, signUp } from "./sdk-050-page.mjs";

const [base, projectId, schemaText, shots] = process.argv.slice(2);
if (!base || !projectId || !schemaText || !shots) {
  console.error("usage: node --experimental-websocket sync-050.mjs BASE_URL PROJECT_ID SCHEMA_JSON SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const app = await appPage("sync-app/app.jsx", projectId, JSON.parse(schemaText));
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
const WAIT = { timeout: 30000 };

/// A device: a browser context with its page, and its relayed sockets.
async function device(browser, name, storageState) {
  const context = await browser.newContext({ viewport: { width: 640, height: 560 }, storageState });
  const page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error") console.log(`${name}:`, m.text()); });
  const me = { name, context, page, offline: false, sockets: [] };
  await serve(context, base, app);
  await context.routeWebSocket(/wss:\/\/api\.basic\.tech\/ws/, (route) => relay(me, route));
  return me;
}

function relay(me, route) {
  if (me.offline) {
    route.close();
    return;
  }
  const upstream = new WebSocket(`${base.replace(/^http/, "ws")}/ws`);
  const early = [];
  upstream.addEventListener("open", () => { for (const m of early.splice(0)) upstream.send(m); });
  upstream.addEventListener("message", (event) => route.send(event.data));
  upstream.addEventListener("close", () => route.close().catch(() => {}));
  route.onMessage((m) => (upstream.readyState === WebSocket.OPEN ? upstream.send(m) : early.push(m)));
  route.onClose(() => upstream.close());
  me.sockets.push(upstream);
}

async function setOffline(me, offline) {
  me.offline = offline;
  await me.context.setOffline(offline);
  if (offline) for (const socket of me.sockets.splice(0)) socket.close();
}

let step = 0;
const shot = async (me, name) =>
  me.page.screenshot({ path: `${shots}/${String(++step).padStart(2, "0")}-${me.name}-${name}.png`, fullPage: true });

/// Waits until the device's list shows exactly `titles` (in order).
async function shows(me, titles, what) {
  try {
    await me.page.waitForFunction(
      (want) => [...document.querySelectorAll("#todos .title")].map((e) => e.textContent).join("|") === want,
      titles.join("|"),
      WAIT,
    );
  } catch {
    const seen = await me.page.$$eval("#todos .title", (es) => es.map((e) => e.textContent));
    failures.push(`${what}: ${me.name} shows ${JSON.stringify(seen)}, not ${JSON.stringify(titles)}`);
  }
}

async function add(me, title) {
  await me.page.getByLabel("Title").fill(title);
  await me.page.getByRole("button", { name: "Add", exact: true }).click();
}

const browser = await launch();
try {
  // 1. The first device signs up and its database comes online.
  const phone = await device(browser, "phone");
  await signUp(phone.page, (name) => shot(phone, name));
  await phone.page.waitForSelector("#sync:text('ONLINE')", WAIT);
  await shot(phone, "online");

  // 2. The second device: the same user in a new browser.
  const laptop = await device(browser, "laptop", await phone.context.storageState());
  await laptop.page.goto(APP);
  await laptop.page.waitForSelector("#sync:text('ONLINE')", WAIT);
  await shot(laptop, "online");

  // 3. Added on one, shown live on the other.
  await add(phone, "Milk");
  await shows(phone, ["Milk"], "the phone's own record");
  await shows(laptop, ["Milk"], "a record added on the phone, live on the laptop");
  await shot(laptop, "sees-milk");

  // 4. The laptop goes offline; both edit.
  await setOffline(laptop, true);
  await laptop.page.waitForSelector("#sync:not(:text('ONLINE'))", WAIT);
  await add(phone, "Bread");
  await laptop.page.getByRole("button", { name: "Emphasise Milk" }).click();
  await shows(phone, ["Bread", "Milk"], "the phone's edit");
  await shows(laptop, ["Milk!"], "the laptop's offline edit");
  await shot(phone, "edited-while-laptop-offline");
  await shot(laptop, "edited-offline");

  // 5. Back online, both converge.
  await setOffline(laptop, false);
  await shows(laptop, ["Bread", "Milk!"], "the laptop after reconnecting");
  await shows(phone, ["Bread", "Milk!"], "the phone after the laptop reconnected");
  await laptop.page.waitForSelector("#sync:text('ONLINE')", WAIT);
  await shot(laptop, "converged");
  await shot(phone, "converged");
} catch (e) {
  failures.push(String(e.stack || e));
} finally {
  await browser.close();
}

finish(failures, `OK ${step} steps`);
