/**
 * Signed chain heads. The gateway keeps an Ed25519 key (Web Crypto) in `<data dir>/keys/signing.jwk`
 * (mode 0600) and periodically signs the head of every session whose chain grew, appending a row to
 * `chain_heads`. A later deletion of the newest turns, or a rewrite of a whole chain, no longer matches a
 * signature made before it. The public key is registered in `signing_keys`; `verify` should also compare
 * it with the key file, since a database writer could register a key of their own.
 * @module
 */
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { Buffer } from "node:buffer";
import { newId } from "../core/ids.ts";
import type { Db } from "./db/db.ts";

/** A loaded signing key. */
export interface SigningKey {
  keyId: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JsonWebKey;
}

/** The id of a public key: the first 16 hex digits of SHA-256 over its `x` coordinate. */
export function keyIdOf(publicJwk: JsonWebKey): string {
  return createHash("sha256").update(String(publicJwk.x)).digest("hex").slice(0, 16);
}

/** Loads the key at `path`, generating and saving one (0600) on first use. */
export async function loadOrCreateSigningKey(path: string): Promise<SigningKey> {
  let privateJwk: JsonWebKey;
  try {
    privateJwk = JSON.parse(await Deno.readTextFile(path)) as JsonWebKey;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new Error(`Cannot read signing key ${path}`, { cause: error });
    }
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ]) as CryptoKeyPair;
    privateJwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    try {
      await Deno.writeTextFile(path, JSON.stringify(privateJwk), { createNew: true, mode: 0o600 });
    } catch (writeError) {
      if (!(writeError instanceof Deno.errors.AlreadyExists)) throw writeError;
      privateJwk = JSON.parse(await Deno.readTextFile(path)) as JsonWebKey; // another process won the race
    }
    await Deno.chmod(path, 0o600);
  }
  const publicJwk: JsonWebKey = { kty: privateJwk.kty, crv: privateJwk.crv, x: privateJwk.x };
  const privateKey = await crypto.subtle.importKey("jwk", privateJwk, { name: "Ed25519" }, false, ["sign"]);
  const publicKey = await crypto.subtle.importKey("jwk", publicJwk, { name: "Ed25519" }, true, ["verify"]);
  return { keyId: keyIdOf(publicJwk), privateKey, publicKey, publicJwk };
}

/** What a chain-head signature covers. */
export interface ChainHead {
  session_id: string;
  seq: number;
  turn_id: string;
  hash: string;
  signed_at: number;
}

/** The exact bytes signed for a chain head. */
export function chainHeadPayload(head: ChainHead): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(
    [
      "recondo.chain-head.v1",
      head.session_id,
      Number(head.seq),
      head.turn_id,
      head.hash,
      Number(head.signed_at),
    ]
      .join("\n"),
  );
}

/** Checks a `chain_heads` row's base64 signature against a public JWK. */
export async function verifyChainHead(
  publicJwk: JsonWebKey,
  head: ChainHead & { signature: string },
): Promise<boolean> {
  const key = await crypto.subtle.importKey("jwk", publicJwk, { name: "Ed25519" }, false, ["verify"]);
  const signature = new Uint8Array(Buffer.from(head.signature, "base64"));
  return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, chainHeadPayload(head));
}

/** Registers the public key in `signing_keys` (idempotent). */
export async function registerSigningKey(db: Db, key: SigningKey, now = Date.now()): Promise<void> {
  await db.run(
    "INSERT INTO signing_keys (key_id, public_jwk, created_at) VALUES ($1, $2, $3) ON CONFLICT (key_id) DO NOTHING",
    [key.keyId, JSON.stringify(key.publicJwk), now],
  );
}

/** Signs the head of every session whose chain grew since its last signature; returns how many. */
export async function signChainHeads(db: Db, key: SigningKey, now = Date.now()): Promise<number> {
  const heads = await db.query<{ id: string; head_seq: number; head_hash: string; head_turn_id: string }>(
    `SELECT s.id, s.head_seq, s.head_hash, s.head_turn_id FROM sessions s
     WHERE s.head_seq > COALESCE((SELECT MAX(c.seq) FROM chain_heads c WHERE c.session_id = s.id), 0)`,
  );
  for (const h of heads) {
    const head: ChainHead = {
      session_id: h.id,
      seq: Number(h.head_seq),
      turn_id: h.head_turn_id,
      hash: h.head_hash,
      signed_at: now,
    };
    const signature = new Uint8Array(
      await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, chainHeadPayload(head)),
    );
    await db.run(
      `INSERT INTO chain_heads (id, session_id, seq, turn_id, hash, signed_at, key_id, signature)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        newId(now),
        head.session_id,
        head.seq,
        head.turn_id,
        head.hash,
        now,
        key.keyId,
        Buffer.from(signature).toString("base64"),
      ],
    );
  }
  return heads.length;
}
