/**
 * `Proxy-Authorization: Basic` against the developers (config file or control plane). A token is checked
 * against its keyed hash (`tokenHash`, what the UI, CLI and database keep) or, for a token a user wrote into
 * `recondo.json` themselves, against that value; both comparisons take constant time. The developer found here travels with
 * every exchange of the connection and attributes its spend.
 * @module
 */
import { Buffer } from "node:buffer";
import type { ClientIdentity } from "../core/exchange.ts";
import { proxyTokenMatches, sameSecret } from "../core/proxy_token.ts";

export interface Developer {
  name: string;
  team: string | null;
  token?: string;
  /** HMAC of the token under the fleet's key (`core/proxy_token.ts`). */
  tokenHash?: string;
}

export type AuthResult =
  | { ok: true; identity: ClientIdentity }
  | { ok: false; reason: string };

/**
 * Checks a `Proxy-Authorization` value. Without a header the client is identified by address, which is
 * allowed unless `required`. A header that names an unknown developer or a wrong token always fails.
 */
export function authenticate(
  header: string | undefined,
  address: string,
  options: { developers: readonly Developer[]; required: boolean; hmacKey?: Uint8Array },
): AuthResult {
  const anonymous: ClientIdentity = { developer: null, team: null, address, via: "address" };
  if (!header) {
    return options.required
      ? { ok: false, reason: "proxy authentication required" }
      : { ok: true, identity: anonymous };
  }
  const match = /^basic\s+([a-z0-9+/=]+)$/i.exec(header.trim());
  if (!match) return { ok: false, reason: "unsupported Proxy-Authorization scheme (use Basic)" };
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return { ok: false, reason: "malformed Basic credentials" };
  const name = decodeURIComponent(decoded.slice(0, colon));
  const token = decoded.slice(colon + 1);
  const developer = options.developers.find((d) => d.name === name && (d.token || d.tokenHash));
  const matches = developer?.tokenHash && options.hmacKey
    ? proxyTokenMatches(options.hmacKey, token, developer.tokenHash)
    : Boolean(developer?.token) && sameSecret(token, developer!.token!);
  if (!developer || !matches) {
    return { ok: false, reason: `unknown developer or wrong token for "${name}"` };
  }
  return {
    ok: true,
    identity: { developer: developer.name, team: developer.team, address, via: "proxy-auth" },
  };
}
