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

/** Logs in through the form at `base` and waits for the Overview. */
export async function login(page: Page, base: string, name: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password or bootstrap token").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(`${base}/`);
}
