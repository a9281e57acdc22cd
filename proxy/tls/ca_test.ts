import assert from "node:assert/strict";
import { dataPaths } from "../../config/paths.ts";
import { loadOrCreateCa, notPermittedMessage, rotateCa } from "./ca.ts";

const DOMAINS = ["api.anthropic.com", "api.openai.com"];

async function withDataDir(fn: (paths: ReturnType<typeof dataPaths>) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "recondo_ca_" });
  try {
    await fn(dataPaths(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

async function openssl(args: string[]): Promise<string> {
  const out = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("the first load creates a CA, its key 0600 and the shared leaf key 0600", async () => {
  await withDataDir(async (paths) => {
    const ca = await loadOrCreateCa(paths, { domains: DOMAINS });
    assert.equal(await mode(paths.caKey), 0o600);
    assert.equal(await mode(paths.leafKey), 0o600);
    assert.equal(await mode(paths.caCert), 0o644);
    assert.equal(await Deno.readTextFile(paths.caCert), ca.certPem);
    assert.deepEqual(ca.domains, DOMAINS);
    assert.equal(ca.constrained, true);
    assert.deepEqual([...Deno.readDirSync(paths.caDir)].map((e) => e.name).sort(), [
      "ca.crt",
      "ca.key",
      "leaf.key",
    ]);
  });
});

Deno.test("openssl reads the CA as a 10-year constrained CA with critical name constraints", async () => {
  await withDataDir(async (paths) => {
    const now = new Date("2026-01-15T00:00:00Z");
    const ca = await loadOrCreateCa(paths, { domains: DOMAINS, now: () => now });
    const text = await openssl(["x509", "-in", paths.caCert, "-noout", "-text"]);
    assert.match(text, /Subject: CN = Recondo CA [0-9a-f]{8}, O = Recondo/);
    assert.match(text, /Not Before: Jan 14 00:00:00 2026 GMT/);
    assert.match(text, /Not After : Jan 15 00:00:00 2036 GMT/);
    assert.match(text, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(
      text,
      /Name Constraints: critical\s+Permitted:\s+DNS:api\.anthropic\.com\s+DNS:api\.openai\.com\s+Excluded:\s+IP:0\.0\.0\.0\/0\.0\.0\.0\s+IP:0:0:0:0:0:0:0:0\/0:0:0:0:0:0:0:0/,
    );
    const fingerprint = await openssl(["x509", "-in", paths.caCert, "-noout", "-fingerprint", "-sha256"]);
    assert.equal(fingerprint.trim().split("=")[1], ca.fingerprint);
    await openssl(["verify", "-CAfile", paths.caCert, paths.caCert]); // self-signature is valid
  });
});

Deno.test("a second load returns the same CA instead of issuing a new one", async () => {
  await withDataDir(async (paths) => {
    const first = await loadOrCreateCa(paths, { domains: DOMAINS });
    const leafKey = await Deno.readTextFile(paths.leafKey);
    const second = await loadOrCreateCa(paths, { domains: DOMAINS });
    assert.equal(second.fingerprint, first.fingerprint);
    assert.equal(await Deno.readTextFile(paths.leafKey), leafKey);
  });
});

Deno.test("loading tightens a CA key that others can read back to 0600", async () => {
  await withDataDir(async (paths) => {
    await loadOrCreateCa(paths, { domains: DOMAINS });
    await Deno.chmod(paths.caKey, 0o644);
    await Deno.chmod(paths.leafKey, 0o640);
    await loadOrCreateCa(paths, { domains: DOMAINS });
    assert.equal(await mode(paths.caKey), 0o600);
    assert.equal(await mode(paths.leafKey), 0o600);
  });
});

Deno.test("a CA that does not cover a newly intercepted host is kept and says to rotate", async () => {
  await withDataDir(async (paths) => {
    const first = await loadOrCreateCa(paths, { domains: DOMAINS });
    const wider = [...DOMAINS, "llm.example.com"];
    const ca = await loadOrCreateCa(paths, { domains: wider });
    assert.equal(ca.fingerprint, first.fingerprint);
    assert.equal(ca.permits("llm.example.com"), false);
    assert.deepEqual(ca.notPermitted(wider), ["llm.example.com"]);
    const message = notPermittedMessage(ca, ["llm.example.com"]);
    assert.match(message, /does not cover "llm\.example\.com"/);
    assert.match(message, /permit only api\.anthropic\.com, api\.openai\.com/);
    assert.match(message, /recondo ca rotate/);
  });
});

Deno.test("rotating issues a new CA for the new list and keeps the leaf key", async () => {
  await withDataDir(async (paths) => {
    const first = await loadOrCreateCa(paths, { domains: DOMAINS });
    const leafKey = await Deno.readTextFile(paths.leafKey);
    const rotated = await rotateCa(paths, { domains: [...DOMAINS, "llm.example.com"] });
    assert.notEqual(rotated.fingerprint, first.fingerprint);
    assert.equal(rotated.permits("llm.example.com"), true);
    assert.equal(await Deno.readTextFile(paths.leafKey), leafKey);
    const reloaded = await loadOrCreateCa(paths, { domains: DOMAINS });
    assert.equal(reloaded.fingerprint, rotated.fingerprint);
    assert.equal(await mode(paths.caKey), 0o600);
  });
});

Deno.test("a certificate without its key, or with another key, is an error naming the files", async () => {
  await withDataDir(async (paths) => {
    await loadOrCreateCa(paths, { domains: DOMAINS });
    const otherKey = await Deno.readTextFile(paths.leafKey);
    await Deno.remove(paths.caKey);
    await assert.rejects(loadOrCreateCa(paths, { domains: DOMAINS }), (error: Error) => {
      assert.match(error.message, new RegExp(`${paths.caCert} exists but ${paths.caKey} is missing`));
      return true;
    });
    await Deno.writeTextFile(paths.caKey, otherKey, { mode: 0o600 });
    await assert.rejects(loadOrCreateCa(paths, { domains: DOMAINS }), /is not the key of/);
  });
});

Deno.test("an expired CA is refused with the dates and the fix", async () => {
  await withDataDir(async (paths) => {
    await loadOrCreateCa(paths, { domains: DOMAINS, now: () => new Date("2020-01-01T00:00:00Z") });
    await assert.rejects(
      loadOrCreateCa(paths, { domains: DOMAINS, now: () => new Date("2031-01-01T00:00:00Z") }),
      /valid from 2019-12-31T00:00:00.000Z to 2030-01-01T00:00:00.000Z, not now .*recondo ca rotate/,
    );
  });
});

Deno.test("the CA refuses to be issued for an IP address", async () => {
  await withDataDir(async (paths) => {
    await assert.rejects(loadOrCreateCa(paths, { domains: ["10.1.2.3"] }), /IP address/);
  });
});

Deno.test("a CA for wildcard patterns permits their concrete hosts, and an older CA names the pattern to rotate", async () => {
  await withDataDir(async (paths) => {
    const old = await loadOrCreateCa(paths, { domains: DOMAINS });
    const patterns = [...DOMAINS, "bedrock-runtime.*.amazonaws.com", "*.openai.azure.com"];
    assert.deepEqual(old.notPermitted(patterns), ["bedrock-runtime.*.amazonaws.com", "*.openai.azure.com"]);
    assert.match(
      notPermittedMessage(old, old.notPermitted(patterns)),
      /"bedrock-runtime\.\*\.amazonaws\.com"/,
    );
    const rotated = await rotateCa(paths, { domains: patterns });
    assert.deepEqual(rotated.notPermitted(patterns), []);
    assert.equal(rotated.permits("bedrock-runtime.us-east-1.amazonaws.com"), true);
    assert.equal(rotated.permits("contoso.openai.azure.com"), true);
    assert.equal(rotated.permits("s3.amazonaws.com"), false);
    assert.equal(rotated.permits("bedrock-runtime.nowhere-9.amazonaws.com"), false);
    const text = await openssl(["x509", "-in", paths.caCert, "-noout", "-ext", "nameConstraints"]);
    assert.match(text, /DNS:bedrock-runtime\.us-west-2\.amazonaws\.com/);
    assert.match(text, /DNS:openai\.azure\.com/);
    assert.doesNotMatch(text, /DNS:amazonaws\.com\b/);
  });
});
