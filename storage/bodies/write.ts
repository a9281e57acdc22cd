/**
 * Storing a captured body, in two halves like the rest of capture: `prepareBody` writes objects (before
 * any row names them), `commitBody` writes the rows inside the record's transaction. A body comes with
 * its segment spans (`capture/segments/split.ts`) or `null` to be stored whole, as before.
 *
 * A segmented body costs: the segments not stored yet, compressed and packed into one object (one PUT on
 * S3; none when nothing is new), and a manifest row holding only the parts that differ from an earlier
 * body with the same first segment (found in a small per-process cache; a miss only costs a full
 * manifest). So a session's turn adds its new messages and a few dozen bytes, however long the session.
 * @example
 * const stored = await prepareBody(db, objects, bytes, splitBody(bytes), { kind: "request", size: bytes.length });
 * await db.transaction((tx) => commitBody(tx, db.engine, stored, Date.now()));
 * @module
 */
import type { Db, Queryable } from "../db/db.ts";
import { sha256Hex, storeBody } from "../objects/content.ts";
import type { ObjectMeta, ObjectStore } from "../objects/store.ts";
import { ensureObjectRow, requirePresent, StaleObjectError } from "./claims.ts";
import { commonPrefix, encodeParts, type Part } from "./manifest.ts";
import { buildPack, type PackMember } from "./pack.ts";

/** A byte range `[start, end)` of a body to store as a segment. */
export interface SegmentSpan {
  start: number;
  end: number;
}

/** A body whose objects are stored, ready for `commitBody`. */
export type PreparedBody =
  | { kind: "whole"; sha256: string; size: number }
  | { kind: "known"; sha256: string; size: number }
  /**
   * A small body stored as one member of its write batch's pack (`batch_pack.ts`); `pack` is `null` when
   * an earlier pack holds it already.
   */
  | {
    kind: "packed";
    sha256: string;
    size: number;
    pack: { sha256: string; member: PackMember } | null;
  }
  | {
    kind: "segmented";
    sha256: string;
    size: number;
    base: { sha256: string; parts: number } | null;
    /** Parts after the base's. */
    own: Part[];
    /** `own` as kept in the manifest row (`encodeParts`, compressed against the base). */
    encodedOwn: string;
    /**
     * The segments this manifest names in `manifest_segments`: its own, less those its base chain names
     * already (the system prompt and tools that follow the messages recur in every turn's own parts).
     * Retention keeps a base while any manifest builds on it, so the base's rows protect those.
     */
    named: string[];
    reused: string[];
    pack: { sha256: string; members: PackMember[] } | null;
  };

const RECENT_LIMIT = 1024;
/**
 * Recent segmented bodies under each of their first `KEYS` segments: candidates to be the base of the next
 * turn's manifest. Several keys, because the first segment alone can be shared by every session (an
 * OpenAI system message) or change once (the first turn's breakpoint); the candidate sharing the longest
 * prefix wins. A hint only: the base is checked in the database, and a miss costs a full manifest.
 */
const recent = new Map<string, { sha256: string; parts: Part[] }>();
const KEYS = 3;

function remember(keys: readonly string[], value: { sha256: string; parts: Part[] }): void {
  for (const key of keys) {
    recent.delete(key);
    recent.set(key, value);
  }
  while (recent.size > RECENT_LIMIT) recent.delete(recent.keys().next().value!);
}

function placeholders(n: number, from = 1): string {
  return Array.from({ length: n }, (_, i) => `$${i + from}`).join(", ");
}

/** Cuts `bytes` into parts at `spans`, hashing each segment. */
export function partsOf(bytes: Uint8Array, spans: readonly SegmentSpan[]): {
  parts: Part[];
  segments: Map<string, Uint8Array>;
} {
  const parts: Part[] = [];
  const segments = new Map<string, Uint8Array>();
  let at = 0;
  for (const s of spans) {
    if (s.start > at) parts.push({ kind: "literal", bytes: bytes.slice(at, s.start) });
    const seg = bytes.subarray(s.start, s.end);
    const sha = sha256Hex(seg);
    segments.set(sha, seg);
    parts.push({ kind: "segment", sha256: sha, size: seg.length });
    at = s.end;
  }
  if (at < bytes.length) parts.push({ kind: "literal", bytes: bytes.slice(at) });
  return { parts, segments };
}

/** The hashes of `own` that no part of `base` names. */
function namedBeyond(own: readonly string[], base: readonly Part[]): string[] {
  const inBase = new Set(base.flatMap((p) => p.kind === "segment" ? [p.sha256] : []));
  return own.filter((s) => !inBase.has(s));
}

