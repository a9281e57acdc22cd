/**
 * The text of `tool_results` rows however it is kept: plain, deflated in the row (`packed_text.ts`), or as
 * a segment of the turn's request body named by `content_sha256` (`capture/tool_result_segments.ts`),
 * whose exact bytes are a JSON string; the text is its `content_from`…`content_to` slice. Segments are read with the body store's ranged reads
 * (`bodies/read.ts`), all of a page's at once, and checked against their names; one that is missing or
 * damaged, or no object store at hand, gives a marker naming the segment instead of failing the page.
 * `verify` reads the rows as stored (the hash covers the name) and checks the segments itself.
 * @example
 * const rows = await withToolResultTexts(db, objects, await db.query("SELECT * FROM tool_results WHERE turn_id = $1", [id]));
 * @module
 */
import type { Queryable, Row } from "./db/db.ts";
import { readSegments } from "./bodies/read.ts";
import type { ObjectStore } from "./objects/store.ts";
import { withToolResultText } from "./packed_text.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** What a row shows when its segment cannot be read. */
export function unreadableSegmentText(sha: string, why: string): string {
  return `[recondo: tool result segment ${sha} ${why}]`;
}

function segmentText(bytes: Uint8Array, sha: string, row: Row): string {
  try {
    const value = JSON.parse(decoder.decode(bytes));
    if (typeof value === "string") {
      return value.slice(Number(row.content_from ?? 0), Number(row.content_to ?? value.length));
    }
  } catch (error) {
    return unreadableSegmentText(sha, `is not a JSON string: ${(error as Error).message}`);
  }
  return unreadableSegmentText(sha, "is not a JSON string");
}

/** `rows` with `content` always the text (and `content_deflated` gone); see the module doc. */
export async function withToolResultTexts<T extends Row>(
  db: Queryable,
  objects: ObjectStore | null,
  rows: T[],
): Promise<T[]> {
  const plain = withToolResultText(rows);
  const shas = plain.flatMap((r) => typeof r.content_sha256 === "string" ? [r.content_sha256] : []);
  if (!shas.length) return plain;
  const reads = objects ? await readSegments(db, objects, shas) : new Map();
  return plain.map((r) => {
    const sha = r.content_sha256;
    if (typeof sha !== "string") return r;
    const read = reads.get(sha);
    const content = !objects
      ? unreadableSegmentText(sha, "is in the object store, which is not configured here")
      : read?.ok
      ? segmentText(read.bytes, sha, r)
      : unreadableSegmentText(sha, read?.detail ?? "is missing");
    return { ...r, content };
  });
}
