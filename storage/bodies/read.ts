/**
 * Reading a captured body back, whichever way it was stored: whole (one object, as before segments and
 * packs, and still for large non-JSON bodies), packed (a small body, one member of its write batch's pack)
 * or segmented (a manifest chain in the database, segments in packs).
 * Every reader of a raw body (CLI `turn`, the UI's turn page, `policies simulate`, `verify`) goes through
 * `readBody`, so all of them show the exact bytes that went upstream.
 * @example
 * const bytes = await readBody(db, objects, turn.request_sha256); // null: missing or damaged
 * @module
 */
import type { Queryable } from "../db/db.ts";
import { loadBody, sha256Hex } from "../objects/content.ts";
import type { ObjectStore } from "../objects/store.ts";
import { expandChain, type ManifestRow, type Part } from "./manifest.ts";
import { type MemberRead, openMember } from "./pack.ts";

/** Deepest delta chain followed; a longer one can only come from edited rows (a cycle). */
const MAX_CHAIN = 100_000;

/**
 * The manifest of `sha` and the bases it builds on, newest first; empty when the body is not segmented.
 * One query (recursive) whatever the chain's length.
 */
export async function readManifestChain(db: Queryable, sha: string): Promise<ManifestRow[]> {
  const rows = await db.query<Record<string, unknown>>(
    `WITH RECURSIVE chain (sha256, size, base_sha256, base_parts, parts, depth) AS (
       SELECT sha256, size, base_sha256, base_parts, parts, 0 FROM body_manifests WHERE sha256 = $1
       UNION ALL
       SELECT m.sha256, m.size, m.base_sha256, m.base_parts, m.parts, c.depth + 1
       FROM body_manifests m JOIN chain c ON m.sha256 = c.base_sha256 WHERE c.depth < ${MAX_CHAIN}
     )
     SELECT sha256, size, base_sha256, base_parts, parts, depth FROM chain ORDER BY depth`,
    [sha],
  );
  return rows.map((r) => ({
    sha256: String(r.sha256),
    size: Number(r.size),
    base_sha256: r.base_sha256 === null ? null : String(r.base_sha256),
    base_parts: Number(r.base_parts),
    parts: String(r.parts),
  }));
}

/** Where a segment is stored. */
interface Location {
  sha256: string;
  pack: string;
  offset: number;
  length: number;
}

async function locate(db: Queryable, shas: readonly string[]): Promise<Map<string, Location>> {
  const out = new Map<string, Location>();
  for (let i = 0; i < shas.length; i += 500) {
    const slice = shas.slice(i, i + 500);
    const rows = await db.query<Record<string, unknown>>(
      `SELECT sha256, pack_sha256, pack_offset, pack_length FROM stored_objects
       WHERE pack_sha256 IS NOT NULL AND sha256 IN (${slice.map((_, j) => `$${j + 1}`).join(", ")})`,
      slice,
    );
    for (const r of rows) {
      out.set(String(r.sha256), {
        sha256: String(r.sha256),
        pack: String(r.pack_sha256),
        offset: Number(r.pack_offset),
        length: Number(r.pack_length),
      });
    }
  }
  return out;
}

/**
 * Reads and checks segments: per pack, members that lie next to each other are fetched with one ranged
 * read, and up to `concurrency` reads run at once. Each result says whether the bytes hash to the name.
 */
export async function readSegments(
  db: Queryable,
  objects: ObjectStore,
  shas: Iterable<string>,
  options: { concurrency?: number } = {},
): Promise<Map<string, MemberRead>> {
  const wanted = [...new Set(shas)];
  const located = await locate(db, wanted);
  const out = new Map<string, MemberRead>();
  for (const sha of wanted) {
    if (!located.has(sha)) out.set(sha, { ok: false, problem: "missing", detail: "has no stored location" });
  }
  const byPack = new Map<string, Location[]>();
  for (const loc of located.values()) byPack.set(loc.pack, [...(byPack.get(loc.pack) ?? []), loc]);
  const runs: Location[][] = [];
  for (const members of byPack.values()) {
    members.sort((a, b) => a.offset - b.offset);
    let run: Location[] = [];
    for (const m of members) {
      const last = run[run.length - 1];
      if (last && last.offset + last.length !== m.offset) {
        runs.push(run);
        run = [];
      }
      run.push(m);
    }
    if (run.length) runs.push(run);
  }
  let next = 0;
  const worker = async () => {
    while (next < runs.length) {
      const run = runs[next++];
      const start = run[0].offset;
      const last = run[run.length - 1];
      const bytes = await objects.getRange(run[0].pack, start, last.offset + last.length);
      for (const m of run) {
        const slice = bytes && bytes.length >= m.offset + m.length - start
          ? bytes.subarray(m.offset - start, m.offset - start + m.length)
          : null;
        const read = await openMember(slice, m.sha256);
        out.set(
          m.sha256,
          read.ok || read.problem !== "missing" ? read : { ...read, detail: `pack ${m.pack} is missing` },
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 16, runs.length) }, worker));
  return out;
}

/** Concatenates `parts` with segment bytes from `segments`; `null` when one of them is unreadable. */
export function assemble(parts: readonly Part[], segments: Map<string, MemberRead>): Uint8Array | null {
  const pieces: Uint8Array[] = [];
  for (const p of parts) {
    if (p.kind === "literal") pieces.push(p.bytes);
    else {
      const read = segments.get(p.sha256);
      if (!read?.ok) return null;
      pieces.push(read.bytes);
    }
  }
  const out = new Uint8Array(pieces.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of pieces) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/**
 * The exact bytes of body `sha`, or `null` when it is missing, a segment is missing or damaged, or the
 * reassembled bytes do not hash to `sha`.
 */
export async function readBody(db: Queryable, objects: ObjectStore, sha: string): Promise<Uint8Array | null> {
  const chain = await readManifestChain(db, sha);
  if (!chain.length) {
    // A small body shares its write batch's pack (`batch_pack.ts`); older and larger ones are objects.
    if (!(await locate(db, [sha])).size) return await loadBody(objects, sha);
    const read = (await readSegments(db, objects, [sha])).get(sha);
    return read?.ok ? read.bytes : null;
  }
  const parts = expandChain(chain);
  const segments = await readSegments(
    db,
    objects,
    parts.flatMap((p) => p.kind === "segment" ? [p.sha256] : []),
  );
  const bytes = assemble(parts, segments);
  return bytes && sha256Hex(bytes) === sha ? bytes : null;
}
