/**
 * Small certificate helpers shared by the CA and the leaf cache. Certificates are built with node-forge,
 * but keys are generated and signatures computed with `node:crypto`: its native RSA signs in ~1.5 ms where
 * forge's JavaScript RSA takes ~30 ms, and a leaf is minted while a client waits in its TLS handshake.
 * @module
 */
import forge from "node-forge";
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";

/** The public half of a native key (private or public), as the forge object a certificate needs. */
export function forgePublicKey(key: KeyObject): forge.pki.PublicKey {
  return forge.pki.publicKeyFromPem(createPublicKey(key).export({ type: "spki", format: "pem" }));
}

/** A fresh RSA-2048 key from the system's random source, as a native key object. */
export function generateRsaKey(): KeyObject {
  return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
}

/** The PKCS#8 PEM of a private key, as written to `ca.key` / `leaf.key`. */
export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: "pkcs8", format: "pem" });
}

/**
 * A random positive serial number (16 bytes, as hex). RFC 5280 wants it unique per issuer and at most 20
 * bytes; the top bit is cleared so the DER INTEGER stays positive.
 */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x10; // positive and no leading zero byte to strip
  return bytes.toString("hex");
}

/**
 * Signs `cert` with `issuerKey` using sha256WithRSAEncryption. Does what forge's `cert.sign(key, sha256)`
 * does, but with the native signer.
 */
export function signCertificate(cert: forge.pki.Certificate, issuerKey: KeyObject): void {
  const oid = forge.pki.oids.sha256WithRSAEncryption;
  cert.signatureOid = oid;
  cert.siginfo.algorithmOid = oid;
  // forge keeps the TBS structure it signed and serializes exactly that in certificateToAsn1;
  // getTBSCertificate exists at runtime but is missing from @types/node-forge.
  const pki = forge.pki as typeof forge.pki & {
    getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1;
  };
  const withTbs = cert as forge.pki.Certificate & { tbsCertificate: forge.asn1.Asn1 };
  withTbs.tbsCertificate = pki.getTBSCertificate(cert);
  const tbs = forge.asn1.toDer(withTbs.tbsCertificate).getBytes();
  cert.signature = sign("sha256", Buffer.from(tbs, "binary"), issuerKey).toString("binary");
}

/** The DER bytes of a certificate, as a forge binary string. */
export function certificateDer(cert: forge.pki.Certificate): string {
  return forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
}

/** The SHA-256 fingerprint in the usual `AB:CD:…` form, as browsers and `openssl x509 -fingerprint` show. */
export function fingerprintSha256(cert: forge.pki.Certificate): string {
  const digest = createHash("sha256").update(Buffer.from(certificateDer(cert), "binary")).digest("hex");
  return digest.toUpperCase().match(/../g)!.join(":");
}

/** The subject (or issuer) as `CN=…, O=…`. */
export function distinguishedName(name: forge.pki.Certificate["subject"]): string {
  return name.attributes.map((attr) => `${attr.shortName ?? attr.name ?? attr.type}=${attr.value}`).join(
    ", ",
  );
}
