/**
 * Child of `tests/ui/offline_serve_test.ts`, run under `unshare -n` (a network namespace with only
 * loopback): brings loopback up, starts `main.ts serve` with the npm registry pointed at a dead port, logs
 * into the UI in Chromium and waits for the Live page's island to hydrate (it shows "● Live" once its
 * script runs and connects). Prints one JSON line: `{ live, interfaces, log }`.
 * Usage: unshare -n -- deno run -A offline_serve.ts DATA_DIR PASSWORD
 */
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, login } from "../browser.ts";

const [dir, password] = Deno.args;
const up = await new Deno.Command("ip", { args: ["link", "set", "lo", "up"], stderr: "piped" }).output();
if (!up.success) throw new Error(`'ip link set lo up' failed: ${new TextDecoder().decode(up.stderr)}`);
const interfaces = Deno.networkInterfaces().map((i) => i.name);

const main = fileURLToPath(new URL("../../../main.ts", import.meta.url));
const serve = new Deno.Command(Deno.execPath(), {
  args: ["run", "--allow-all", "--unstable-no-legacy-abort", main, "serve", "--listen", "127.0.0.1:18443"],
  env: { RECONDO_DATA_DIR: dir, RECONDO_LOG: "info", NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/" },
  stdout: "null",
  stderr: "piped",
}).spawn();
let log = "";
const reading = serve.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
  new WritableStream({ write: (chunk) => void (log += chunk) }),
);
let live = false;
try {
  const base = "http://127.0.0.1:18443";
  for (let i = 0; i < 200; i++) {
    if (await fetch(`${base}/healthz`).then((r) => r.body?.cancel().then(() => r.ok), () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await login(page, base, "admin", password);
    await page.goto(`${base}/live`);
    live = await page.getByText("● Live").waitFor({ timeout: 10_000 }).then(() => true, () => false);
  } finally {
    await browser.close();
  }
} finally {
  serve.kill("SIGTERM");
  await serve.status;
  await reading.catch(() => {});
}
console.log(JSON.stringify({ live, interfaces, log }));
