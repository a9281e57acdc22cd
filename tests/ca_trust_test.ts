/**
 * Real clients against real TLS on loopback: curl (OpenSSL), Node (`NODE_EXTRA_CA_CERTS`) and Deno fetch
 * (rustls + webpki, the stack Codex uses) accept leaves the cache mints under the Recondo CA, and reject a
 * leaf for any other name signed with the CA's own key — because of the CA's name constraints. A control
 * case shows the same rogue leaf *is* accepted under an otherwise identical CA without the constraints.
 */
import assert from "node:assert/strict";
import { createPrivateKey, type KeyObject } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import forge from "node-forge";
import { dataPaths } from "../config/paths.ts";
import { DEFAULT_INTERCEPT_HOSTS } from "../config/schema.ts";
import { loadOrCreateCa } from "../proxy/tls/ca.ts";
import { createLeafCache, type SniCallback } from "../proxy/tls/leaf_cache.ts";
import { forgePublicKey, generateRsaKey, randomSerial, signCertificate } from "../proxy/tls/x509.ts";

type Verdict = { ok: true; body: string } | { ok: false; error: string };

/** A TLS server on 127.0.0.1 in the gateway's shape: node:net socket upgraded by `tls.TLSSocket`. */
async function startTlsServer(sniCallback: SniCallback) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      SNICallback: sniCallback,
      ALPNProtocols: ["http/1.1"],
    });
    secure.on("error", () => socket.destroy()); // a rejected handshake is what several cases expect
    secure.once(
      "data",
      () => secure.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A minimal CONNECT front so Deno's fetch can reach `https://api.anthropic.com:PORT/` on loopback. */
async function startConnectProxy() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    let head = "";
    client.on("data", function onHead(chunk: Buffer) {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.off("data", onHead);
      const port = Number(/^CONNECT [^:\s]+:(\d+) /.exec(head)?.[1]);
      const upstream = net.connect(port, "127.0.0.1", () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        const rest = Buffer.from(head.slice(end + 4), "latin1");
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream).pipe(client);
      });
      sockets.add(upstream);
      upstream.on("close", () => sockets.delete(upstream));
      upstream.on("error", () => client.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function curl(caFile: string, host: string, port: number): Promise<Verdict> {
  const target = host === "127.0.0.1" ? [] : ["--resolve", `${host}:${port}:127.0.0.1`];
  const out = await new Deno.Command("curl", {
    args: ["-sS", "--http1.1", "--max-time", "10", "--cacert", caFile, ...target, `https://${host}:${port}/`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return out.success
    ? { ok: true, body: text.decode(out.stdout) }
    : { ok: false, error: text.decode(out.stderr) };
}

const NODE_CLIENT = `
const https = require("node:https");
const [host, port] = process.argv.slice(1);
https.get({ host: "127.0.0.1", port: Number(port), servername: host, headers: { host }, timeout: 10000 }, (res) => {
  let body = ""; res.on("data", (c) => body += c);
  res.on("end", () => console.log(JSON.stringify({ ok: true, body })));
}).on("error", (e) => console.log(JSON.stringify({ ok: false, error: (e.code || "") + " " + e.message })));
`;

async function node(caFile: string, host: string, port: number): Promise<Verdict> {
  const out = await new Deno.Command("node", {
    args: ["-e", NODE_CLIENT, host, String(port)],
    env: { NODE_EXTRA_CA_CERTS: caFile },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)) as Verdict;
}

async function denoFetch(caPem: string, proxyUrl: string, host: string, port: number): Promise<Verdict> {
  const client = Deno.createHttpClient({ caCerts: [caPem], proxy: { url: proxyUrl } });
  try {
    const response = await fetch(`https://${host}:${port}/`, { client });
    return { ok: true, body: await response.text() };
  } catch (error) {
    const cause = (error as Error).cause;
    return { ok: false, error: `${(error as Error).message} ${cause instanceof Error ? cause.message : ""}` };
  } finally {
    client.close();
  }
}

/** A leaf for `host` signed directly with a CA key, bypassing the leaf cache and its permit check. */
function rogueLeaf(caCertPem: string, caKey: KeyObject, san: { dns?: string; ip?: string }) {
  const caCert = forge.pki.certificateFromPem(caCertPem);
  const key = generateRsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forgePublicKey(key);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 30 * 86_400_000);
  cert.setSubject([{ name: "commonName", value: san.dns ?? san.ip! }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: [san.dns ? { type: 2, value: san.dns } : { type: 7, ip: san.ip }] },
  ]);
  signCertificate(cert, caKey);
  const context = tls.createSecureContext({
    key: key.export({ type: "pkcs8", format: "pem" }),
    cert: forge.pki.certificateToPem(cert),
  });
  return ((_name, callback) => callback(null, context)) as SniCallback;
}

/** The same CA certificate minus the name constraints extension, re-signed with the same key. */
async function unconstrainedCopy(caCertPem: string, caKey: KeyObject, dir: string): Promise<string> {
  const original = forge.pki.certificateFromPem(caCertPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = original.publicKey;
  cert.serialNumber = randomSerial();
  cert.validity = original.validity;
  cert.setSubject(original.subject.attributes);
  cert.setIssuer(original.issuer.attributes);
  cert.setExtensions(original.extensions.filter((e: { id?: string }) => e.id !== "2.5.29.30"));
  signCertificate(cert, caKey);
  const file = `${dir}/unconstrained.crt`;
  await Deno.writeTextFile(file, forge.pki.certificateToPem(cert));
  return file;
}

function assertRejected(verdict: Verdict, client: string, pattern: RegExp): void {
  assert.equal(verdict.ok, false, `${client} accepted a leaf it must reject: ${JSON.stringify(verdict)}`);
  if (!verdict.ok) assert.match(verdict.error, pattern, `${client} failed for another reason`);
}

Deno.test({
  name: "curl, Node and Deno trust minted leaves and reject any other name signed by the CA key",
  // Deno's fetch keeps pooled connections and node:tls timers past the test's end.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "recondo_ca_trust_" });
    const paths = dataPaths(dir);
    const ca = await loadOrCreateCa(paths, { domains: DEFAULT_INTERCEPT_HOSTS });
    const caKey = createPrivateKey(await Deno.readTextFile(paths.caKey)); // as if the key had leaked
    const leaves = createLeafCache(ca);
    const good = await startTlsServer(leaves.sniCallback);
    const rogueDns = await startTlsServer(rogueLeaf(ca.certPem, caKey, { dns: "www.example.com" }));
    const rogueIp = await startTlsServer(rogueLeaf(ca.certPem, caKey, { ip: "127.0.0.1" }));
    const permittedManual = await startTlsServer(rogueLeaf(ca.certPem, caKey, { dns: "api.openai.com" }));
    const proxy = await startConnectProxy();
    try {
      await t.step("curl accepts a minted leaf for a permitted name", async () => {
        assert.deepEqual(await curl(ca.certPath, "api.anthropic.com", good.port), { ok: true, body: "ok" });
      });
      await t.step("Node with NODE_EXTRA_CA_CERTS accepts a minted leaf", async () => {
        assert.deepEqual(await node(ca.certPath, "api.anthropic.com", good.port), { ok: true, body: "ok" });
      });
      await t.step("Deno fetch with caCerts (rustls/webpki) accepts a minted leaf", async () => {
        const verdict = await denoFetch(ca.certPem, proxy.url, "api.anthropic.com", good.port);
        assert.deepEqual(verdict, { ok: true, body: "ok" });
      });
      await t.step(
        "a hand-made leaf for a permitted name is accepted (control for the rogue cases)",
        async () => {
          assert.equal((await curl(ca.certPath, "api.openai.com", permittedManual.port)).ok, true);
          assert.equal((await node(ca.certPath, "api.openai.com", permittedManual.port)).ok, true);
          assert.equal(
            (await denoFetch(ca.certPem, proxy.url, "api.openai.com", permittedManual.port)).ok,
            true,
          );
        },
      );
      await t.step("curl rejects a CA-signed leaf for a name outside the constraints", async () => {
        const verdict = await curl(ca.certPath, "www.example.com", rogueDns.port);
        assertRejected(verdict, "curl", /permitted subtree violation/i);
      });
      await t.step("Node rejects a CA-signed leaf for a name outside the constraints", async () => {
        const verdict = await node(ca.certPath, "www.example.com", rogueDns.port);
        assertRejected(verdict, "node", /permitted subtree violation/i);
      });
      await t.step("Deno fetch rejects a CA-signed leaf for a name outside the constraints", async () => {
        const verdict = await denoFetch(ca.certPem, proxy.url, "www.example.com", rogueDns.port);
        assertRejected(verdict, "deno", /NameConstraintViolation/);
      });
      await t.step("curl, Node and Deno reject a CA-signed leaf for an IP address", async () => {
        assertRejected(
          await curl(ca.certPath, "127.0.0.1", rogueIp.port),
          "curl",
          /excluded subtree violation/i,
        );
        const verdict = await node(ca.certPath, "127.0.0.1", rogueIp.port);
        assertRejected(verdict, "node", /excluded subtree violation/i);
        const fetched = await denoFetch(ca.certPem, proxy.url, "127.0.0.1", rogueIp.port);
        assertRejected(fetched, "deno", /NameConstraintViolation/);
      });
      await t.step("without the name constraints the same rogue leaf would be trusted", async () => {
        const unconstrained = await unconstrainedCopy(ca.certPem, caKey, dir);
        assert.deepEqual(await curl(unconstrained, "www.example.com", rogueDns.port), {
          ok: true,
          body: "ok",
        });
        assert.deepEqual(await node(unconstrained, "www.example.com", rogueDns.port), {
          ok: true,
          body: "ok",
        });
        const pem = await Deno.readTextFile(unconstrained);
        assert.deepEqual(await denoFetch(pem, proxy.url, "www.example.com", rogueDns.port), {
          ok: true,
          body: "ok",
        });
      });
      await t.step("the leaf cache refuses a non-permitted SNI, failing the handshake", async () => {
        const verdict = await curl(ca.certPath, "www.example.com", good.port);
        assertRejected(verdict, "curl", /SSL|TLS|reset|closed/i);
        assert.equal(leaves.stats().refused, 1);
      });
    } finally {
      await Promise.all([
        good.close(),
        rogueDns.close(),
        rogueIp.close(),
        permittedManual.close(),
        proxy.close(),
      ]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
