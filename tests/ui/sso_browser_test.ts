/**
 * Single sign-on end to end in Chromium: the UI on its own HTTPS listener, a real OpenID provider
 * (`oidc-provider`, over HTTPS with a test CA) run by the test, and the gateway's `openid-client` between
 * them. The UI is `https://localhost:<port>` and the provider `https://127.0.0.1:<port>`, two sites, so
 * the browser applies its cross-site cookie rules to the redirects as it would in production. Chromium
 * trusts the test certificate by its public key pin and reaches nothing but loopback.
 */
import assert from "node:assert/strict";
import { createHash, createPublicKey } from "node:crypto";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { makeTestCertificate } from "../fake_provider/tls.ts";
import { startUiListener, type UiListener } from "../../ui/listen.ts";
import { CHROMIUM, CHROMIUM_ARGS, login, requireChromium } from "./browser.ts";
import { startOidcProvider } from "./oidc_provider.ts";
import { ADMIN, startUiStack } from "./stack.ts";
import { freePort } from "../support/ports.ts";

const ARTIFACTS = join(new URL("../..", import.meta.url).pathname, "test-artifacts", "ui");

/** Chromium flag value that trusts exactly this certificate's key (base64 SHA-256 of its SPKI). */
function spkiPin(certPem: string): string {
  const spki = createPublicKey(certPem).export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

/** Logs in at the provider's own login and consent pages, starting from the UI's login page. */
async function ssoLogin(
  page: Page,
  base: string,
  login: string,
  options: { beforeSignIn?: () => Promise<void> } = {},
): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByRole("link", { name: "Log in with single sign-on" }).click();
  await page.waitForURL(/^https:\/\/127\.0\.0\.1:\d+\/interaction\//);
  await options.beforeSignIn?.();
  await page.locator("input[name=login]").fill(login);
  await page.locator("input[name=password]").fill("any password: the test provider checks names only");
  await page.getByRole("button", { name: "Sign-in" }).click();
  const consent = page.getByRole("button", { name: "Continue" });
  if (await consent.isVisible().catch(() => false)) await consent.click();
}

/** Whether the browser's cookies still open the overview (else the UI sends it to the login form). */
async function loggedIn(context: BrowserContext, base: string): Promise<boolean> {
  const probe = await context.newPage();
  try {
    await probe.goto(`${base}/`);
    return new URL(probe.url()).pathname === "/";
  } finally {
    await probe.close();
  }
}

Deno.test({
  name:
    "in a browser over HTTPS: single sign-on maps groups to roles, a viewer is refused an edit, logout ends both sessions, a tampered state is refused",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    requireChromium();
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const tls = makeTestCertificate(["localhost", "127.0.0.1"]);
    const uiPort = freePort();
    const base = `https://localhost:${uiPort}`;
    const idp = await startOidcProvider(tls, {
      accounts: [
        { login: "ada", groups: ["recondo-admins", "staff"] },
        { login: "vic", groups: ["finops"] },
        { login: "nora", groups: ["staff"] },
      ],
      redirectUrl: `${base}/sso/callback`,
      postLogoutUrl: `${base}/login`,
    });
    const secrets = await Deno.makeTempDir({ prefix: "recondo-sso-secrets-" });
    const file = async (name: string, text: string, mode: number) => {
      const path = join(secrets, name);
      await Deno.writeTextFile(path, text, { mode });
      await Deno.chmod(path, mode);
      return path;
    };
    const stack = await startUiStack({
      policies: [
        { use: "block-list", options: { teams: ["contractors"] } },
        { use: "spend-cap", options: { budgets: [{ scope: "team:*", usd: 50, period: "day" }] } },
      ],
      ui: {
        listen: `127.0.0.1:${uiPort}`,
        tls: {
          certFile: await file("ui.crt", tls.cert, 0o644),
          keyFile: await file("ui.key", tls.key, 0o600),
        },
        oidc: {
          issuer: idp.issuer,
          clientId: idp.clientId,
          clientSecretFile: await file("client-secret", `${idp.clientSecret}\n`, 0o400),
          issuerCaFile: await file("idp-ca.crt", tls.caCert, 0o644),
          redirectUrl: `${base}/sso/callback`,
          scopes: ["openid", "profile", "groups"],
          adminGroups: ["recondo-admins"],
          viewerGroups: ["finops"],
        },
      },
    });
    let listener: UiListener | null = null;
    const userDataDir = await Deno.makeTempDir({ prefix: "recondo-chromium-" });
    const browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      args: [
        ...CHROMIUM_ARGS,
        `--ignore-certificate-errors-spki-list=${spkiPin(tls.cert)}`,
      ],
      headless: true,
      viewport: { width: 1100, height: 800 },
    });
    try {
      assert.ok(stack.uiTls, "ui.tls was read from the config's files");
      listener = startUiListener(stack.ui, `127.0.0.1:${uiPort}`, { tls: stack.uiTls });
      // The provider's pages @import a web font: nothing leaves loopback.
      await browser.route(
        (url) => !["localhost", "127.0.0.1"].includes(url.hostname),
        (route) => route.abort("blockedbyclient"),
      );
      const page = browser.pages()[0] ?? await browser.newPage();

      // An admin by group: the provider's login form, back to the overview, admin controls, and a publish.
      await ssoLogin(page, base, "ada");
      await page.waitForURL(`${base}/`);
      assert.match(await page.locator("header .who").innerText(), /sso:ada\s+admin/);
      const cookies = await browser.cookies(base);
      const session = cookies.find((c) => c.name === "recondo_ui");
      assert.ok(session?.secure && session.httpOnly, "the session cookie is Secure and HttpOnly over HTTPS");
      assert.equal(cookies.find((c) => c.name === "recondo_sso"), undefined, "the flow cookie is gone");
      await page.goto(`${base}/policies`);
      await shot(page, "sso-01-admin-policies");
      assert.ok(await page.getByRole("button", { name: "Move block-list down" }).isEnabled());
      await page.getByRole("button", { name: "Move block-list down" }).click();
      await page.waitForURL(/notice=/);
      assert.deepEqual(stack.gateway.config().policies.map((p) => p.use), ["spend-cap", "block-list"]);
      const [audit] = await stack.db.query("SELECT actor, action, target FROM ui_audit ORDER BY at LIMIT 1");
      assert.deepEqual({ ...audit }, { actor: "sso:ada", action: "login", target: "sso" });

      // Logout ends the local session and, through the provider's end_session_endpoint, the provider's.
      await page.getByRole("button", { name: "Log out" }).click();
      await page.getByRole("button", { name: "Yes, sign me out" }).click();
      await page.waitForURL(`${base}/login`);
      assert.equal(await loggedIn(browser, base), false);
      await page.getByRole("link", { name: "Log in with single sign-on" }).click();
      await page.waitForURL(/\/interaction\//);
      assert.equal(await page.locator("input[name=login]").count(), 1, "the provider asks for a login again");

      // A viewer by group: edit controls disabled, and an edit sent anyway (with the CSRF token) gets 403.
      await ssoLogin(page, base, "vic");
      await page.waitForURL(`${base}/`);
      assert.match(await page.locator("header .who").innerText(), /sso:vic\s+viewer/);
      await page.goto(`${base}/policies`);
      assert.ok(await page.getByRole("button", { name: "Move block-list down" }).isDisabled());
      const refused = await page.evaluate(async () => {
        const csrf = (document.querySelector("input[name=_csrf]") as HTMLInputElement).value;
        const res = await fetch("/policies", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", "x-csrf-token": csrf },
          body: new URLSearchParams({ action: "toggle", index: "0" }),
        });
        return { status: res.status, text: await res.text() };
      });
      assert.deepEqual(refused, { status: 403, text: "The viewer role cannot change anything\n" });
      assert.deepEqual(stack.gateway.config().policies.map((p) => p.enabled), [true, true]);
      await page.getByRole("button", { name: "Log out" }).click();
      await page.getByRole("button", { name: "Yes, sign me out" }).click();
      await page.waitForURL(`${base}/login`);

      // Someone in no mapped group is refused, with no session.
      await ssoLogin(page, base, "nora");
      await page.waitForURL(/\/sso\/callback/);
      assert.match(await page.locator("main").innerText(), /nora is in none of the groups allowed here/);
      assert.equal(await loggedIn(browser, base), false);
      // Nora is still signed in at the provider, which would answer the next login as her at once.
      await browser.clearCookies({ domain: "127.0.0.1" });

      // A tampered state: the provider's redirect back is caught while the UI is unreachable (a browser
      // route cannot hold a redirect), then sent with another state: refused, nothing logged in. The
      // untouched redirect then succeeds once; replaying it is refused.
      let callback = "";
      page.on("request", (request) => {
        if (request.url().startsWith(`${base}/sso/callback?`)) callback ||= request.url();
      });
      await ssoLogin(page, base, "ada", { beforeSignIn: () => listener!.close() }).catch(() => {});
      await waitFor(() => callback !== "");
      // Closed before the UI is back: Chromium reloads a page that failed to connect by itself.
      await page.close();
      listener = startUiListener(stack.ui, `127.0.0.1:${uiPort}`, { tls: stack.uiTls });
      const tab = await browser.newPage(); // same browser, same cookies (the pending flow's among them)
      const tampered = new URL(callback);
      tampered.searchParams.set("state", `${tampered.searchParams.get("state")}x`);
      const bad = await tab.goto(tampered.href);
      assert.equal(bad?.status(), 400);
      assert.match(
        await tab.locator("main").innerText(),
        /state returned by the identity provider does not match/,
      );
      await shot(tab, "sso-02-tampered-state");
      assert.equal(await loggedIn(browser, base), false);
      await tab.goto(callback);
      await tab.waitForURL(`${base}/`);
      assert.match(await tab.locator("header .who").innerText(), /sso:ada\s+admin/);
      const replay = await tab.goto(callback);
      assert.equal(replay?.status(), 400, "the same callback twice is refused");
      assert.match(await tab.locator("main").innerText(), /no pending single sign-on/);

      // Local accounts still work beside single sign-on: the same login page takes a password.
      await browser.clearCookies(); // a fresh browser: no session, no pending sign-on
      await login(tab, base, ADMIN.name, ADMIN.password);
      assert.match(await tab.locator("header .who").innerText(), new RegExp(`${ADMIN.name}\\s+admin`));
    } catch (error) {
      // Where the browser was when it failed, for the CI artifacts.
      const page = browser.pages()[0];
      if (page) await shot(page, "sso-failure").catch(() => {});
      throw new Error(`${(error as Error).message}\n(browser at ${page?.url()})`, { cause: error });
    } finally {
      await browser.close();
      await listener?.close();
      await stack.close();
      await idp.close();
      await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
      await Deno.remove(secrets, { recursive: true }).catch(() => {});
    }
  },
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the provider's redirect");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
