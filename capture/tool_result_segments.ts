/**
 * Which tool results of a request are segments of its body. A tool result's text usually arrives as one
 * large JSON string that `capture/segments/split.ts` cuts out as a segment of its own, stored once in a
 * pack; copying the same text into the `tool_results` row stored it twice. When a segment's exact bytes
 * are a JSON string whose value holds the parsed tool result's text (the parser trims it), the row names
 * that segment and the text's range in it instead (the SHA-256 covers the text byte for byte). Texts the
 * parser derived otherwise (several blocks joined, a reminder cut out) match no segment and stay in the row.
 * @example
 * const [at] = toolResultSegments(body, spans, ["file contents…"]); // { sha256, from, to } or null
 * @module
 */
import { sha256Hex } from "../storage/objects/content.ts";
import type { SegmentSpan } from "../storage/bodies/write.ts";

/** Tool results shorter than this stay in their rows: a segment name (64 hex) would save nothing. */
export const MIN_REFERENCED_CHARS = 256;
/**
 * Spans searched per tool result, from the end: a turn's results are in its last message, so a text that
 * matches none of them (a reminder stripped from its middle) costs a bounded search, not the whole body.
 */
const SPANS_PER_RESULT = 4;

/** Where a tool result's text lies: `text.slice(from, to)` of the JSON string that segment `sha256` is. */
export interface TextInSegment {
  sha256: string;
  from: number;
  to: number;
}

const QUOTE = 0x22;
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * For each of `contents`, the segment of `bytes` (cut at `spans`) that is a JSON string containing that
 * text (the parser trims a result's text, so it may be a slice of the string), or `null`. Only spans that
 * are quoted and long enough to hold a text are decoded, at most a few per result.
 */
export function toolResultSegments(
  bytes: Uint8Array,
  spans: readonly SegmentSpan[],
  contents: readonly string[],
): (TextInSegment | null)[] {
  const out: (TextInSegment | null)[] = contents.map(() => null);
  const wanted = new Set(contents.flatMap((text, i) => text.length >= MIN_REFERENCED_CHARS ? [i] : []));
  if (!wanted.size) return out;
  const shortest = Math.min(...[...wanted].map((i) => contents[i].length)) + 2;
  const oldest = Math.max(0, spans.length - SPANS_PER_RESULT * wanted.size - 4);
  for (let s = spans.length - 1; s >= oldest && wanted.size; s--) {
    const { start, end } = spans[s];
    if (end - start < shortest || bytes[start] !== QUOTE || bytes[end - 1] !== QUOTE) continue;
    let text: unknown;
    try {
      text = JSON.parse(decoder.decode(bytes.subarray(start, end)));
    } catch {
      continue; // a quoted span that is not one JSON string is simply no match
    }
    if (typeof text !== "string") continue;
    let sha: string | null = null;
    for (const i of wanted) {
      const from = text.indexOf(contents[i]);
      if (from < 0) continue;
      sha ??= sha256Hex(bytes.subarray(start, end));
      out[i] = { sha256: sha, from, to: from + contents[i].length };
      wanted.delete(i);
    }
  }
  return out;
}
