import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import forge from "node-forge";
import { dataPaths } from "../../config/paths.ts";
import { type CertificateAuthority, loadOrCreateCa } from "./ca.ts";
import { createLeafCache, HostNotPermittedError, type SniCallback } from "./leaf_cache.ts";

const DAY_MS = 86_400_000;
const dir = await Deno.makeTempDir({ prefix: "recondo_leaf_" });
const paths = dataPaths(dir);
const ca: CertificateAuthority = await loadOrCreateCa(paths, {
  domains: ["api.anthropic.com", "api.openai.com"],
});
addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

Deno.test("a minted leaf names the SNI host, chains to the CA and lasts about a year", () => {
  const now = new Date("2026-03-01T12:00:00Z");
  const leaves = createLeafCache(ca, { now: () => now });
  const leaf = forge.pki.certificateFromPem(leaves.certificatePemFor("API.Anthropic.com"));
  const san = leaf.getExtension("subjectAltName") as { altNames: { type: number; value: string }[] };
  assert.deepEqual(san.altNames.map((n) => [n.type, n.value]), [[2, "api.anthropic.com"]]);
  assert.equal(leaf.subject.getField("CN").value, "api.anthropic.com");
  assert.equal(leaf.issuer.hash, ca.cert.subject.hash);
  assert.equal(leaf.validity.notBefore.getTime(), now.getTime() - DAY_MS);
  assert.equal(leaf.validity.notAfter.getTime(), now.getTime() + 365 * DAY_MS);
  assert.equal(leaf.signatureOid, forge.pki.oids.sha256WithRSAEncryption);
  assert.ok(ca.cert.verify(leaf), "the CA's signature on the leaf verifies");
  // node-forge 1.4 also enforces name constraints while verifying a chain.
  const store = forge.pki.createCaStore([ca.cert]);
  assert.equal(forge.pki.verifyCertificateChain(store, [leaf], { validityCheckDate: now }), true);
});

