/**
 * What the browser tests share: Debian's Chromium (see PLATFORM.md for the flags it needs here) and logging
 * in through the login form.
 * @module
 */
import type { Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
export const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);

/** Fails loudly, with the install command, unless Debian's chromium is there (never a silent skip). */
export function requireChromium(): void {
  if (!hasChromium) {
    throw new Error(
      `${CHROMIUM} is missing: run bash scripts/install_browser.sh (needs root; \`deno task test\` runs it before the tests)`,
    );
  }
}

/** Logs in through the form at `base` and waits for the Overview. */
export async function login(page: Page, base: string, name: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password or bootstrap token").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(`${base}/`);
}
