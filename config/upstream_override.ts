/**
 * `RECONDO_UPSTREAM_OVERRIDE="api.anthropic.com=https://127.0.0.1:19443,api.openai.com=http://127.0.0.1:19080"`
 * sends a host's traffic to another origin while everything else (Host header, capture, policies)
 * behaves as for the real host. Tests and benchmarks use it to reach a fake provider.
 * @module
 */

/** Parses the variable into host → origin; throws naming the bad pair. */
export function parseUpstreamOverride(value: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  if (!value) return map;
  for (const pair of value.split(",").map((p) => p.trim()).filter(Boolean)) {
    const eq = pair.indexOf("=");
    const host = pair.slice(0, eq).trim().toLowerCase();
    const origin = pair.slice(eq + 1).trim();
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new Error(
        `Invalid RECONDO_UPSTREAM_OVERRIDE: "${pair}" must be host=origin, e.g. api.openai.com=http://127.0.0.1:19080`,
      );
    }
    if (eq <= 0 || (url.protocol !== "http:" && url.protocol !== "https:")) {
      throw new Error(
        `Invalid RECONDO_UPSTREAM_OVERRIDE: "${pair}" must be host=origin with an http(s) origin`,
      );
    }
    map.set(host, url.origin);
  }
  return map;
}
