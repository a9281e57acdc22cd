/**
 * Leaf certificates for intercepted hosts, minted on the first TLS ClientHello that names them (SNI) and
 * kept in a bounded LRU of ready `tls.SecureContext`s. Every leaf shares the CA's one leaf key, so a mint
 * is only building and signing a certificate (a few ms, measured in `stats()`), not generating a key.
 *
 * A host the CA's name constraints do not permit is refused before minting: clients would reject the
 * leaf anyway, and failing the handshake with a message that says `recondo ca rotate` is clearer.
 * @module
 */
import forge from "node-forge";
import { createSecureContext, type SecureContext } from "node:tls";
import { log } from "../../core/log.ts";
import { type CertificateAuthority, notPermittedMessage } from "./ca.ts";
import { randomSerial, signCertificate } from "./x509.ts";

/** Options for {@link createLeafCache}. */
export interface LeafCacheOptions {
  /** Most leaves kept; the least recently used is dropped beyond it. Default 1000. */
  max?: number;
  /** Leaf lifetime in days (capped by the CA's own expiry). Default 365. */
  validityDays?: number;
  /** Injected clock for tests. */
  now?: () => Date;
}

/** Counters for `/metrics` and for judging the mint cost. */
export interface LeafCacheStats {
  size: number;
  minted: number;
  hits: number;
  refused: number;
  /** Total and last wall time spent minting (build, sign, create the secure context), in ms. */
  mintMsTotal: number;
  mintMsLast: number;
}

/** Node's `SNICallback` signature, as `tls.TLSSocket` and `tls.createServer` take it. */
export type SniCallback = (
  servername: string,
  callback: (error: Error | null, context?: SecureContext) => void,
) => void;

/** A cache of leaf certificates under one CA. */
export interface LeafCache {
  /**
   * The secure context for `servername`, minting the leaf on first use. Throws
   * {@link HostNotPermittedError} for a host outside the CA's name constraints or not a valid DNS name.
   */
  secureContextFor(servername: string): SecureContext;
  /** The leaf PEM served for `servername` (minted if needed): for diagnostics and tests. */
  certificatePemFor(servername: string): string;
  /**
   * Ready to pass as `SNICallback` to `new tls.TLSSocket(socket, { isServer: true, SNICallback,
   * ALPNProtocols: ["h2", "http/1.1"] })`. A refused host gets an error, which fails the handshake.
   */
  readonly sniCallback: SniCallback;
  /**
   * Like `sniCallback`, but a ClientHello without SNI (Deno's `node:tls` then passes `""`) gets the leaf
   * for `connectHost`, the host named in the CONNECT request that opened the tunnel.
   */
  sniCallbackFor(connectHost: string): SniCallback;
  stats(): LeafCacheStats;
}

/** Thrown (and passed to the SNI callback) for a host the CA cannot or must not cover. */
export class HostNotPermittedError extends Error {
  constructor(readonly host: string, message: string) {
    super(message);
    this.name = "HostNotPermittedError";
  }
}

interface Leaf {
  certPem: string;
  context: SecureContext;
  notAfter: number;
}

const DAY_MS = 24 * 3600 * 1000;
const DNS_NAME = /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;

/**
 * Creates the leaf cache for `ca`.
 *
 * @example
 * const leaves = createLeafCache(ca);
 * const tlsSocket = new tls.TLSSocket(socket, {
 *   isServer: true, SNICallback: leaves.sniCallback, ALPNProtocols: ["h2", "http/1.1"],
 * });
 */
export function createLeafCache(ca: CertificateAuthority, options: LeafCacheOptions = {}): LeafCache {
  const max = options.max ?? 1000;
  const validityMs = (options.validityDays ?? 365) * DAY_MS;
  const now = options.now ?? (() => new Date());
  const authorityKeyId = ca.cert.generateSubjectKeyIdentifier().getBytes();
  const leaves = new Map<string, Leaf>();
  const counters: LeafCacheStats = { size: 0, minted: 0, hits: 0, refused: 0, mintMsTotal: 0, mintMsLast: 0 };

  function leafFor(servername: string): Leaf {
    const host = servername.toLowerCase().replace(/\.$/, "");
    const cached = leaves.get(host);
    if (cached && cached.notAfter - DAY_MS > now().getTime()) {
      leaves.delete(host); // re-insert: Map order is the LRU order
      leaves.set(host, cached);
      counters.hits++;
      return cached;
    }
    refuseUnlessPermitted(ca, host, servername, counters);
    const started = performance.now();
    const leaf = mint(ca, host, { now: now(), validityMs, authorityKeyId });
    const ms = performance.now() - started;
    counters.minted++;
    counters.mintMsTotal += ms;
    counters.mintMsLast = ms;
    leaves.delete(host);
    leaves.set(host, leaf);
    if (leaves.size > max) leaves.delete(leaves.keys().next().value!);
    log.debug("tls.leaf_minted", { host, ms: Math.round(ms * 100) / 100 });
    return leaf;
  }

  function answer(servername: string, callback: (error: Error | null, context?: SecureContext) => void) {
    let context: SecureContext;
    try {
      context = leafFor(servername).context;
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback(null, context);
  }

  return {
    secureContextFor: (servername) => leafFor(servername).context,
    certificatePemFor: (servername) => leafFor(servername).certPem,
    sniCallback: answer,
    sniCallbackFor: (connectHost) => (servername, callback) => answer(servername || connectHost, callback),
    stats: () => ({ ...counters, size: leaves.size }),
  };
}

function refuseUnlessPermitted(
  ca: CertificateAuthority,
  host: string,
  servername: string,
  counters: LeafCacheStats,
): void {
  let message: string | null = null;
  if (!DNS_NAME.test(host)) message = `Cannot mint a leaf for SNI "${servername}": not a DNS host name`;
  else if (!ca.permits(host)) message = notPermittedMessage(ca, [host]);
  if (message === null) return;
  counters.refused++;
  log.warn("tls.leaf_refused", { servername: servername.slice(0, 255), message });
  throw new HostNotPermittedError(servername, message);
}

/**
 * Builds and signs a leaf for `host` (which the caller has checked) with the CA's shared leaf key:
 * SAN dNSName = host, serverAuth, valid from a day ago (clients with a slow clock) for `validityMs`
 * but never past the CA itself, a random serial, sha256WithRSA.
 */
function mint(
  ca: CertificateAuthority,
  host: string,
  options: { now: Date; validityMs: number; authorityKeyId: string },
): Leaf {
  const cert = forge.pki.createCertificate();
  cert.publicKey = ca.leafPublicKey;
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(options.now.getTime() - DAY_MS);
  const notAfter = Math.min(options.now.getTime() + options.validityMs, ca.cert.validity.notAfter.getTime());
  cert.validity.notAfter = new Date(notAfter);
  // The common name is limited to 64 characters; longer names live in the (then critical) SAN only.
  const shortName = host.length <= 64;
  cert.setSubject(shortName ? [{ name: "commonName", value: host }] : []);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: [{ type: 2, value: host }], critical: !shortName },
    { name: "authorityKeyIdentifier", keyIdentifier: options.authorityKeyId },
  ]);
  signCertificate(cert, ca.signingKey);
  const certPem = forge.pki.certificateToPem(cert);
  return { certPem, context: createSecureContext({ key: ca.leafKeyPem, cert: certPem }), notAfter };
}