/** Stores what `bytes` needs in the object store; see the module doc. */
export async function prepareBody(
  db: Db,
  objects: ObjectStore,
  bytes: Uint8Array,
  spans: readonly SegmentSpan[] | null,
  meta: ObjectMeta & { now?: number; sha256?: string },
): Promise<PreparedBody> {
  const now = meta.now ?? Date.now();
  const sha = meta.sha256 ?? sha256Hex(bytes);
  if (!spans?.length) {
    // A body a batch packed already is reused from its pack, not written again as an object of its own.
    if ((await ensureObjectRow(db, sha, bytes.length, now)).packed) {
      return { kind: "packed", sha256: sha, size: bytes.length, pack: null };
    }
    await storeBody(objects, bytes, { kind: meta.kind, size: meta.size, contentType: meta.contentType });
    return { kind: "whole", sha256: sha, size: bytes.length };
  }
  const { parts, segments } = partsOf(bytes, spans);
  const keys = parts.flatMap((p) => p.kind === "segment" ? [p.sha256] : []).slice(0, KEYS);
  if ((await db.query("SELECT 1 AS x FROM body_manifests WHERE sha256 = $1", [sha])).length) {
    remember(keys, { sha256: sha, parts });
    return { kind: "known", sha256: sha, size: bytes.length };
  }
  let base: { sha256: string; parts: number; all: Part[] } | null = null;
  const candidates = keys.map((k) => recent.get(k)).filter((c) => c !== undefined && c.sha256 !== sha);
  const ranked = candidates
    .map((c) => ({ sha256: c!.sha256, parts: commonPrefix(c!.parts, parts), all: c!.parts }))
    .filter((c) => c.parts >= 2)
    .sort((a, b) => b.parts - a.parts);
  for (const c of ranked) {
    if ((await db.query("SELECT 1 AS x FROM body_manifests WHERE sha256 = $1", [c.sha256])).length) {
      base = c;
      break;
    }
  }
  const own = parts.slice(base?.parts ?? 0);
  const ownShas = [...new Set(own.flatMap((p) => p.kind === "segment" ? [p.sha256] : []))];
  const known = new Map<string, { state: string; pack: unknown }>();
  for (let i = 0; i < ownShas.length; i += 500) {
    const slice = ownShas.slice(i, i + 500);
    const rows = await db.query<{ sha256: string; state: string; pack_sha256: unknown }>(
      `SELECT sha256, state, pack_sha256 FROM stored_objects WHERE sha256 IN (${placeholders(slice.length)})`,
      slice,
    );
    for (const r of rows) known.set(String(r.sha256), { state: String(r.state), pack: r.pack_sha256 });
  }
  const reused: string[] = [];
  const fresh: { sha256: string; bytes: Uint8Array }[] = [];
  for (const s of ownShas) {
    const row = known.get(s);
    if (row?.state === "deleting") throw new StaleObjectError(s, "retention is removing it");
    if (row && row.pack !== null) reused.push(s);
    else fresh.push({ sha256: s, bytes: segments.get(s)! });
  }
  let pack: { sha256: string; members: PackMember[] } | null = null;
  if (fresh.length) {
    const built = await buildPack(fresh);
    await objects.put(built.sha256, built.gzipped, { kind: "pack", size: built.size });
    pack = { sha256: built.sha256, members: built.members };
  }
  remember(keys, { sha256: sha, parts });
  return {
    kind: "segmented",
    sha256: sha,
    size: bytes.length,
    base: base && { sha256: base.sha256, parts: base.parts },
    own,
    encodedOwn: encodeParts(own, base?.all ?? null),
    named: namedBeyond(ownShas, base?.all ?? []),
    reused,
    pack,
  };
}

/** Records where member `m` of pack `pack` lies, claiming its row; throws while retention removes it. */
async function claimMember(tx: Queryable, pack: string, m: PackMember, now: number): Promise<void> {
  const changed = await tx.run(
    `INSERT INTO stored_objects (sha256, state, touched_at, size, pack_sha256, pack_offset, pack_length)
     VALUES ($1, 'present', $2, $3, $4, $5, $6)
     ON CONFLICT (sha256) DO UPDATE SET touched_at = excluded.touched_at, size = excluded.size,
       pack_sha256 = excluded.pack_sha256, pack_offset = excluded.pack_offset, pack_length = excluded.pack_length
     WHERE stored_objects.state = 'present'`,
    [m.sha256, now, m.size, pack, m.offset, m.length],
  );
  if (changed !== 1) throw new StaleObjectError(m.sha256, "retention is removing it");
}

/**
 * Writes the rows of a prepared body inside the record's transaction `tx` and claims every object it
 * relies on (`claims.ts`); throws `StaleObjectError` when retention took one meanwhile.
 */
export async function commitBody(
  tx: Queryable,
  engine: Db["engine"],
  body: PreparedBody,
  now: number,
): Promise<void> {
  const lock = engine === "postgres" ? " FOR UPDATE" : "";
  if (body.kind === "whole") return await requirePresent(tx, engine, [body.sha256]);
  if (body.kind === "packed") {
    if (!body.pack) return await requirePresent(tx, engine, [body.sha256]);
    return await claimMember(tx, body.pack.sha256, body.pack.member, now);
  }
  if (body.kind === "known") {
    const found = await tx.query(`SELECT 1 AS x FROM body_manifests WHERE sha256 = $1${lock}`, [body.sha256]);
    if (!found.length) throw new StaleObjectError(body.sha256, "its manifest was removed by retention");
    return;
  }
  if (body.base) {
    const found = await tx.query(`SELECT 1 AS x FROM body_manifests WHERE sha256 = $1${lock}`, [
      body.base.sha256,
    ]);
    if (!found.length) throw new StaleObjectError(body.base.sha256, "the base manifest was removed");
  }
  await requirePresent(tx, engine, body.reused);
  for (const m of body.pack?.members ?? []) await claimMember(tx, body.pack!.sha256, m, now);
  await tx.run(
    `INSERT INTO body_manifests (sha256, size, base_sha256, base_parts, parts, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING`,
    [body.sha256, body.size, body.base?.sha256 ?? null, body.base?.parts ?? 0, body.encodedOwn, now],
  );
  for (const s of body.named) {
    await tx.run(
      `INSERT INTO manifest_segments (body_sha256, segment_sha256) VALUES ($1, $2)
       ON CONFLICT (body_sha256, segment_sha256) DO NOTHING`,
      [body.sha256, s],
    );
  }
}
