/**
 * `serve` fetches nothing at run time: in a network namespace with only loopback and the npm registry
 * pointed at a dead port, the UI's islands still hydrate, from the bundle `deno task build` made before.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { buildUiBundle } from "../../ui/app.ts";
import { hasChromium } from "./browser.ts";

const CHILD = fileURLToPath(new URL("./testdata/offline_serve.ts", import.meta.url));
const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const canUnshare = Deno.build.os === "linux" &&
  await new Deno.Command("unshare", { args: ["-n", "true"] }).output().then((o) => o.success, () => false);

Deno.test({
  name: "serve in a namespace with only loopback and a dead npm registry serves a UI whose islands hydrate",
  ignore: !hasChromium || !canUnshare,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await buildUiBundle(); // what `deno task build` does, before serving (idempotent)
    const dir = await Deno.makeTempDir({ prefix: "recondo-offline-" });
    try {
      const password = "offline-admin-password";
      const add = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--unstable-no-legacy-abort",
          MAIN,
          "user",
          "add",
          "admin",
          "--role",
          "admin",
          "--password-stdin",
        ],
        env: { RECONDO_DATA_DIR: dir, RECONDO_LOG: "warn" },
        stdin: "piped",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const writer = add.stdin.getWriter();
      await writer.write(new TextEncoder().encode(`${password}\n`));
      await writer.close();
      const added = await add.output();
      assert.ok(added.success, new TextDecoder().decode(added.stderr));

      const out = await new Deno.Command("unshare", {
        args: ["-n", "--", Deno.execPath(), "run", "-A", "--unstable-no-legacy-abort", CHILD, dir, password],
        env: { NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.ok(out.success, `child failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
      const result = JSON.parse(text.trim().split("\n").at(-1)!) as {
        live: boolean;
        interfaces: string[];
        log: string;
      };
      assert.deepEqual(result.interfaces.filter((n) => n !== "lo"), [], "no route out: loopback only");
      assert.ok(result.live, `the Live island hydrated; gateway log:\n${result.log.slice(-3000)}`);
      assert.doesNotMatch(
        result.log,
        /ui\.bundle_(built|failed|missing)/,
        "serve neither bundled nor missed the bundle",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
