/**
 * The UI's own HTTPS listener as `recondo serve` starts it (not a test stack): with `ui.tls` files and
 * `--ui-listen`, the UI answers over TLS with HSTS and a `Secure` cookie; a non-loopback address without
 * TLS, or `ui.tls` without an address, stops the start naming the setting.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startGatewayProcess } from "../agents/gateway_process.ts";
import { makeTestCertificate } from "../fake_provider/tls.ts";
import { freePort } from "../support/ports.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

async function writeConfig(dir: string, config: Record<string, unknown>): Promise<string> {
  const path = join(dir, "recondo.json");
  await Deno.writeTextFile(path, JSON.stringify(config));
  return path;
}

Deno.test({
  name: "serve with ui.tls and --ui-listen answers the UI over HTTPS with HSTS and Secure cookies",
  ...SANITIZE,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "recondo-serve-https-" });
    const tls = makeTestCertificate(["localhost", "127.0.0.1"]);
    const certFile = join(dir, "ui.crt");
    const keyFile = join(dir, "ui.key");
    await Deno.writeTextFile(certFile, tls.cert, { mode: 0o644 });
    await Deno.writeTextFile(keyFile, tls.key, { mode: 0o600 });
    const uiPort = freePort();
    const configFile = await writeConfig(dir, { ui: { tls: { certFile, keyFile } } });
    const gateway = await startGatewayProcess({
      overrides: {},
      configFile,
      extraArgs: ["--ui-listen", `127.0.0.1:${uiPort}`],
    });
    using client = Deno.createHttpClient({ caCerts: [tls.caCert] });
    try {
      const login = await fetch(`https://localhost:${uiPort}/login`, { client });
      assert.equal(login.status, 200);
      assert.match(login.headers.get("strict-transport-security") ?? "", /max-age=\d+/);
      // The login form's CSRF cookie, the first cookie a visitor gets: Secure over HTTPS.
      const cookies = login.headers.getSetCookie();
      assert.ok(cookies.length > 0, "the login page set no cookie");
      for (const cookie of cookies) assert.match(cookie, /; Secure/, cookie);
      await login.body?.cancel();
      // Plain HTTP to the same port is no UI.
      await assert.rejects(fetch(`http://127.0.0.1:${uiPort}/login`).then((r) => r.text()));
    } finally {
      await gateway.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

for (
  const [what, config, args, message] of [
    ["a non-loopback UI address without TLS", {}, ["--ui-listen", "0.0.0.0:0"], /ui\.tls/],
    [
      "ui.tls without an address of its own",
      { ui: { tls: { certFile: "ui.crt", keyFile: "ui.key" } } },
      [],
      /ui\.tls is set but the UI has no address of its own/,
    ],
  ] as const
) {
  Deno.test({
    name: `serve refuses to start with ${what}, naming the setting`,
    ...SANITIZE,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "recondo-serve-https-" });
      const tls = makeTestCertificate(["localhost"]);
      await Deno.writeTextFile(join(dir, "ui.crt"), tls.cert);
      await Deno.writeTextFile(join(dir, "ui.key"), tls.key, { mode: 0o600 });
      const ui = (config as { ui?: { tls: { certFile: string; keyFile: string } } }).ui;
      const resolved = ui
        ? { ui: { tls: { certFile: join(dir, ui.tls.certFile), keyFile: join(dir, ui.tls.keyFile) } } }
        : config;
      const configFile = await writeConfig(dir, resolved);
      try {
        await assert.rejects(
          startGatewayProcess({ overrides: {}, configFile, extraArgs: [...args], readyTimeoutMs: 30_000 }),
          (error: Error) => message.test(error.message) && /exited with code [1-9]/.test(error.message),
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
