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

import { mkdirSync } from "node:fs";
import { appPage, finish, launch, serve, signUp } from "./sdk-050-page.mjs";

const [base, projectId, schemaText, shots, ttlText] = process.argv.slice(2);
if (!base || !projectId || !schemaText || !shots || !ttlText) {
  console.error("usage: node sdk-050.mjs BASE_URL PROJECT_ID SCHEMA_JSON SCREENSHOT_DIR TOKEN_TTL_SECS");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const app = await appPage("sdk-app/app.jsx", projectId, JSON.parse(schemaText));

const tokenRequests = [];
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const browser = await launch();
let step = 0;
try {
  const context = await browser.newContext({ viewport: { width: 800, height: 720 } });
  const page = await context.newPage();
  const shot = async (name) => page.screenshot({ path: `${shots}/${String(++step).padStart(2, "0")}-${name}.png`, fullPage: true });
  page.on("console", (m) => { if (m.type() === "error") console.log("page:", m.text()); });
  await serve(context, base, app, (request) => tokenRequests.push(request));
  // This journey is about REST: the SDK's sync socket is closed at once
  // (sync-050.mjs is the one about live sync).
  await context.routeWebSocket(/wss:\/\/api\.basic\.tech\//, (ws) => ws.close());

  // 1. Signed out; signing in leads to the server's pages, where a new user signs up.
  await signUp(page, shot, async () =>
    check((await page.textContent("h1")).includes("Todo App"), "the consent page names the app"));

  // 2. Back in the app: the SDK exchanged the code and read the user.
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

finish(failures, `OK ${step} steps, ${tokenRequests.length} token requests`);
