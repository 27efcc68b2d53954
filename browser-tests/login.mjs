// Signs up, signs out, signs in and consents in a real browser, the way a
// developer logging in with the `basic` CLI does, and checks that the browser
// lands on the CLI's callback with a code. Saves a screenshot of every page.
//
// Usage: node login.mjs BASE_URL SCREENSHOT_DIR   (Chromium at $CHROMIUM or /usr/bin/chromium)

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node login.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const CLI = "9c3f6704-87e7-4af9-8dd0-36dcb9b5c18c";
const CALLBACK = "http://localhost:8080/callback";
const email = `browser-${Date.now()}@example.com`;
const password = "a long enough password";
const authorize =
  `${base}/auth/authorize?` +
  new URLSearchParams({ client_id: CLI, redirect_uri: CALLBACK, response_type: "code", scope: "profile,admin", state: "browser-state" });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
let step = 0;
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

try {
  const page = await browser.newPage({ viewport: { width: 800, height: 720 } });
  const shot = async (name) => page.screenshot({ path: `${shots}/${String(++step).padStart(2, "0")}-${name}.png`, fullPage: true });
  // Nothing listens on the CLI's port here: answer its callback in the browser.
  const callbacks = [];
  await page.route(`${CALLBACK}**`, (route) => {
    callbacks.push(new URL(route.request().url()));
    route.fulfill({ status: 200, contentType: "text/html", body: "<h1>Callback reached</h1>" });
  });

  // 1. Sign up.
  await page.goto(authorize);
  check(page.url().includes("/auth/login"), `authorize leads to the sign-in page, not ${page.url()}`);
  await shot("sign-in");
  await page.getByRole("link", { name: "Create one" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Browser Tester");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await shot("sign-up");
  await page.getByRole("button", { name: "Create account" }).click();

  // 2. Consent names the app and the scopes; sign out from there.
  await page.waitForURL(/\/auth\/consent/);
  check((await page.textContent("h1")).includes("Basic CLI"), "the consent page names the app");
  check((await page.textContent("main")).includes("developer access"), "the consent page lists the admin scope");
  await shot("consent-after-sign-up");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/auth\/login/);

  // 3. Sign in with a wrong password, then the right one, using the keyboard.
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("wrong password!");
  await page.keyboard.press("Enter");
  await page.waitForSelector("[role=alert]");
  check((await page.textContent("[role=alert]")).includes("Wrong email or password"), "a wrong password is explained");
  await shot("wrong-password");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/auth\/consent/);
  await shot("consent");

  // 4. Allow: the browser lands on the callback with a code and the state.
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL(/localhost:8080\/callback/);
  await shot("callback");
  const landed = callbacks.at(-1);
  check(landed && landed.searchParams.get("code")?.length >= 40, "the callback carries a code");
  check(landed && landed.searchParams.get("state") === "browser-state", "the callback carries the state");

  // 5. A signed-in browser is not asked to sign in again.
  await page.goto(authorize);
  check(page.url().includes("/auth/consent"), "a signed-in browser goes straight to consent");
  await shot("consent-again");

  if (landed) console.log(`CODE ${landed.searchParams.get("code")}`);
} catch (error) {
  failures.push(String(error));
} finally {
  await browser.close();
}

if (failures.length) {
  console.error("FAILED:\n- " + failures.join("\n- "));
  process.exit(1);
}
console.log(`ok: ${step} screenshots in ${shots}`);
