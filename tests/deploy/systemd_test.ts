/**
 * deploy/systemd/recondo.service checked by systemd itself (`systemd-analyze verify`, which prints every
 * unknown key or bad value, and `systemd-analyze security --offline`), and against the gateway: the
 * variables it sets are read by the code, the key files point into the credentials directory the unit
 * loads them into, and systemd waits longer than the drain before killing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gatewaySources, PENDING_CONTRACT } from "./k8s_manifest_checks.ts";
import { configSchema } from "../../config/schema.ts";

const UNIT = new URL("../../deploy/systemd/recondo.service", import.meta.url).pathname;

/** Runs systemd-analyze on a copy of `text` whose ExecStart names this machine's deno (verify wants it). */
async function analyze(text: string, args: string[]): Promise<{ code: number; output: string }> {
  const dir = await Deno.makeTempDir({ prefix: "recondo-systemd-" });
  try {
    const file = join(dir, "recondo.service");
    await Deno.writeTextFile(file, text.replaceAll("/usr/local/bin/deno", Deno.execPath()));
    const out = await new Deno.Command("systemd-analyze", { args: [...args, file] }).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, output: (decode(out.stdout) + decode(out.stderr)).replaceAll(dir, "<dir>") };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("systemd-analyze verify accepts the unit without a warning, and reports a broken copy", async () => {
  const unit = await Deno.readTextFile(UNIT);
  const good = await analyze(unit, ["verify"]);
  assert.equal(good.code, 0, good.output);
  assert.equal(good.output.trim(), "");
  const broken = unit.replace("ProtectSystem=strict", "ProtectSystem=stricter").replace(
    "PrivateTmp=",
    "PrivateTmpp=",
  );
  const bad = await analyze(broken, ["verify"]);
  assert.match(bad.output, /Failed to parse protect system value/);
  assert.match(bad.output, /Unknown key 'PrivateTmpp'/);
});

Deno.test("the unit's sandbox rates at most 2.0 on systemd-analyze security", async () => {
  const unit = await Deno.readTextFile(UNIT);
  const out = await analyze(unit, ["security", "--offline=true", "--no-pager"]);
  const score = Number(out.output.match(/Overall exposure level for recondo\.service: ([\d.]+)/)?.[1]);
  assert.ok(score <= 2.0, `exposure ${score}:\n${out.output.slice(-2000)}`);
});

Deno.test("the unit sets only variables the gateway reads, loads the key files it names, and outwaits the drain", async () => {
  const unit = await Deno.readTextFile(UNIT);
  const sources = await gatewaySources();
  const env = new Map(
    [...unit.matchAll(/^Environment=([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]] as [string, string]),
  );
  for (const name of env.keys()) {
    if (name.startsWith("DENO_") || name === "NO_COLOR") continue; // read by the deno binary
    if (name.startsWith("MALLOC_")) continue; // read by glibc's allocator
    assert.ok(sources.includes(name) || PENDING_CONTRACT.has(name), `${name} is not read by the gateway`);
  }
  const credentials = new Set([...unit.matchAll(/^LoadCredential=([^:]+):/gm)].map((m) => m[1]));
  for (const name of ["RECONDO_CA_CERT_FILE", "RECONDO_CA_KEY_FILE", "RECONDO_HMAC_KEY_FILE"]) {
    const value = env.get(name);
    assert.match(value ?? "", /^%d\//, `${name} is not in the credentials directory`);
    assert.ok(credentials.has(value!.slice(3)), `${name}=${value} names no LoadCredential`);
  }
  assert.equal(env.get("RECONDO_DATA_DIR"), "%S/recondo");
  assert.match(unit, /^StateDirectory=recondo$/m);
  const drain = configSchema.parse({}).shutdownGraceSeconds;
  const stop = Number(unit.match(/^TimeoutStopSec=(\d+)$/m)?.[1]);
  assert.ok(stop >= drain + 10, `TimeoutStopSec ${stop} must exceed shutdownGraceSeconds ${drain} + 10`);
  assert.match(unit, /^KillSignal=SIGTERM$/m);
  assert.doesNotMatch(unit, /^MemoryDenyWriteExecute=yes/m, "V8's JIT needs writable code pages");
});
