/**
 * Who sent an exchange. Proxy authentication wins; without it, the provider API key is matched by its
 * keyed hash (HMAC with the data dir's key, the same hash capture stores) against `developers[].apiKeyHashes`
 * in config; else the client address is all we know.
 * @module
 */
import { apiKeyOf, hashApiKey } from "../capture/credentials.ts";
import type { ClientIdentity } from "../core/exchange.ts";

export interface KeyedDeveloper {
  name: string;
  team: string | null;
  apiKeyHashes: readonly string[];
}

const CACHE_LIMIT = 1024;

/** Returns a resolver that attributes anonymous connections by API key; hashes are cached per key. */
export function createIdentityResolver(hmacKey: Uint8Array) {
  const hashes = new Map<string, string>();
  const hashOf = (apiKey: string): string => {
    let hash = hashes.get(apiKey);
    if (!hash) {
      hash = hashApiKey(hmacKey, apiKey);
      if (hashes.size >= CACHE_LIMIT) hashes.delete(hashes.keys().next().value!);
      hashes.set(apiKey, hash);
    }
    return hash;
  };
  return function resolveIdentity(
    connection: ClientIdentity,
    headers: Record<string, string>,
    developers: readonly KeyedDeveloper[],
  ): ClientIdentity {
    if (connection.via === "proxy-auth") return connection;
    if (!developers.some((d) => d.apiKeyHashes.length > 0)) return connection;
    const apiKey = apiKeyOf(headers);
    if (!apiKey) return connection;
    const hash = hashOf(apiKey);
    const developer = developers.find((d) => d.apiKeyHashes.includes(hash));
    return developer
      ? { ...connection, developer: developer.name, team: developer.team, via: "api-key" }
      : connection;
  };
}

export type IdentityResolver = ReturnType<typeof createIdentityResolver>;
