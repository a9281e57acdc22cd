/**
 * The UI in a real browser: Debian chromium driven by playwright-core (PLATFORM.md), against the gateway
 * with the UI on its port, real capture and the fake provider. Screenshots of every page go to
 * `test-artifacts/ui/`. Skipped when /usr/bin/chromium is missing (scripts/install_browser.sh installs it).
 */
import { writeHeartbeat } from "../../storage/fleet/gateways.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { ADMIN, seedToolSession, startUiStack, VIEWER } from "./stack.ts";
import { CHROMIUM, CHROMIUM_ARGS, login, requireChromium } from "./browser.ts";

const ARTIFACTS = join(new URL("../..", import.meta.url).pathname, "test-artifacts", "ui");
const ALICE = { name: "alice", team: "platform", token: "alice-token-123" };

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Text whose contrast with its background is under WCAG AA (4.5:1, or 3:1 for large text). */
function lowContrast(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el: Element | null): number[] => {
      for (; el; el = el.parentElement) {
        const c = rgb(getComputedStyle(el).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const bad: string[] = [];
    for (const el of document.querySelectorAll("body *")) {
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent!.trim());
      if (!own || (el as HTMLButtonElement).disabled || el.closest("svg")) continue;
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || style.display === "none" || el.getClientRects().length === 0) {
        continue;
      }
      const fg = lum(rgb(style.color));
      const bg = lum(background(el));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) {
        bad.push(`${ratio.toFixed(2)} ${el.tagName} "${el.textContent!.trim().slice(0, 30)}"`);
      }
    }
    return bad;
  });
}

