/**
 * Which public keys `verify` accepts for chain-head signatures. The gateway's own key file
 * (`<data dir>/keys/signing.jwk`) is always trusted when present. Keys registered in `signing_keys` (other
 * replicas sharing the database) are trusted too unless `strict`, but only when their id really is the
 * fingerprint of their `x`: a database writer cannot slip a key of their own in under a known id. With
 * `strict`, only the key file counts, which also defeats a rogue key registered under a fresh id.
 * @module
 */
import { keyIdOf } from "../../storage/signing.ts";
import type { Db } from "../../storage/db/db.ts";

/** Trusted keys by id, and ids that were registered but refused, with why. */
export interface TrustedKeys {
  keys: Map<string, JsonWebKey>;
  refused: Map<string, string>;
  /** The key file's id, or `null` when there is no key file here. */
  localKeyId: string | null;
}

/** The public half of the key file at `path`, or `null` when it does not exist. */
export async function readLocalPublicKey(path: string): Promise<JsonWebKey | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw new Error(`Cannot read signing key ${path}`, { cause: error });
  }
  const jwk = JSON.parse(text) as JsonWebKey;
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") {
    throw new Error(`Signing key ${path} is not an Ed25519 JWK`);
  }
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
}

/** Builds the trusted set from the key file and the `signing_keys` table. */
export async function trustedKeys(
  db: Db,
  local: JsonWebKey | null,
  options: { strict?: boolean } = {},
): Promise<TrustedKeys> {
  const keys = new Map<string, JsonWebKey>();
  const refused = new Map<string, string>();
  const localKeyId = local ? keyIdOf(local) : null;
  if (local && localKeyId) keys.set(localKeyId, local);
  const rows = await db.query<{ key_id: string; public_jwk: string }>(
    "SELECT key_id, public_jwk FROM signing_keys",
  );
  for (const row of rows) {
    let jwk: JsonWebKey;
    try {
      jwk = JSON.parse(row.public_jwk) as JsonWebKey;
    } catch {
      refused.set(row.key_id, "its public_jwk is not JSON");
      continue;
    }
    if (keyIdOf(jwk) !== row.key_id) {
      refused.set(row.key_id, `its registered public key has id ${keyIdOf(jwk)}`);
      continue;
    }
    if (row.key_id === localKeyId) continue;
    if (options.strict) refused.set(row.key_id, "only the local key file is trusted (--strict-keys)");
    else keys.set(row.key_id, jwk);
  }
  return { keys, refused, localKeyId };
}
