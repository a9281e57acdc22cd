/**
 * Checks segmented bodies end to end: each body is reassembled from its manifest (delta chain in the
 * database) and its segments (members of packs in the object store) and re-hashed against the address
 * every turn and exchange row records. Each segment is also checked on its own, so a damaged or missing
 * one is named with every turn that uses it, however many bodies share it. Segments are read once per
 * run as far as a bounded cache allows (bodies are visited session by session, so a session's segments
 * stay cached while its turns are checked).
 * @module
 */
import { createHash } from "node:crypto";
import { expandChain, type Part } from "../../storage/bodies/manifest.ts";
import type { MemberRead } from "../../storage/bodies/pack.ts";
import { readManifestChain, readSegments } from "../../storage/bodies/read.ts";
import type { Db } from "../../storage/db/db.ts";
import type { ObjectStore } from "../../storage/objects/store.ts";
import type { ObjectRef } from "./object_check.ts";
import { type Problem, short } from "./report.ts";

const CACHE_BYTES = 256 * 1024 * 1024;

/** What the check found; `bodies` are the hashes it handled (the object check skips them). */
export interface SegmentCheck {
  problems: Problem[];
  bodies: Set<string>;
  segments: number;
}

function segmentsOf(parts: readonly Part[]): string[] {
  return [...new Set(parts.flatMap((p) => p.kind === "segment" ? [p.sha256] : []))];
}

/** Checks every segmented body among `refs`; `onProgress(done, total)` per body. */
export async function checkSegmentedBodies(
  db: Db,
  objects: ObjectStore,
  refs: Map<string, ObjectRef>,
  options: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<SegmentCheck> {
  const problems: Problem[] = [];
  const bodies = new Set<string>();
  const verdicts = new Map<string, Exclude<MemberRead, { ok: true }> | null>();
  const cache = new Map<string, Uint8Array>();
  let cached = 0;
  const reported = new Set<string>();
  const report = (kind: Problem["kind"], ref: ObjectRef, key: string, detail: string) => {
    const turns = ref.turnIds.length ? ref.turnIds : [ref.turnId];
    for (const turn of turns) {
      if (reported.has(`${key} ${turn}`)) continue;
      reported.add(`${key} ${turn}`);
      problems.push({ kind, turn_id: turn, session_id: ref.sessionId, detail });
    }
  };
  const entries = [...refs.entries()].filter(([, ref]) => ref.referenced);
  let done = 0;
  for (const [sha, ref] of entries) {
    options.onProgress?.(++done, entries.length);
    const chain = await readManifestChain(db, sha);
    if (!chain.length) continue;
    bodies.add(sha);
    let parts: Part[];
    try {
      parts = expandChain(chain);
    } catch (error) {
      report("object_missing", ref, `manifest ${sha}`, `body ${sha}: ${(error as Error).message}`);
      continue;
    }
    const unread = segmentsOf(parts).filter((s) =>
      !verdicts.has(s) || (verdicts.get(s) === null && !cache.has(s))
    );
    if (unread.length) {
      const reads = await readSegments(db, objects, unread, { concurrency: options.concurrency });
      for (const [seg, read] of reads) {
        if (!read.ok) {
          verdicts.set(seg, read);
          continue;
        }
        verdicts.set(seg, null);
        if (cached + read.bytes.length > CACHE_BYTES) {
          cache.clear();
          cached = 0;
        }
        cache.set(seg, read.bytes);
        cached += read.bytes.length;
      }
    }
    let damaged = false;
    for (const seg of segmentsOf(parts)) {
      const verdict = verdicts.get(seg);
      if (!verdict) continue;
      damaged = true;
      const uses = `used by body ${short(sha)}` + (ref.uses > 1 ? ` (named by ${ref.uses} rows)` : "");
      if (verdict.problem === "missing") {
        report("object_missing", ref, seg, `segment ${seg} is missing (${verdict.detail}); ${uses}`);
      } else report("object_modified", ref, seg, `segment ${seg} is ${verdict.detail}; ${uses}`);
    }
    if (damaged) continue;
    const hash = createHash("sha256");
    // The cache may have been cleared while this body's own segments were read: fetch those again.
    const evicted = segmentsOf(parts).filter((s) => !cache.has(s));
    if (evicted.length) {
      const again = await readSegments(db, objects, evicted, { concurrency: options.concurrency });
      for (const [seg, read] of again) if (read.ok) cache.set(seg, read.bytes);
    }
    for (const p of parts) {
      hash.update(p.kind === "literal" ? p.bytes : cache.get(p.sha256) ?? new Uint8Array());
    }
    const actual = hash.digest("hex");
    if (actual !== sha) {
      report(
        "object_modified",
        ref,
        `body ${sha}`,
        `body ${sha} reassembled from its manifest hashes to ${short(actual)}`,
      );
    }
  }
  problems.sort((a, b) =>
    a.detail.localeCompare(b.detail) || String(a.turn_id).localeCompare(String(b.turn_id))
  );
  return { problems, bodies, segments: verdicts.size };
}
