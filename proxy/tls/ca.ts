/**
 * The Recondo certificate authority: created on first use under `<data dir>/ca/`, constrained by X.509
 * name constraints to the intercepted domains, and re-issued only when the user asks (`recondo ca rotate`),
 * because every client has to be told to trust the new certificate.
 *
 * Files (see `config/paths.ts`): `ca.crt` (PEM, public), `ca.key` (PKCS#8 PEM, 0600) and `leaf.key`
 * (the one RSA key every leaf certificate shares, 0600 — mitmproxy does the same: minting a leaf with a
 * reused key takes milliseconds, generating a key takes hundreds).
 * @module
 */
import forge from "node-forge";
import { createPublicKey, type KeyObject } from "node:crypto";
import { log } from "../../core/log.ts";
import { permittedNames, permittedNamesFor } from "../../config/host_patterns.ts";
import type { DataPaths } from "../../config/paths.ts";
import {
  decodeNameConstraints,
  domainsPermit,
  encodeNameConstraints,
  NAME_CONSTRAINTS_OID,
  normalizeDomains,
} from "./name_constraints.ts";
import { ensurePrivateDir, readPrivateKey, readTextIfExists, writeFileAtomic } from "./key_files.ts";
import {
  fingerprintSha256,
  forgePublicKey,
  generateRsaKey,
  privateKeyPem,
  randomSerial,
  signCertificate,
} from "./x509.ts";

/** The files the CA lives in; a subset of {@link DataPaths}. */
export type CaPaths = Pick<DataPaths, "caDir" | "caCert" | "caKey" | "leafKey">;

/** Options for {@link loadOrCreateCa} and {@link rotateCa}. */
export interface CaOptions {
  /**
   * The hosts to intercept (config `intercept` plus the defaults), patterns included: the CA permits the
   * DNS subtrees that cover them (`permittedNamesFor` in config/host_patterns.ts).
   */
  domains: readonly string[];
  /** Injected clock for tests. */
  now?: () => Date;
}

/** A loaded CA: what the leaf cache needs to mint, and what the gateway needs to decide what it covers. */
export interface CertificateAuthority {
  readonly cert: forge.pki.Certificate;
  /** The certificate clients must trust, as PEM. */
  readonly certPem: string;
  /** Where that PEM is on disk (for messages such as `NODE_EXTRA_CA_CERTS=<certPath>`). */
  readonly certPath: string;
  /** Signs leaves. Never logged, never leaves this process. */
  readonly signingKey: KeyObject;
  /** The private key every leaf shares, and its public half in forge form. */
  readonly leafKey: KeyObject;
  readonly leafKeyPem: string;
  readonly leafPublicKey: forge.pki.PublicKey;
  /** The permitted DNS subtrees from the name constraints; empty when `constrained` is false. */
  readonly domains: readonly string[];
  /** False only for a CA made before name constraints (not by this code): it can sign for anything. */
  readonly constrained: boolean;
  readonly fingerprint: string;
  /** Whether a leaf for `host` would be accepted by clients under this CA's name constraints. */
  permits(host: string): boolean;
  /**
   * The entries of `hosts` this CA cannot cover (empty when all are covered). A wildcard pattern is covered
   * when every name it needs permitted (`permittedNamesFor`) is.
   */
  notPermitted(hosts: readonly string[]): string[];
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Loads the CA from `paths`, creating it (and the shared leaf key) on first use. An existing CA is never
 * re-issued here: when it does not cover all of `options.domains` it is returned as is and a warning
 * names the hosts and says to run `recondo ca rotate` (see {@link notPermittedMessage}); the gateway
 * should check `ca.notPermitted(hosts)` and tunnel or refuse those hosts rather than fail handshakes.
 *
 * @example
 * const ca = await loadOrCreateCa(dataPaths(dataDir()), { domains: [...DEFAULT_INTERCEPT_HOSTS] });
 * ca.permits("api.anthropic.com"); // true
 */
export async function loadOrCreateCa(paths: CaPaths, options: CaOptions): Promise<CertificateAuthority> {
  const now = options.now ?? (() => new Date());
  const certPem = await readTextIfExists(paths.caCert);
  const key = await readPrivateKey(paths.caKey);
  if (certPem === null && key === null) return await rotateCa(paths, options);
  if (certPem === null || key === null) {
    const [present, missing] = certPem === null ? [paths.caKey, paths.caCert] : [paths.caCert, paths.caKey];
    throw new Error(
      `Cannot load the Recondo CA: ${present} exists but ${missing} is missing; restore it, or run ` +
        `'recondo ca rotate' to issue a new CA (clients must then trust the new certificate)`,
    );
  }
  const ca = assemble(paths, certPem, key, await loadOrCreateLeafKey(paths));
  checkValidity(ca, now());
  const missing = ca.notPermitted(options.domains);
  if (missing.length > 0) {
    log.warn("tls.ca_not_permitted", { hosts: missing, message: notPermittedMessage(ca, missing) });
  }
  if (!ca.constrained) log.warn("tls.ca_unconstrained", { certPath: paths.caCert, fix: "recondo ca rotate" });
  return ca;
}

/**
 * Issues a new CA for `options.domains` and replaces the files atomically (key first, so a crash leaves
 * a key/cert mismatch that {@link loadOrCreateCa} reports rather than a cert without its key). The shared
 * leaf key is kept. Clients must be told to trust the new certificate.
 */
export async function rotateCa(paths: CaPaths, options: CaOptions): Promise<CertificateAuthority> {
  const now = (options.now ?? (() => new Date()))();
  const key = generateRsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forgePublicKey(key);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(now.getTime() - DAY_MS); // tolerate clients whose clock is behind
  cert.validity.notAfter = new Date(now);
  cert.validity.notAfter.setUTCFullYear(now.getUTCFullYear() + 10);
  const name = [
    { name: "commonName", value: `Recondo CA ${crypto.randomUUID().slice(0, 8)}` },
    { name: "organizationName", value: "Recondo" },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
    {
      id: NAME_CONSTRAINTS_OID,
      critical: true,
      value: encodeNameConstraints(permittedNames(options.domains)),
    },
  ]);
  signCertificate(cert, key);
  const certPem = forge.pki.certificateToPem(cert);
  await ensurePrivateDir(paths.caDir);
  await writeFileAtomic(paths.caKey, privateKeyPem(key), 0o600);
  await writeFileAtomic(paths.caCert, certPem, 0o644);
  log.info("tls.ca_created", {
    certPath: paths.caCert,
    domains: normalizeDomains(permittedNames(options.domains)),
  });
  return assemble(paths, certPem, key, await loadOrCreateLeafKey(paths));
}

