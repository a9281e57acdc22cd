/**
 * Re-hashes objects: fetches each gzipped object, decompresses it, takes SHA-256 over the exact bytes and
 * compares it with the address it is stored under (which is also the hash the turn and exchange rows
 * record). A few objects are in flight at once so S3 latency and gunzip (libuv's thread pool) overlap.
 * @module
 */
import { gunzipBytes, sha256Hex } from "../../storage/objects/content.ts";
import type { ObjectStore } from "../../storage/objects/store.ts";
import { type Problem, short } from "./report.ts";

/** Who refers to an object; `referenced: false` for objects found only by listing the store. */
export interface ObjectRef {
  referenced: boolean;
  turnId: string | null;
  /** Every turn that refers to it (a shared body or segment is reported for each of them). */
  turnIds: string[];
  sessionId: string | null;
  /** How many turns and exchanges refer to it (deduplicated bodies are shared). */
  uses: number;
}

/** Checks every object in `refs`; `onProgress(done, total)` after each one. */
export async function checkObjects(
  store: ObjectStore,
  refs: Map<string, ObjectRef>,
  options: {
    concurrency?: number;
    onProgress?: (done: number, total: number) => void;
    /** Objects removed by policy (`deletions` rows with target `object`): sha256 → why and when. */
    deleted?: Map<string, { reason: string; deleted_at: number }>;
  } = {},
): Promise<{ problems: Problem[]; checked: number }> {
  const problems: Problem[] = [];
  const entries = [...refs.entries()];
  let next = 0;
  let done = 0;
  const problem = (kind: Problem["kind"], ref: ObjectRef, detail: string) =>
    problems.push({ kind, turn_id: ref.turnId, session_id: ref.sessionId, detail });
  const worker = async () => {
    while (next < entries.length) {
      const [sha, ref] = entries[next++];
      const uses = ref.uses > 1 ? ` (shared by ${ref.uses} rows)` : "";
      const gz = await store.get(sha);
      const deletion = options.deleted?.get(sha);
      if (gz === null && deletion) {
        problem(
          "deleted_by_policy",
          ref,
          `object ${sha} was removed by policy at ${
            new Date(deletion.deleted_at).toISOString()
          } (${deletion.reason}), yet a row still names it`,
        );
      } else if (gz === null) {
        problem("object_missing", ref, `object ${sha} is not in the ${store.kind} store${uses}`);
      } else {
        let bytes: Uint8Array | null = null;
        try {
          bytes = await gunzipBytes(gz);
        } catch (error) {
          problem(
            "object_modified",
            ref,
            `object ${sha} is not valid gzip any more: ${(error as Error).message}`,
          );
        }
        if (bytes) {
          const actual = sha256Hex(bytes);
          if (actual !== sha) {
            problem("object_modified", ref, `object ${sha} now hashes to ${short(actual)}${uses}`);
          }
        }
      }
      options.onProgress?.(++done, entries.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, entries.length) }, worker));
  problems.sort((a, b) => a.detail.localeCompare(b.detail));
  return { problems, checked: entries.length };
}
