/**
 * Capture's side of stored header sets (`storage/header_sets.ts`): which set an exchange's headers build
 * on. A small per-process cache keeps the last set used per host and header names; when the headers differ
 * from it in few values, the exchange stores only those, else its headers become a new set (found by their
 * SHA-256 if stored already). The cache is a hint only: the set is checked in the transaction that names
 * it, so a set from a rolled-back transaction or removed by retention is stored again.
 * @module
 */
import type { Queryable } from "../storage/db/db.ts";
import { headerDelta } from "../storage/header_sets.ts";
import { sha256Hex } from "../storage/objects/content.ts";

/** What the exchange row stores for one header map. */
export interface StoredHeaders {
  /** JSON of the values that differ from the base (every header when `base` is null). */
  json: string;
  base: number | null;
}

/** Header maps shorter than this (as JSON) stay whole in their row: a set would save nothing. */
export const MIN_SET_CHARS = 160;
const RECENT_LIMIT = 512;
const recent = new Map<string, { id: number; sha256: string; headers: Record<string, string> }>();

function remember(key: string, value: { id: number; sha256: string; headers: Record<string, string> }): void {
  recent.delete(key);
  recent.set(key, value);
  while (recent.size > RECENT_LIMIT) recent.delete(recent.keys().next().value!);
}

async function setId(tx: Queryable, sha: string, json: string): Promise<number> {
  const find = () => tx.query<{ id: number }>("SELECT id FROM header_sets WHERE sha256 = $1", [sha]);
  let [row] = await find();
  if (!row) {
    [row] = await tx.query<{ id: number }>(
      "INSERT INTO header_sets (sha256, headers) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING RETURNING id",
      [sha, json],
    );
    row ??= (await find())[0];
  }
  return Number(row.id);
}

/** Stores `headers` of an exchange to `host` (`kind` tells requests from responses) inside `tx`. */
export async function storeHeaders(
  tx: Queryable,
  headers: Record<string, string>,
  scope: { kind: "request" | "response"; host: string },
): Promise<StoredHeaders> {
  const full = JSON.stringify(headers);
  if (full.length < MIN_SET_CHARS) return { json: full, base: null };
  const key = `${scope.kind}\n${scope.host}\n${Object.keys(headers).join("\n")}`;
  const hint = recent.get(key);
  if (hint) {
    const delta = headerDelta(headers, hint.headers);
    const json = delta && JSON.stringify(delta);
    // Worth it while the differing values are under half the headers; else start a new set.
    if (json !== null && json.length * 2 <= full.length) {
      const [known] = await tx.query("SELECT 1 AS x FROM header_sets WHERE id = $1 AND sha256 = $2", [
        hint.id,
        hint.sha256,
      ]);
      if (known) return { json, base: hint.id };
    }
  }
  const sha = sha256Hex(new TextEncoder().encode(full));
  const id = await setId(tx, sha, full);
  remember(key, { id, sha256: sha, headers });
  return { json: "{}", base: id };
}