async function proxied(client: Deno.HttpClient, text: string): Promise<number> {
  const res = await fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    client,
    headers: { "content-type": "application/json", "x-api-key": "sk-ant-browser-test" },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      messages: [{ role: "user", content: text }],
    }),
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test({
  name:
    "in a browser: log in, read every page, reorder and edit the chain, watch live traffic, and a viewer is refused",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    requireChromium();
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const stack = await startUiStack({
      developers: [ALICE, { name: "bob", team: "research" }],
      policies: [
        { use: "block-list", options: { teams: ["contractors"] } },
        { use: "spend-cap", options: { budgets: [{ scope: "team:*", usd: 50, period: "day" }] } },
      ],
    });
    const client = stack.proxyClient(ALICE.name, ALICE.token);
    const userDataDir = await Deno.makeTempDir({ prefix: "recondo-chromium-" });
    const browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: 1280, height: 900 },
    });
    try {
      const sessionId = await seedToolSession(stack);
      // Two gateways of a fleet: one current, one that could not apply the newest chain.
      const now = Date.now();
      const beat = {
        host: "gw-host-1",
        listen: "0.0.0.0:8443",
        version: "0.3.0",
        pid: 4242,
        startedAt: now - 3_600_000,
        inFlight: 12,
        captureBacklog: 3,
        draining: false,
      };
      await writeHeartbeat(stack.db, { ...beat, id: "recondo-0", chainVersion: 7, chainError: null }, now);
      await writeHeartbeat(stack.db, {
        ...beat,
        id: "recondo-1",
        host: "gw-host-2",
        chainVersion: 6,
        chainError: 'Cannot load policy policies[2] ("./deny_model.ts"): importing failed',
      }, now);
      assert.equal(await proxied(client, "hello from the browser test"), 200);
      const page = browser.pages()[0] ?? await browser.newPage();
      const base = stack.url;

      await page.goto(`${base}/login`);
      await shot(page, "00-login");
      await login(page, base, ADMIN.name, ADMIN.password);
      assert.match(await page.locator("h1").innerText(), /Overview/);

      const pages: [string, string, RegExp][] = [
        ["01-overview", "/", /Top sessions this month/],
        ["02-sessions", "/sessions", /Older sessions|End of list/],
        ["03-session", `/sessions/${sessionId}`, /Tool calls/],
        ["05-policies", "/policies", /block-list/],
        ["06-budgets", "/budgets", /team:platform/],
        ["07-teams", "/teams", /alice/],
        ["09-integrity", "/integrity", /every chain links up/],
        ["10-gateways", "/gateways", /recondo-1[\s\S]*cannot apply the newest chain/],
      ];
      for (const [name, path, expected] of pages) {
        const res = await page.goto(`${base}${path}`);
        assert.equal(res?.status(), 200, path);
        assert.match(await page.locator("main").innerText(), expected, path);
        assert.deepEqual(await lowContrast(page), [], `contrast on ${path}`);
        await shot(page, name);
      }

      // The contrast check itself catches faint text.
      await page.evaluate(() => {
        const p = document.createElement("p");
        p.textContent = "faint";
        p.style.color = "#bbbbbb";
        document.querySelector("main")!.append(p);
      });
      assert.match((await lowContrast(page)).join(), /P "faint"/);

      // Keyboard: the first Tab reaches the skip link, and it leads to the main content.
      await page.goto(`${base}/sessions`);
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
      await page.keyboard.press("Enter");
      assert.match(page.url(), /#main$/);

      // The session page shows the tool calls of the captured run; the turn page its verified bodies.
      await page.goto(`${base}/sessions/${sessionId}`);
      // Bash appears twice: as the call of turn 1 and as the name of the result turn 2 sent back.
      assert.equal(await page.locator(".tool strong", { hasText: "Bash" }).count(), 2);
      await page.getByRole("link", { name: "Turn 2" }).click();
      await page.getByRole("button", { name: "Verify stored bodies" }).click();
      assert.equal(await page.getByText("✓ stored bytes match").count(), 2);
      await shot(page, "04-turn");

      // Every visible form control has a label (basic accessibility).
      await page.goto(`${base}/policies`);
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
          .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute("aria-label"))
          .map((el) => el.outerHTML.slice(0, 80))
      );
      assert.deepEqual(unlabelled, []);

      // Reorder with the keyboard: focus "move down" and press Enter.
      await page.getByRole("button", { name: "Move block-list down" }).focus();
      await page.keyboard.press("Enter");
      await page.waitForURL(/notice=/);
      assert.match(await page.getByRole("status").innerText(), /Saved: move block-list down/);
      assert.deepEqual(stack.gateway.config().policies.map((p) => p.use), ["spend-cap", "block-list"]);

      // Options form: an invalid status is shown inline; a valid one is saved and applied.
      const entry = page.locator("li.entry", { hasText: "2. block-list" });
      await entry.locator("summary", { hasText: "Options" }).click();
      await entry.getByLabel("status").fill("200");
      await entry.getByRole("button", { name: "Save options" }).click();
      assert.match(await page.locator("#p1-status-err").innerText(), /expected number to be >=400/);
      await shot(page, "05-policies-invalid");
      const fixed = page.locator("li.entry", { hasText: "2. block-list" });
      await fixed.getByLabel("status").fill("403");
      await fixed.getByLabel("teams").fill("contractors\nplatform");
      await fixed.getByRole("button", { name: "Save options" }).click();
      await page.waitForURL(/notice=/);
      assert.equal(await proxied(client, "am I blocked now?"), 403);

      // A forged change from this page without the CSRF token is refused by the server.
      const forged = await page.evaluate(async () => {
        const res = await fetch("/policies", {
          method: "POST",
          body: new URLSearchParams({ action: "toggle", index: "0" }),
        });
        return res.status;
      });
      assert.equal(forged, 403);

      // Events and Audit, photographed once there is something on them: the block and the two edits.
      // Capture persists the blocked exchange off the request path, so reload until its decision is listed.
      const block = page.locator("tbody tr", { hasText: "block-list" });
      for (const started = Date.now(); Date.now() - started < 10_000;) {
        await page.goto(`${base}/events`);
        if (await block.count() > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.match(await block.first().innerText(), /block-list.*block.*platform/s);
      assert.deepEqual(await lowContrast(page), [], "contrast on /events");
      await shot(page, "08-events");
      await page.goto(`${base}/audit`);
      assert.match(await page.locator("tbody").innerText(), /ana[\s\S]*block-list/);
      assert.deepEqual(await lowContrast(page), [], "contrast on /audit");
      await shot(page, "10-audit");

      // Live: the island connects over SSE and shows the next exchange as capture persists it.
      await page.goto(`${base}/live`);
      await page.getByText("● Live").waitFor({ timeout: 10_000 });
      const before = await page.locator("tbody tr").count();
      const anonymous = stack.proxyClient();
      assert.equal(await proxied(anonymous, "live one"), 200);
      anonymous.close();
      await page.waitForFunction((n) => document.querySelectorAll("tbody tr").length > n, before, {
        timeout: 10_000,
      });
      await shot(page, "11-live");

      // A viewer sees disabled controls, and the server refuses a change even with a valid token.
      await page.getByRole("button", { name: "Log out" }).click();
      await page.waitForURL(/\/login/);
      await login(page, base, VIEWER.name, VIEWER.password);
      await page.goto(`${base}/policies`);
      assert.equal(await page.getByRole("button", { name: "Move spend-cap down" }).isDisabled(), true);
      await shot(page, "12-policies-viewer");
      const viewerPost = await page.evaluate(async () => {
        const csrf = (document.querySelector("input[name=_csrf]") as HTMLInputElement).value;
        const version = (document.querySelector("input[name=version]") as HTMLInputElement).value;
        const res = await fetch("/policies", {
          method: "POST",
          body: new URLSearchParams({ _csrf: csrf, version, action: "toggle", index: "0" }),
        });
        return [res.status, await res.text()];
      });
      assert.equal(viewerPost[0], 403);
      assert.match(String(viewerPost[1]), /viewer role cannot change anything/);
      assert.equal(stack.gateway.config().policies[0].enabled, true);
    } finally {
      await browser.close();
      client.close();
      await stack.close();
      await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    }
  },
});
