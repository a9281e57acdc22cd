/**
 * TLS interception: the name-constrained Recondo CA and the leaf certificates minted under it.
 *
 * @example
 * const ca = await loadOrCreateCa(dataPaths(dataDir()), { domains: hosts });
 * for (const host of ca.notPermitted(hosts)) log.warn("ca.not_permitted", { message: notPermittedMessage(ca, [host]) });
 * const leaves = createLeafCache(ca);
 * const secure = new tls.TLSSocket(socket, {
 *   isServer: true, SNICallback: leaves.sniCallbackFor(connectHost), ALPNProtocols: ["h2", "http/1.1"],
 * });
 * @module
 */
export {
  type CaOptions,
  type CaPaths,
  type CertificateAuthority,
  loadOrCreateCa,
  notPermittedMessage,
  permittedDomainsOf,
  rotateCa,
} from "./ca.ts";
export { type CaDescription, describeCa } from "./ca_info.ts";
export {
  createLeafCache,
  HostNotPermittedError,
  type LeafCache,
  type LeafCacheOptions,
  type LeafCacheStats,
  type SniCallback,
} from "./leaf_cache.ts";
export { domainsPermit, normalizeDomains } from "./name_constraints.ts";
export {
  detectTrustStore,
  installIntoTrustStore,
  removeFromTrustStore,
  type TrustStore,
} from "./trust_store.ts";