/**
 * The message for hosts the CA cannot cover: names them, lists what the CA permits, and says how to fix
 * it. Used by the gateway's log, the leaf cache's handshake error and the CLI.
 */
export function notPermittedMessage(
  ca: Pick<CertificateAuthority, "domains">,
  hosts: readonly string[],
): string {
  return `The Recondo CA does not cover ${hosts.map((h) => `"${h}"`).join(", ")} (its name constraints ` +
    `permit only ${ca.domains.join(", ")}), so clients would reject certificates for ${
      hosts.length === 1 ? "it" : "them"
    }. Run 'recondo ca rotate' to re-issue the CA for the current intercept list, then make clients ` +
    `trust the new certificate.`;
}

/** The permitted DNS names of a certificate's name constraints, or `null` when it has none. */
export function permittedDomainsOf(cert: forge.pki.Certificate): string[] | null {
  const extension = cert.extensions.find((e) => e.id === NAME_CONSTRAINTS_OID) as
    | { value?: unknown }
    | undefined;
  if (!extension) return null;
  if (typeof extension.value !== "string") throw new TypeError("Cannot read the CA's name constraints");
  return decodeNameConstraints(extension.value).permittedDns.map((d) => d.toLowerCase());
}

function assemble(paths: CaPaths, certPem: string, key: KeyObject, leafKey: KeyObject): CertificateAuthority {
  let cert: forge.pki.Certificate;
  try {
    cert = forge.pki.certificateFromPem(certPem);
  } catch (error) {
    throw new Error(`Cannot parse the CA certificate ${paths.caCert}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!createPublicKey(forge.pki.publicKeyToPem(cert.publicKey)).equals(createPublicKey(key))) {
    throw new Error(
      `Cannot load the Recondo CA: ${paths.caKey} is not the key of ${paths.caCert}; restore the ` +
        `matching pair, or run 'recondo ca rotate'`,
    );
  }
  const permitted = permittedDomainsOf(cert);
  const domains = permitted ?? [];
  const permits = (host: string) => permitted === null || domainsPermit(domains, host);
  return {
    cert,
    certPem,
    certPath: paths.caCert,
    signingKey: key,
    leafKey,
    leafKeyPem: privateKeyPem(leafKey),
    leafPublicKey: forgePublicKey(leafKey),
    domains,
    constrained: permitted !== null,
    fingerprint: fingerprintSha256(cert),
    permits,
    notPermitted: (hosts) => hosts.filter((host) => !permittedNamesFor(host).every(permits)),
  };
}

async function loadOrCreateLeafKey(paths: CaPaths): Promise<KeyObject> {
  const existing = await readPrivateKey(paths.leafKey);
  if (existing) return existing;
  const key = generateRsaKey();
  await ensurePrivateDir(paths.caDir);
  await writeFileAtomic(paths.leafKey, privateKeyPem(key), 0o600);
  return key;
}

function checkValidity(ca: CertificateAuthority, now: Date): void {
  const { notBefore, notAfter } = ca.cert.validity;
  if (now > notAfter || now < notBefore) {
    throw new Error(
      `Cannot use the Recondo CA ${ca.certPath}: it is valid from ${notBefore.toISOString()} to ` +
        `${notAfter.toISOString()}, not now (${now.toISOString()}); run 'recondo ca rotate'`,
    );
  }
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  if (daysLeft < 30) {
    log.warn("tls.ca_expiring", { certPath: ca.certPath, daysLeft, fix: "recondo ca rotate" });
  }
}
