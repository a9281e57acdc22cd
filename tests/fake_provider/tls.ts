/**
 * A throwaway CA and server certificate for running the fake provider over HTTPS. The gateway (or a
 * test's fetch client) trusts `caCert`; the fake serves `cert`/`key`. Separate CA and leaf because rustls
 * (Deno's fetch, Codex) rejects a CA certificate presented as a server certificate.
 * @module
 */
import forge from "node-forge";

/** PEM material: `cert` + `key` for the server, `caCert` for whoever must trust it. */
export interface TestCertificate {
  cert: string;
  key: string;
  caCert: string;
}

const DEFAULT_NAMES = [
  "127.0.0.1",
  "localhost",
  "api.anthropic.com",
  "api.openai.com",
  "chatgpt.com",
  "generativelanguage.googleapis.com",
  "cloudcode-pa.googleapis.com",
  "aiplatform.googleapis.com",
  "us-east5-aiplatform.googleapis.com",
];

function altName(name: string): { type: number; value?: string; ip?: string } {
  return /^\d+\.\d+\.\d+\.\d+$/.test(name) ? { type: 7, ip: name } : { type: 2, value: name };
}

function serial(): string {
  return forge.util.bytesToHex(forge.random.getBytesSync(8)).replace(/^[89a-f]/, "1");
}

/**
 * Creates a CA and a server certificate for `names` (IPs and DNS names; by default 127.0.0.1, localhost
 * and the provider hosts), valid from yesterday for 30 days. One RSA key serves both, to keep it fast.
 */
export function makeTestCertificate(names: string[] = DEFAULT_NAMES): TestCertificate {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const notBefore = new Date(Date.now() - 86_400_000);
  const notAfter = new Date(Date.now() + 30 * 86_400_000);

  const ca = forge.pki.createCertificate();
  ca.publicKey = keys.publicKey;
  ca.serialNumber = serial();
  ca.validity.notBefore = notBefore;
  ca.validity.notAfter = notAfter;
  const caSubject = [{ name: "commonName", value: "Recondo fake provider test CA" }];
  ca.setSubject(caSubject);
  ca.setIssuer(caSubject);
  ca.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  ca.sign(keys.privateKey, forge.md.sha256.create());

  const leaf = forge.pki.createCertificate();
  leaf.publicKey = keys.publicKey;
  leaf.serialNumber = serial();
  leaf.validity.notBefore = notBefore;
  leaf.validity.notAfter = notAfter;
  leaf.setSubject([{ name: "commonName", value: names[0] }]);
  leaf.setIssuer(caSubject);
  leaf.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: names.map(altName) },
  ]);
  leaf.sign(keys.privateKey, forge.md.sha256.create());

  return {
    cert: forge.pki.certificateToPem(leaf),
    key: forge.pki.privateKeyToPem(keys.privateKey),
    caCert: forge.pki.certificateToPem(ca),
  };
}
