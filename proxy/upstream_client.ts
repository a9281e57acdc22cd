/**
 * The one pooled HTTP client all upstream requests share: extra CA certificates for corporate SSL
 * inspection (`RECONDO_EXTRA_CA_CERTS` or `<data dir>/ca/extra_roots.pem`), optional chaining through an
 * upstream proxy, and `allowHost` so the real provider host travels in `Host` even under an override.
 * @module
 */
import { log } from "../core/log.ts";

export interface UpstreamClientOptions {
  extraCaFiles: string[];
  proxyUrl?: string;
}

/** Creates the shared client; reads every CA file that exists and says which it loaded. */
export async function createUpstreamClient(options: UpstreamClientOptions): Promise<Deno.HttpClient> {
  const caCerts: string[] = [];
  for (const file of options.extraCaFiles) {
    try {
      caCerts.push(await Deno.readTextFile(file));
      log.info("upstream.extra_ca_loaded", {
        file,
        message: "Loaded extra CA certificates for upstream TLS",
      });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new Error(`Cannot read extra CA certificates ${file}`, { cause: error });
      }
    }
  }
  return Deno.createHttpClient({
    caCerts: caCerts.length > 0 ? caCerts : undefined,
    proxy: options.proxyUrl ? { url: options.proxyUrl } : undefined,
    allowHost: true,
    poolIdleTimeout: 90_000,
  });
}
