/**
 * A small JSON scanner over raw bytes: it finds where values begin and end without decoding or
 * re-serialising anything, so the byte ranges it returns cut the original body exactly. It checks only
 * the structure it walks (strings, brackets, separators); a body it cannot walk is not segmented.
 * Multi-byte UTF-8 never matters: every structural byte is ASCII and no continuation byte is below 0x80.
 * @example
 * const top = scanObject(bytes, 0); // [{ key: "model", keyStart, valueStart, valueEnd }, ...] or null
 * @module
 */

/** One member of an object: its key (decoded) and the byte range `[valueStart, valueEnd)` of its value. */
export interface Member {
  key: string;
  valueStart: number;
  valueEnd: number;
}

/** A byte range `[start, end)` of the scanned bytes. */
export interface Span {
  start: number;
  end: number;
}

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const OPEN_OBJECT = 0x7b, CLOSE_OBJECT = 0x7d, OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** The first non-whitespace position at or after `i`. */
export function skipSpace(bytes: Uint8Array, i: number): number {
  while (i < bytes.length && isSpace(bytes[i])) i++;
  return i;
}

/**
 * End (exclusive) of the string starting at `i` (on its opening quote), or -1. Jumps from quote to quote
 * with the native `indexOf` (strings are most of a chat body: a byte loop here was capture's largest cost
 * on long sessions); a quote preceded by an odd run of backslashes is escaped.
 */
function stringEnd(bytes: Uint8Array, i: number): number {
  let j = i;
  for (;;) {
    j = bytes.indexOf(QUOTE, j + 1);
    if (j < 0) return -1;
    let slashes = 0;
    while (bytes[j - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return j + 1;
  }
}

/**
 * Ends of the containers found so far in one body, by start offset. A walk records the end of every
 * container it passes through, so cutting a message, then its content, then a block, walks each byte once
 * instead of once per level (`splitBody` descends three or four levels into every message).
 */
export type EndCache = Map<number, number>;

/**
 * End (exclusive) of the value starting at `i`, or -1 when the bytes are not a complete value. Nested
 * objects and arrays are walked by depth; scalars end at the next separator or closing bracket. With
 * `ends`, container ends are looked up there first and recorded there as the walk closes them.
 */
export function valueEnd(bytes: Uint8Array, i: number, ends?: EndCache): number {
  const first = bytes[i];
  if (first === QUOTE) return stringEnd(bytes, i);
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    let j = i;
    while (
      j < bytes.length && !isSpace(bytes[j]) && bytes[j] !== COMMA && bytes[j] !== CLOSE_OBJECT &&
      bytes[j] !== CLOSE_ARRAY && bytes[j] !== COLON
    ) j++;
    return j > i ? j : -1;
  }
  const known = ends?.get(i);
  if (known !== undefined) return known;
  const open: number[] = [];
  for (let j = i; j < bytes.length; j++) {
    const b = bytes[j];
    if (b === QUOTE) {
      j = stringEnd(bytes, j) - 1;
      if (j < 0) return -1;
    } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      const skip = open.length ? ends?.get(j) : undefined;
      if (skip !== undefined) j = skip - 1;
      else open.push(j);
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      const start = open.pop()!;
      ends?.set(start, j + 1);
      if (!open.length) return j + 1;
    }
  }
  return -1;
}

/** Walks a container's items (`[`/`{` at `start`); `null` when it is malformed. */
function items(
  bytes: Uint8Array,
  start: number,
  open: number,
  close: number,
  onItem: (i: number) => number,
): number | null {
  if (bytes[start] !== open) return null;
  let i = skipSpace(bytes, start + 1);
  if (bytes[i] === close) return i + 1;
  for (;;) {
    const end = onItem(i);
    if (end < 0) return null;
    i = skipSpace(bytes, end);
    if (bytes[i] === close) return i + 1;
    if (bytes[i] !== COMMA) return null;
    i = skipSpace(bytes, i + 1);
  }
}

/** The members of the object at `start`, or `null` when there is none there. */
export function scanObject(bytes: Uint8Array, start: number, ends?: EndCache): Member[] | null {
  const members: Member[] = [];
  const end = items(bytes, start, OPEN_OBJECT, CLOSE_OBJECT, (i) => {
    if (bytes[i] !== QUOTE) return -1;
    const keyEnd = stringEnd(bytes, i);
    if (keyEnd < 0) return -1;
    const colon = skipSpace(bytes, keyEnd);
    if (bytes[colon] !== COLON) return -1;
    const valueStart = skipSpace(bytes, colon + 1);
    const end = valueEnd(bytes, valueStart, ends);
    if (end < 0) return -1;
    let key: string;
    try {
      key = JSON.parse(new TextDecoder().decode(bytes.subarray(i, keyEnd)));
    } catch {
      return -1;
    }
    members.push({ key, valueStart, valueEnd: end });
    return end;
  });
  return end === null ? null : members;
}

/** The element spans of the array at `start`, or `null` when there is none there. */
export function scanArray(bytes: Uint8Array, start: number, ends?: EndCache): Span[] | null {
  const spans: Span[] = [];
  const end = items(bytes, start, OPEN_ARRAY, CLOSE_ARRAY, (i) => {
    const end = valueEnd(bytes, i, ends);
    if (end >= 0) spans.push({ start: i, end });
    return end;
  });
  return end === null ? null : spans;
}
