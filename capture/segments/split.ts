/**
 * Where a chat request body splits into segments. Every agent turn resends the whole conversation, so the
 * parts that recur from turn to turn (system prompt, tool definitions, each earlier message) are cut out
 * at the exact byte boundaries of their values and stored once; what lies between them stays literal.
 *
 * | wire format | segments |
 * | --- | --- |
 * | Anthropic Messages | `system`, `tools`, each of `messages[i]` |
 * | OpenAI Chat Completions | `tools`, each of `messages[i]` |
 * | OpenAI Responses | `instructions`, `tools`, each of `input[i]` |
 * | Gemini | `systemInstruction`, `tools`, each of `contents[i]` |
 * | Code Assist | the same inside `request` |
 *
 * The rule is by member name, not by API, so a body is split the same way whichever route it took.
 * @example
 * const spans = splitBody(bytes); // null: store whole
 * @module
 */
import { scanArray, scanObject, skipSpace, type Span } from "./scan.ts";

/** Bodies smaller than this are stored whole: a manifest would save nothing worth its rows. */
export const MIN_SEGMENTED_BODY_BYTES = 16 * 1024;
/** Values smaller than this stay literal in the manifest instead of becoming a segment of their own. */
export const MIN_SEGMENT_BYTES = 256;

/** Members stored as one segment each. */
const WHOLE = new Set(["system", "tools", "instructions", "systemInstruction"]);
/** Members whose array elements are stored as one segment each. */
const PER_ELEMENT = new Set(["messages", "input", "contents"]);
/** A member whose object is split by the same rules (Code Assist wraps the Gemini request). */
const WRAPPER = "request";

function splitObject(bytes: Uint8Array, start: number, out: Span[], nested: boolean): boolean {
  const members = scanObject(bytes, start);
  if (!members) return false;
  for (const m of members) {
    if (WHOLE.has(m.key)) out.push({ start: m.valueStart, end: m.valueEnd });
    else if (PER_ELEMENT.has(m.key) && bytes[m.valueStart] === 0x5b) {
      const elements = scanArray(bytes, m.valueStart);
      if (!elements) return false;
      out.push(...elements);
    } else if (m.key === WRAPPER && !nested && bytes[m.valueStart] === 0x7b) {
      if (!splitObject(bytes, m.valueStart, out, true)) return false;
    }
  }
  return true;
}

/**
 * The segment spans of `bytes` in order (non-overlapping, each at least `minSegment` bytes), or `null`
 * when the body should be stored whole: not a JSON object, smaller than `minBody`, or nothing to cut.
 */
export function splitBody(
  bytes: Uint8Array,
  options: { minBody?: number; minSegment?: number } = {},
): Span[] | null {
  if (bytes.length < (options.minBody ?? MIN_SEGMENTED_BODY_BYTES)) return null;
  const start = skipSpace(bytes, 0);
  if (bytes[start] !== 0x7b) return null;
  const spans: Span[] = [];
  if (!splitObject(bytes, start, spans, false)) return null;
  const minSegment = options.minSegment ?? MIN_SEGMENT_BYTES;
  const kept = spans.filter((s) => s.end - s.start >= minSegment);
  return kept.length ? kept : null;
}
