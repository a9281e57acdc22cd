/**
 * Where a chat request body splits into segments. Every agent turn resends the whole conversation, so the
 * parts that recur from turn to turn (system prompt, tool definitions, each earlier message) are cut out
 * at the exact byte boundaries of their values and stored once; what lies between them stays literal.
 *
 * | wire format | segments |
 * | --- | --- |
 * | Anthropic Messages | `system` (each block when it is a list), `tools`, each of `messages[i]` |
 * | OpenAI Chat Completions | `tools`, each of `messages[i]` |
 * | OpenAI Responses | `instructions`, `tools`, each of `input[i]` |
 * | Gemini | `systemInstruction`, `tools`, each of `contents[i]` |
 * | Code Assist | the same inside `request` |
 *
 * An element (a message, a system block) is cut further into its large values (a tool result's text, a
 * file's content) when little would stay literal around them. Clients rewrite an old message in small
 * ways from turn to turn: Claude Code moves the `cache_control` breakpoint off the previous message and
 * changes the billing line at the head of `system` on every request. Whole, each such element would be
 * stored again; cut, only its few changed literal bytes are new.
 *
 * The rule is by member name, not by API, so a body is split the same way whichever route it took.
 * @example
 * const spans = splitBody(bytes); // null: store whole
 * @module
 */
import { type EndCache, scanArray, scanObject, skipSpace, type Span } from "./scan.ts";

/** Bodies smaller than this are stored whole: a manifest would save nothing worth its rows. */
export const MIN_SEGMENTED_BODY_BYTES = 16 * 1024;
/** Values smaller than this stay literal in the manifest instead of becoming a segment of their own. */
export const MIN_SEGMENT_BYTES = 256;
/**
 * An element is cut into its large values only when at most this many of its bytes would stay literal
 * (they go into the manifest row); otherwise it is one segment.
 */
export const MAX_ELEMENT_LITERAL_BYTES = 384;

/** Options of `splitBody`; the defaults are the constants above. */
export interface SplitOptions {
  minBody?: number;
  minSegment?: number;
  /** `0` keeps every element whole. */
  maxElementLiteral?: number;
}

/** Members stored as one segment each. */
const WHOLE = new Set(["tools", "instructions", "systemInstruction"]);
/** Members whose array elements are stored as one segment each (or cut further, see the module doc). */
const PER_ELEMENT = new Set(["messages", "input", "contents", "system"]);
/** A member whose object is split by the same rules (Code Assist wraps the Gemini request). */
const WRAPPER = "request";

const OPEN_OBJECT = 0x7b, OPEN_ARRAY = 0x5b;

/** The spans of the values of the container at `start` (members' values or elements), or `null`. */
function childValues(bytes: Uint8Array, start: number, ends: EndCache): Span[] | null {
  if (bytes[start] === OPEN_ARRAY) return scanArray(bytes, start, ends);
  const members = scanObject(bytes, start, ends);
  return members?.map((m) => ({ start: m.valueStart, end: m.valueEnd })) ?? null;
}

/**
 * The segments of one value, found within at most `budget` literal bytes: the value's own large
 * descendants, or `null` when cutting it would leave more than `budget` bytes literal (or it has no large
 * descendant): then the caller keeps it whole.
 */
function largeValues(
  bytes: Uint8Array,
  span: Span,
  minSegment: number,
  budget: number,
  ends: EndCache,
): Span[] | null {
  const first = bytes[span.start];
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) return null;
  const children = childValues(bytes, span.start, ends);
  if (!children) return null;
  const out: Span[] = [];
  let literal = span.end - span.start;
  for (const child of children) {
    const size = child.end - child.start;
    if (size < minSegment) continue;
    // Prefer the child whole; cut into it only when it is a container whose own literal fits what is left.
    const inner = largeValues(bytes, child, minSegment, budget - (literal - size), ends);
    if (inner) {
      out.push(...inner);
      for (const s of inner) literal -= s.end - s.start;
    } else {
      out.push(child);
      literal -= size;
    }
  }
  return out.length && literal <= budget ? out : null;
}

function pushElement(
  bytes: Uint8Array,
  span: Span,
  out: Span[],
  options: Required<SplitOptions>,
  ends: EndCache,
): void {
  const cut = options.maxElementLiteral > 0
    ? largeValues(bytes, span, options.minSegment, options.maxElementLiteral, ends)
    : null;
  if (cut) out.push(...cut);
  else out.push(span);
}

function splitObject(
  bytes: Uint8Array,
  start: number,
  out: Span[],
  nested: boolean,
  options: Required<SplitOptions>,
  ends: EndCache,
): boolean {
  const members = scanObject(bytes, start, ends);
  if (!members) return false;
  for (const m of members) {
    const span = { start: m.valueStart, end: m.valueEnd };
    if (PER_ELEMENT.has(m.key) && bytes[m.valueStart] === OPEN_ARRAY) {
      const elements = scanArray(bytes, m.valueStart, ends);
      if (!elements) return false;
      for (const e of elements) pushElement(bytes, e, out, options, ends);
    } else if (WHOLE.has(m.key) || m.key === "system") out.push(span);
    else if (m.key === WRAPPER && !nested && bytes[m.valueStart] === OPEN_OBJECT) {
      if (!splitObject(bytes, m.valueStart, out, true, options, ends)) return false;
    }
  }
  return true;
}

/**
 * The segment spans of `bytes` in order (non-overlapping, each at least `minSegment` bytes), or `null`
 * when the body should be stored whole: not a JSON object, smaller than `minBody`, or nothing to cut.
 */
export function splitBody(bytes: Uint8Array, options: SplitOptions = {}): Span[] | null {
  const settings: Required<SplitOptions> = {
    minBody: options.minBody ?? MIN_SEGMENTED_BODY_BYTES,
    minSegment: options.minSegment ?? MIN_SEGMENT_BYTES,
    maxElementLiteral: options.maxElementLiteral ?? MAX_ELEMENT_LITERAL_BYTES,
  };
  if (bytes.length < settings.minBody) return null;
  const start = skipSpace(bytes, 0);
  if (bytes[start] !== OPEN_OBJECT) return null;
  const spans: Span[] = [];
  if (!splitObject(bytes, start, spans, false, settings, new Map())) return null;
  const kept = spans.filter((s) => s.end - s.start >= settings.minSegment);
  return kept.length ? kept : null;
}
