/**
 * Checks the tool results kept as segments of their request bodies (`content_sha256`, see
 * `storage/tool_result_text.ts`): the turn's hash covers the segment's name, and this check that the
 * segment still hashes to it and is a JSON string. A tampered tool result is reported as the segment it
 * is, with every turn whose tool result it holds (besides the turns whose bodies use it, which the segment
 * check reports).
 * @module
 */
import { readSegments } from "../../storage/bodies/read.ts";
import type { Db } from "../../storage/db/db.ts";
import type { ObjectStore } from "../../storage/objects/store.ts";
import type { Problem } from "./report.ts";

/** Tool-result segments to check: segment hash → the turns (and their session) whose result it holds. */
export type ToolResultSegments = Map<string, { turnIds: string[]; sessionId: string }>;

/** Adds the segment-kept tool results among `rows` (one session's `tool_results`) to `into`. */
export function collectToolResultSegments(
  into: ToolResultSegments,
  sessionId: string,
  rows: Iterable<Record<string, unknown>>,
): void {
  for (const r of rows) {
    const sha = r.content_sha256;
    if (typeof sha !== "string" || !sha) continue;
    const entry = into.get(sha) ?? { turnIds: [], sessionId };
    const turn = String(r.turn_id);
    if (!entry.turnIds.includes(turn)) entry.turnIds.push(turn);
    into.set(sha, entry);
  }
}

/** Reads every segment in `segments` and reports each that is missing, damaged or not a JSON string. */
export async function checkToolResultSegments(
  db: Db,
  objects: ObjectStore,
  segments: ToolResultSegments,
  options: { concurrency?: number } = {},
): Promise<Problem[]> {
  const problems: Problem[] = [];
  const reads = await readSegments(db, objects, segments.keys(), { concurrency: options.concurrency });
  for (const [sha, read] of reads) {
    let why: string | null = null;
    if (!read.ok) why = read.detail;
    else {
      try {
        if (typeof JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(read.bytes)) !== "string") {
          why = "is not a JSON string";
        }
      } catch (error) {
        why = `is not a JSON string (${(error as Error).message})`;
      }
    }
    if (why === null) continue;
    const { turnIds, sessionId } = segments.get(sha)!;
    const kind = !read.ok && read.problem === "missing" ? "object_missing" : "object_modified";
    for (const turn of turnIds) {
      problems.push({
        kind,
        turn_id: turn,
        session_id: sessionId,
        detail: `tool result segment ${sha} ${why}; holds a tool result of turn ${turn}`,
      });
    }
  }
  return problems;
}
