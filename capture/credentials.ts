/**
 * Credentials never reach the journal, the database or the object store. Headers that carry them are
 * dropped before a record is built; an API key survives only as an HMAC-SHA256 keyed hash, enough to
 * attribute traffic to a developer (config `developers[].apiKeyHashes`) and to match two exchanges, never
 * to reuse the key. The HMAC key lives in `<data dir>/keys/hmac.key` (mode 0600). An AWS SigV4 request
 * (Bedrock) is attributed by its access key id (`Credential=AKIA…/date/region/bedrock/aws4_request`), kept
 * the same way: the id is not secret on its own, but it names an AWS identity, so it is hashed too.
 * @module
 */
import { createHmac } from "node:crypto";
import { dirname } from "node:path";

/** Header names (lower-case) that are never stored. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "x-goog-api-key",
  // Azure OpenAI's key header.
  "api-key",
  "x-amz-security-token",
  "cookie",
  "set-cookie",
]);

/** Query parameters that carry keys (Gemini accepts `?key=`). */
const CREDENTIAL_QUERY = new Set(["key", "api_key", "access_token"]);

/** A copy of `headers` without credential headers. */
export function stripCredentialHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!CREDENTIAL_HEADERS.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

/** `path` with credential query parameters removed, and the first removed value (a key) if any. */
export function stripCredentialQuery(path: string): { path: string; key: string | null } {
  const q = path.indexOf("?");
  if (q < 0) return { path, key: null };
  const params = new URLSearchParams(path.slice(q + 1));
  let key: string | null = null;
  for (const name of [...params.keys()]) {
    if (CREDENTIAL_QUERY.has(name.toLowerCase())) {
      key ??= params.get(name);
      params.delete(name);
    }
  }
  if (key === null) return { path, key: null };
  const rest = params.toString();
  return { path: path.slice(0, q) + (rest ? `?${rest}` : ""), key };
}

/**
 * The provider API key a request carries (`x-api-key`, `x-goog-api-key`, Azure's `api-key`,
 * `Authorization: Bearer`), or the access key id of a SigV4 `authorization` (AWS).
 */
export function apiKeyOf(headers: Record<string, string>, queryKey: string | null = null): string | null {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
  if (lower["x-api-key"]) return lower["x-api-key"].trim();
  if (lower["x-goog-api-key"]) return lower["x-goog-api-key"].trim();
  if (lower["api-key"]) return lower["api-key"].trim();
  const auth = lower["authorization"];
  if (auth) {
    const match = auth.match(/^bearer\s+(.+)$/i);
    if (match) return match[1].trim();
    const sigv4 = auth.match(/^AWS4-HMAC-SHA256\s.*?Credential=([A-Za-z0-9]+)\//);
    if (sigv4) return sigv4[1];
  }
  return queryKey;
}

/** HMAC-SHA256 of `apiKey` under `secret`, lower-case hex: the only form a key is kept in. */
export function hashApiKey(secret: Uint8Array, apiKey: string): string {
  return createHmac("sha256", secret).update(apiKey, "utf8").digest("hex");
}

/**
 * Reads the HMAC key, creating 32 random bytes (mode 0600) on first use. Hashes stay comparable across
 * restarts and replicas as long as they share this file.
 */
export async function loadOrCreateHmacKey(path: string): Promise<Uint8Array> {
  try {
    const key = await Deno.readFile(path);
    if (key.length < 32) throw new Error(`HMAC key ${path} is too short (${key.length} bytes, need 32)`);
    return key;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = crypto.getRandomValues(new Uint8Array(32));
  try {
    await Deno.writeFile(path, key, { createNew: true, mode: 0o600 });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return await Deno.readFile(path);
    throw error;
  }
  await Deno.chmod(path, 0o600);
  return key;
}
