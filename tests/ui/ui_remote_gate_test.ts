/**
 * The UI on the proxy port answers loopback clients only, through the real `serve` and front door: a client
 * at another address of the machine (a veth interface made in a fresh network namespace; nothing leaves it) gets the
 * 403 page for the login form and for a posted password, while proxy traffic (a CONNECT tunnel), `/healthz`
 * and `/metrics` are served to it as before.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./testdata/remote_gate.ts", import.meta.url));

Deno.test({
  name:
    "over plain HTTP the proxy port serves the UI to loopback only; remote clients still get proxying and probes",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const out = await new Deno.Command("unshare", {
      args: ["-n", "--", Deno.execPath(), "run", "-A", "--unstable-no-legacy-abort", CHILD],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, `child failed (unshare -n needs root or user namespaces): ${stderr.slice(-2000)}`);
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    assert.equal(result.loopbackLogin.status, 200, JSON.stringify(result));
    assert.match(result.loopbackLogin.body, /<title>Log in · Recondo<\/title>/, JSON.stringify(result));
    assert.equal(result.remoteLogin.status, 403, JSON.stringify(result));
    assert.match(result.remoteLogin.body, /plain HTTP to this machine only/);
    assert.equal(
      result.remotePost.status,
      403,
      "a password posted from elsewhere is refused before any check",
    );
    assert.equal(result.remoteHealth.status, 200);
    assert.equal(result.remoteMetrics, 200);
    assert.equal(result.remoteTunnel, "ping", "a blind tunnel from the remote address still works");
  },
});