Deno.test("openssl verifies a minted leaf for its host under the CA", async () => {
  const leaves = createLeafCache(ca);
  const file = `${dir}/leaf.pem`;
  await Deno.writeTextFile(file, leaves.certificatePemFor("eu.api.openai.com"));
  const out = await new Deno.Command("openssl", {
    args: [
      "verify",
      "-CAfile",
      paths.caCert,
      "-verify_hostname",
      "eu.api.openai.com",
      "-purpose",
      "sslserver",
      file,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(
    new TextDecoder().decode(out.stdout).trim(),
    `${file}: OK`,
    new TextDecoder().decode(out.stderr),
  );
});

Deno.test("every leaf shares the one stored leaf key and gets its own random serial", () => {
  const leaves = createLeafCache(ca);
  const a = forge.pki.certificateFromPem(leaves.certificatePemFor("api.anthropic.com"));
  const b = forge.pki.certificateFromPem(leaves.certificatePemFor("api.openai.com"));
  const stored = createPublicKey(Deno.readTextFileSync(paths.leafKey));
  for (const leaf of [a, b]) {
    assert.ok(createPublicKey(forge.pki.publicKeyToPem(leaf.publicKey)).equals(stored));
  }
  assert.notEqual(a.serialNumber, b.serialNumber);
  assert.match(a.serialNumber, /^[1-7][0-9a-f]{31}$/);
});

Deno.test("a host is minted once, then served from the cache", () => {
  const leaves = createLeafCache(ca);
  const first = leaves.secureContextFor("api.openai.com");
  assert.equal(leaves.secureContextFor("API.OPENAI.COM."), first);
  assert.deepEqual([leaves.stats().minted, leaves.stats().hits, leaves.stats().size], [1, 1, 1]);
});

Deno.test("the cache drops the least recently used leaf beyond its bound", () => {
  const leaves = createLeafCache(ca, { max: 2 });
  leaves.secureContextFor("a.api.openai.com");
  leaves.secureContextFor("b.api.openai.com");
  leaves.secureContextFor("a.api.openai.com"); // a is now the most recent
  leaves.secureContextFor("c.api.openai.com"); // evicts b
  leaves.secureContextFor("a.api.openai.com");
  assert.deepEqual([leaves.stats().minted, leaves.stats().size], [3, 2]);
  leaves.secureContextFor("b.api.openai.com");
  assert.equal(leaves.stats().minted, 4);
});

Deno.test("a leaf close to expiry is minted again", () => {
  let now = new Date("2026-03-01T00:00:00Z");
  const leaves = createLeafCache(ca, { now: () => now, validityDays: 10 });
  const first = leaves.certificatePemFor("api.openai.com");
  now = new Date(now.getTime() + 9.5 * DAY_MS);
  assert.notEqual(leaves.certificatePemFor("api.openai.com"), first);
  assert.equal(leaves.stats().minted, 2);
});

Deno.test("a host outside the name constraints is refused with the rotate hint", () => {
  const leaves = createLeafCache(ca);
  assert.throws(() => leaves.secureContextFor("www.example.com"), (error: Error) => {
    assert.ok(error instanceof HostNotPermittedError);
    assert.equal(error.host, "www.example.com");
    assert.match(error.message, /does not cover "www\.example\.com".*recondo ca rotate/);
    return true;
  });
  assert.throws(() => leaves.secureContextFor("api.openai.com\u0000.x"), /not a DNS host name/);
  assert.throws(() => leaves.secureContextFor(""), /not a DNS host name/);
  assert.deepEqual([leaves.stats().refused, leaves.stats().minted], [3, 0]);
});

Deno.test("the SNI callbacks answer with a context or an error, and fall back to the CONNECT host", () => {
  const leaves = createLeafCache(ca);
  const results: [string, boolean][] = [];
  const record = (name: string) => (error: Error | null, context?: tls.SecureContext) =>
    results.push([name, error === null && context !== undefined]);
  leaves.sniCallback("api.openai.com", record("permitted"));
  leaves.sniCallback("www.example.com", record("other"));
  leaves.sniCallback("", record("no sni"));
  leaves.sniCallbackFor("api.anthropic.com")("", record("no sni, connect host"));
  assert.deepEqual(results, [["permitted", true], ["other", false], ["no sni", false], [
    "no sni, connect host",
    true,
  ]]);
});

/** Server side as in the gateway: node:net socket, TLSSocket with our SNICallback and both ALPN ids. */
async function alpnServer(sniCallback: SniCallback) {
  const server = net.createServer((socket) => {
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      SNICallback: sniCallback,
      ALPNProtocols: ["h2", "http/1.1"],
    });
    secure.on("error", () => socket.destroy());
    secure.on("secure", () => secure.end(String(secure.alpnProtocol)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((r) => server.close(r)),
  };
}

function negotiate(port: number, offer: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      servername: "api.openai.com",
      ca: ca.certPem,
      ALPNProtocols: offer,
    });
    let answer = "";
    socket.on("data", (chunk) => answer += chunk);
    socket.on("end", () => resolve(`${socket.alpnProtocol}/${answer}`));
    socket.on("error", reject);
  });
}

Deno.test({
  name: "over real TLS the server picks h2 when offered and http/1.1 otherwise",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const leaves = createLeafCache(ca);
    const server = await alpnServer(leaves.sniCallback);
    try {
      assert.equal(await negotiate(server.port, ["h2", "http/1.1"]), "h2/h2");
      assert.equal(await negotiate(server.port, ["http/1.1"]), "http/1.1/http/1.1");
    } finally {
      await server.close();
    }
  },
});

Deno.test("minting a leaf takes milliseconds, not a key generation", () => {
  const leaves = createLeafCache(ca);
  for (let i = 0; i < 20; i++) leaves.secureContextFor(`host${i}.api.openai.com`);
  const { minted, mintMsTotal } = leaves.stats();
  const mean = mintMsTotal / minted;
  console.log(`leaf mint: mean ${mean.toFixed(2)} ms over ${minted}`);
  assert.ok(mean < 50, `minting took ${mean.toFixed(1)} ms per leaf`);
});
