// The developer console in a real browser: sign up from the console, make a
// team, invite a second developer who accepts, make a project, upload its
// icon, add a redirect URI, make a key and read its secret once, publish two
// schema versions and view what changed, look at an app user (connected
// through the API), their records and the activity chart, and delete the
// project. Every page is checked with axe-core (no serious or critical
// violation) and photographed at desktop and phone widths.
//
// Usage: node console.mjs BASE_URL SCREENSHOT_DIR
// The server under test answers POST /test/app-user/PROJECT_ID by signing
// up an app user of the project and storing a record through the API.

import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node console.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const password = "a long enough password";

const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] });
// axe is injected as a script, which the console's policy forbids to pages.
const contextOptions = { viewport: { width: 1280, height: 900 }, bypassCSP: true };
const desktop = { width: 1280, height: 900 };
const phone = { width: 390, height: 844 };

let shot = 0;
/// Checks the page with axe-core, then photographs it at both widths.
async function page_done(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  for (const v of result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")) {
    failures.push(`${name}: axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  }
  shot += 1;
  const file = `${String(shot).padStart(2, "0")}-${name}`;
  await page.screenshot({ path: `${shots}/${file}.png`, fullPage: true });
  await page.setViewportSize(phone);
  await page.screenshot({ path: `${shots}/${file}-phone.png`, fullPage: true });
  await page.setViewportSize(desktop);
}

async function signUp(page, name, email) {
  await page.click("text=Create one");
  await page.fill("#name", name);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click("button[type=submit]");
}

try {
  // Ada signs up from the console's own sign-in.
  const adaContext = await browser.newContext(contextOptions);
  await adaContext.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const ada = await adaContext.newPage();
  // Forms that ask first are answered yes.
  ada.on("dialog", (dialog) => dialog.accept());
  await ada.goto(`${base}/console`);
  check(ada.url().includes("/auth/login"), `the console sends a stranger to sign in: ${ada.url()}`);
  await signUp(ada, "Ada", "ada@example.com");
  await ada.waitForURL(`${base}/console`);
  check(await ada.isVisible("text=You are in no team yet"), "a new developer has no team");
  await page_done(ada, "teams-empty");

  await ada.fill("#team-name", "Acme");
  await ada.fill("#team-slug", "acme");
  await ada.waitForSelector("text=“acme” is free.");
  await ada.click("text=Create team");
  await ada.waitForURL(`${base}/console/team/acme`);
  await page_done(ada, "team");

  // Ada invites Grace, whose invite link is shown once.
  await ada.fill("#invitee", "grace@example.com");
  await ada.click("button:text('Invite')");
  const inviteLink = (await ada.textContent(".notice code.secret")).trim();
  check(inviteLink.includes("/auth/invite/"), `an invite link: ${inviteLink}`);
  await page_done(ada, "invite-made");

  // Grace opens the link, makes an account, opens it again and joins.
  const grace = await (await browser.newContext(contextOptions)).newPage();
  const invitePath = inviteLink.slice(inviteLink.indexOf("/auth/invite/"));
  await grace.goto(base + invitePath);
  await grace.click("a:text-is('Create an account')");
  await grace.fill("#name", "Grace");
  await grace.fill("#email", "grace@example.com");
  await grace.fill("#password", password);
  await grace.click("button[type=submit]");
  await grace.goto(base + invitePath);
  await grace.click("button:text('Join as grace@example.com')");
  await grace.goto(`${base}/console`);
  check(await grace.isVisible("a:text('Acme')"), "Grace sees the team she joined");
  await page_done(grace, "second-developer-teams");
  await ada.reload();
  check(await ada.isVisible("td:text('grace@example.com')"), "Ada sees Grace among the members");

  // A project, its icon, a redirect URI.
  await ada.fill("#project-name", "Todo app");
  await ada.click("text=Create project");
  await ada.waitForURL(/\/console\/project\/[0-9a-f-]{36}$/);
  const projectPage = ada.url();
  const projectId = projectPage.split("/").pop();
  // An icon drawn by the browser itself.
  const dataUrl = await ada.evaluate(() => {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 64;
    const g = canvas.getContext("2d");
    g.fillStyle = "#1a5fb4";
    g.fillRect(0, 0, 64, 64);
    g.fillStyle = "#ffffff";
    g.fillRect(18, 18, 28, 28);
    return canvas.toDataURL("image/png");
  });
  const png = Buffer.from(dataUrl.split(",")[1], "base64");
  await ada.setInputFiles("#file-icon", { name: "icon.png", mimeType: "image/png", buffer: png });
  await ada.waitForSelector("img.preview.chosen:not([hidden])");
  await ada.click("form[action$='/images/icon'] button");
  await ada.waitForURL(projectPage);
  check(await ada.isVisible("img.preview.icon"), "the icon is shown");
  const iconLoaded = await ada.evaluate(() => document.querySelector("img.preview.icon").naturalWidth > 0);
  check(iconLoaded, "the icon's file loads");
  await ada.fill("#uri", "http://localhost:5173/");
  await ada.click("button:text('Add')");
  check(await ada.isVisible("code:text('http://localhost:5173/')"), "the redirect URI is listed");
  await page_done(ada, "project");

  // A key: its secret once.
  await ada.fill("#label", "server");
  await ada.check("input[value='data:read']");
  await ada.click("text=Create key");
  const secret = (await ada.textContent(".notice code.secret")).trim();
  check(secret.startsWith("bsk_"), `a key's secret: ${secret}`);
  await ada.click("button.copy");
  check((await ada.evaluate(() => navigator.clipboard.readText())) === secret, "the copy button copies the secret");
  await page_done(ada, "key-made");
  await ada.goto(projectPage);
  check(!(await ada.content()).includes(secret), "the secret is not shown again");
  const keyWorks = await fetch(`${base}/project/${projectId}/user`, { headers: { authorization: `Bearer ${secret}` } });
  check(keyWorks.status === 403, `the key is real and keeps to its roles: ${keyWorks.status}`);

  // Two schema versions and what changed.
  await ada.click("nav.tabs a:text('Schema')");
  const v1 = { project_id: projectId, version: 1, tables: { todos: { type: "collection", fields: { title: { type: "string" } } } } };
  await ada.fill("#schema", JSON.stringify(v1, null, 2));
  await ada.click("button:text('Publish')");
  await ada.waitForURL(`${projectPage}/schema`);
  check(await ada.isVisible("h2:text('Version 1')"), "version 1 is published");
  const v2 = structuredClone(v1);
  v2.version = 2;
  v2.tables.notes = { type: "collection", fields: { body: { type: "string" } } };
  await ada.fill("#schema", JSON.stringify(v2, null, 2));
  await ada.click("button:text('Check')");
  check(await ada.isVisible("text=The schema is valid"), "the check says valid");
  await page_done(ada, "schema-checked");
  await ada.click("button:text('Publish')");
  await ada.click("text=what changed from 1");
  check(await ada.isVisible("h3:text('From version 1 to 2')"), "the diff is shown");
  check(await ada.isVisible("td:text('notes')"), "the diff names the new table");
  await page_done(ada, "schema-diff");

  // An app user, connected through the API, with a record.
  const connected = await fetch(`${base}/test/app-user/${projectId}`, { method: "POST" });
  check(connected.ok, `an app user is connected: ${connected.status} ${await connected.text()}`);
  await ada.click("nav.tabs a:text('Users')");
  check(await ada.isVisible("text=1 user(s)"), "the user is listed");
  await page_done(ada, "users");
  await ada.click("table a");
  check((await ada.content()).includes("Written through the API"), "the user's record is shown");
  await page_done(ada, "user");
  await ada.click("nav.tabs a:text('Activity')");
  const bars = await ada.$$eval("svg.chart rect.bar", (rects) => rects.map((r) => Number(r.getAttribute("height"))));
  check(bars.length === 30 && bars[29] > 0, `a bar a day, today's drawn: ${bars}`);
  await page_done(ada, "activity");
  // Dark, as the system asks: the same checks.
  await ada.emulateMedia({ colorScheme: "dark" });
  await page_done(ada, "activity-dark");
  await ada.emulateMedia({ colorScheme: "light" });

  // Deleting the project asks for its slug.
  await ada.goto(projectPage);
  await ada.fill("#confirm", "not-the-slug");
  await ada.click("button:text('Delete project')");
  check(await ada.isVisible("text=Type the project's slug to confirm"), "a wrong slug is refused");
  await ada.fill("#confirm", "todo-app");
  await ada.click("button:text('Delete project')");
  await ada.waitForURL(`${base}/console/team/acme`);
  check(!(await ada.isVisible("a:text('Todo app')")), "the project is gone");
  await ada.fill("#team-slug", "ac");
  await ada.waitForSelector("text=“ac” is free.");
  await page_done(ada, "team-after-delete");

  // Signing out of the console.
  await ada.click("header button:text('Sign out')");
  await ada.waitForURL(`${base}/console/signed-out`);
  await page_done(ada, "signed-out");
} catch (e) {
  failures.push(`the journey stopped: ${e.stack || e}`);
  // What each page showed when it stopped.
  for (const [i, context] of browser.contexts().entries()) {
    for (const page of context.pages()) {
      failures.push(`page ${i} was at ${page.url()}`);
      await page.screenshot({ path: `${shots}/failure-${i}.png`, fullPage: true }).catch(() => {});
    }
  }
} finally {
  await browser.close();
}

if (failures.length) {
  console.log(failures.join("\n"));
  process.exit(1);
}
console.log(`DONE ${shot} pages`);
