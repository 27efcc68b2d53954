// A person's account in a real browser, with real letters: sign up, confirm
// the address from the letter, join a team from an invite letter, reset a
// forgotten password (the old session ends), set up two-factor sign-in,
// sign in with a code, then with a recovery code, which is refused the
// second time. Saves a screenshot of every page.
//
// Usage: node accounts.mjs BASE_URL PUBLIC_URL EMAIL SCREENSHOT_DIR
// The server under test answers GET /test/letters/EMAIL with the letters
// its test SMTP server received for EMAIL: [{subject, text}].

import { chromium } from "playwright-core";
import { createHmac } from "node:crypto";
import { mkdirSync } from "node:fs";

const [base, publicUrl, email, shots] = process.argv.slice(2);
if (!base || !publicUrl || !email || !shots) {
  console.error("usage: node accounts.mjs BASE_URL PUBLIC_URL EMAIL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const password = "a long enough password";
const newPassword = "the password after the reset";

const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

/// The n-th letter (from 1) to `email` whose subject matches, once it has come.
async function letter(subject, n = 1) {
  for (let i = 0; i < 200; i++) {
    const letters = await (await fetch(`${base}/test/letters/${encodeURIComponent(email)}`)).json();
    const found = letters.filter((l) => subject.test(l.subject));
    if (found.length >= n) return found[n - 1];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no letter ${subject}`);
}

/// The first link in a letter's text to `path` on this server, made local.
function link(text, path) {
  const at = text.indexOf(publicUrl + path);
  if (at < 0) throw new Error(`no ${path} link in ${text}`);
  return base + text.slice(at + publicUrl.length).split(/\s/)[0];
}

function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  return Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
}

/// What an authenticator app shows for `key`, `steps` 30-second steps from now (RFC 6238).
function totp(key, steps = 0) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + steps));
  const mac = createHmac("sha1", base32(key)).update(counter).digest();
  const offset = mac[19] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, "0");
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
let step = 0;

async function signIn(page, shot, secondFactor) {
  await page.goto(`${base}/auth/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(newPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/auth\/login\/code/);
  await page.getByLabel("Code").fill(secondFactor);
  if (shot) await shot();
  await page.getByRole("button", { name: "Continue" }).click();
}

try {
  const first = await browser.newContext({ viewport: { width: 800, height: 900 } });
  const page = await first.newPage();
  const shot = async (name, p = page) =>
    p.screenshot({ path: `${shots}/${String(++step).padStart(2, "0")}-${name}.png`, fullPage: true });

  // 1. Sign up, with no app asking: the account page says the address is not confirmed.
  await page.goto(`${base}/auth/signup`);
  await page.getByLabel("Name", { exact: true }).fill("Journey Person");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/auth\/account$/);
  check((await page.textContent("main")).includes("(not confirmed)"), "a new address is not confirmed");
  await shot("account-after-sign-up");

  // 2. The confirmation letter: open its link, press the button.
  const confirmation = await letter(/Confirm your email/);
  check(confirmation.text.includes("Hello Journey Person"), "the letter greets by name");
  await page.goto(link(confirmation.text, "/auth/verify-email?token="));
  await shot("confirm-email");
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  check((await page.textContent("main")).includes(`${email} is confirmed`), "the address is confirmed");
  await shot("email-confirmed");
  await page.goto(link(confirmation.text, "/auth/verify-email?token="));
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  check((await page.textContent("[role=alert]")).includes("used already"), "a used link says so");
  await shot("confirmation-link-used");

  // 3. The invite letter (sent before the account existed): join the team.
  const invite = await letter(/invited to join/);
  await page.goto(link(invite.text, "/auth/invite/"));
  check((await page.textContent("main")).includes("as member"), "the invite names the role");
  await shot("invite");
  await page.getByRole("button", { name: `Join as ${email}` }).click();
  check((await page.textContent("main")).includes("You are now a member of Journey Team."), "joined the team");
  await shot("invite-accepted");

  // 4. Forgot the password, in another browser: the reset ends the first browser's session.
  const second = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const other = await second.newPage();
  await other.goto(`${base}/auth/login`);
  await other.getByRole("link", { name: "Forgot your password?" }).click();
  await other.getByLabel("Email").fill(email);
  await other.getByRole("button", { name: "Mail me a link" }).click();
  check((await other.textContent("[role=status]")).includes("If an account has this address"), "the same answer for all");
  await shot("forgot-password", other);
  const reset = await letter(/Reset your password/);
  await other.goto(link(reset.text, "/auth/reset-password?token="));
  await other.getByLabel(/^New password/).fill("short");
  await other.evaluate(() => document.querySelector("#password").removeAttribute("minlength"));
  await other.getByRole("button", { name: "Set the new password" }).click();
  check((await other.textContent("[role=alert]")).includes("at least 8"), "a short password is refused");
  await shot("reset-short-password", other);
  await other.getByLabel(/^New password/).fill(newPassword);
  await other.getByRole("button", { name: "Set the new password" }).click();
  check((await other.textContent("main")).includes("signed out everywhere"), "the reset says so");
  await shot("password-reset", other);
  await page.goto(`${base}/auth/account`);
  check(page.url().includes("/auth/login"), "the old session is over");
  await shot("old-session-signed-out");

  // 5. Two-factor set-up from the account page.
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(newPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/auth\/account/);
  await page.getByRole("button", { name: "Set up two-factor sign-in" }).click();
  await page.waitForURL(/\/auth\/account\/two-factor/);
  check(await page.locator("figure.qr svg").isVisible(), "the QR code is drawn");
  const key = (await page.textContent("code.secret")).trim();
  await shot("two-factor-set-up");
  await page.getByLabel("Code from the app").fill("000000");
  await page.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
  check((await page.textContent("[role=alert]")).includes("not right"), "a wrong code is refused");
  await page.getByLabel("Code from the app").fill(totp(key));
  await page.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
  const recovery = (await page.locator("ul.codes code").allTextContents()).map((c) => c.trim());
  check(recovery.length === 10, `ten recovery codes, not ${recovery.length}`);
  await shot("recovery-codes");
  await page.goto(`${base}/auth/account`);
  await page.getByRole("button", { name: "Sign out", exact: true }).click();

  // 6. Sign in with a code, then with a recovery code; that one works once.
  await signIn(page, () => shot("two-factor-code"), totp(key, 1));
  await page.waitForURL(/\/auth\/account/);
  check((await page.textContent("main")).includes("10 recovery codes left"), "signed in with a code");
  await shot("signed-in-with-code");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await signIn(page, null, recovery[0]);
  await page.waitForURL(/\/auth\/account/);
  check((await page.textContent("main")).includes("9 recovery codes left"), "signed in with a recovery code");
  await shot("signed-in-with-recovery-code");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await signIn(page, null, recovery[0]);
  check((await page.textContent("[role=alert]")).includes("not right"), "a recovery code works once");
  await shot("recovery-code-refused");
} catch (e) {
  failures.push(String(e.stack || e));
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log(`DONE ${step} screenshots`);
