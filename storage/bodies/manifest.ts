/**
 * The manifest of a segmented body: the list of its parts in order, each either a segment (named by the
 * SHA-256 of its exact bytes) or literal bytes (what lies between segments). Concatenating the parts gives
 * back the body byte for byte. A manifest is stored as a delta: the first `base_parts` parts of an earlier
 * body's manifest, then its own parts, so a turn that resends a conversation stores only what changed.
 *
 * The own parts are kept deflated with the end of the base's parts as the preset dictionary (`z1:` + base64). A turn's
 * own parts are mostly what the previous turn also ended with: the hashes of the system prompt and tools
 * that follow the messages, and the literal bytes between them (a billing line, request ids, settings)
 * with a few characters changed, so they shrink to the changes: ~2 KB of JSON becomes ~0.3 KB. Rows written
 * before this encoding (plain JSON, starting with `[`) stay readable.
 * @module
 */
import { Buffer } from "node:buffer";
// fflate, because Deno's node:zlib ignores the `dictionary` option (measured on 2.9.6: same output with and
// without it), and the dictionary is the whole point here.
import { deflateSync, inflateSync } from "fflate";

function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function decodeBase64(text: string): Uint8Array {
  const buf = Buffer.from(text, "base64");
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** One part of a body. */
export type Part =
  | { kind: "segment"; sha256: string; size: number }
  | { kind: "literal"; bytes: Uint8Array };

/** A `body_manifests` row as read back. */
export interface ManifestRow {
  sha256: string;
  size: number;
  base_sha256: string | null;
  base_parts: number;
  parts: string;
}

const COMPRESSED = "z1:";
/**
 * The dictionary is the JSON of the base's last `DICTIONARY_PARTS` parts, at most its last `WINDOW` bytes:
 * what a turn repeats is the previous turn's tail (system blocks, tools, settings after the messages), and a
 * bounded dictionary keeps writing and reading a manifest O(1) in the session's length (the whole part list
 * as dictionary made each step of a 400-turn chain re-encode ~30 KB).
 */
const DICTIONARY_PARTS = 24;
const WINDOW = 8 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A literal as text when its bytes are UTF-8 (a JSON body's always are, unless cut inside a character),
 * so that similar literals of consecutive turns look alike to deflate (base64 shifts with alignment).
 */
function literalWire(bytes: Uint8Array): [string, string] {
  try {
    return ["t", utf8.decode(bytes)];
  } catch {
    return ["l", encodeBase64(bytes)];
  }
}

function partsJson(parts: readonly Part[]): string {
  return JSON.stringify(
    parts.map((p) => p.kind === "segment" ? ["s", p.sha256, p.size] : literalWire(p.bytes)),
  );
}

/** The preset dictionary for a manifest on `base` (the base's full part list): the end of its JSON. */
function dictionaryOf(base: readonly Part[] | null): Uint8Array | undefined {
  if (!base?.length) return undefined;
  const json = new TextEncoder().encode(partsJson(base.slice(-DICTIONARY_PARTS)));
  return json.subarray(Math.max(0, json.length - WINDOW));
}

/**
 * The text kept in `body_manifests.parts` for `parts`, the own parts of a manifest whose base has the full
 * part list `base` (`null` without a base). `decodeParts` needs the same `base` back.
 */
export function encodeParts(parts: readonly Part[], base: readonly Part[] | null = null): string {
  const packed = deflateSync(new TextEncoder().encode(partsJson(parts)), {
    level: 9,
    dictionary: dictionaryOf(base),
  });
  return COMPRESSED + encodeBase64(packed);
}

/** Reverses `encodeParts`; throws on anything else (a manifest row edited by hand). */
export function decodeParts(text: string, base: readonly Part[] | null = null): Part[] {
  let json = text;
  if (text.startsWith(COMPRESSED)) {
    try {
      const packed = decodeBase64(text.slice(COMPRESSED.length));
      json = new TextDecoder().decode(inflateSync(packed, { dictionary: dictionaryOf(base) }));
    } catch (error) {
      throw new TypeError(`Cannot read manifest parts: ${(error as Error).message}`);
    }
  }
  const raw = JSON.parse(json);
  if (!Array.isArray(raw)) throw new TypeError("Cannot read manifest parts: not a JSON array");
  return raw.map((item: unknown, i: number): Part => {
    if (
      Array.isArray(item) && item[0] === "s" && typeof item[1] === "string" && typeof item[2] === "number"
    ) {
      return { kind: "segment", sha256: item[1], size: item[2] };
    }
    if (Array.isArray(item) && item[0] === "l" && typeof item[1] === "string") {
      return { kind: "literal", bytes: decodeBase64(item[1]) };
    }
    if (Array.isArray(item) && item[0] === "t" && typeof item[1] === "string") {
      return { kind: "literal", bytes: new TextEncoder().encode(item[1]) };
    }
    throw new TypeError(`Cannot read manifest part ${i}: ${JSON.stringify(item).slice(0, 80)}`);
  });
}

/** Whether two parts are the same bytes. */
export function sameParts(a: Part, b: Part): boolean {
  if (a.kind === "segment") return b.kind === "segment" && a.sha256 === b.sha256;
  if (b.kind !== "literal" || a.bytes.length !== b.bytes.length) return false;
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}

/** How many leading parts `a` and `b` share. */
export function commonPrefix(a: readonly Part[], b: readonly Part[]): number {
  let n = 0;
  while (n < a.length && n < b.length && sameParts(a[n], b[n])) n++;
  return n;
}

/**
 * The full part list of the newest row of a delta chain. `chain` runs from the body asked for to the
 * manifest without a base (as `readManifestChain` returns it).
 */
export function expandChain(chain: readonly ManifestRow[]): Part[] {
  if (!chain.length) throw new RangeError("Cannot expand an empty manifest chain");
  const root = chain[chain.length - 1];
  if (root.base_sha256 !== null) {
    throw new Error(`Manifest ${root.sha256} names base ${root.base_sha256}, which is missing`);
  }
  let parts = decodeParts(root.parts, null);
  for (let i = chain.length - 2; i >= 0; i--) {
    const row = chain[i];
    if (row.base_parts > parts.length) {
      throw new Error(
        `Manifest ${row.sha256} keeps ${row.base_parts} parts of ${row.base_sha256}, which has ${parts.length}`,
      );
    }
    parts = parts.slice(0, row.base_parts).concat(decodeParts(row.parts, parts));
  }
  return parts;
}

/** Total bytes of `parts` (what the body's size must be). */
export function partsSize(parts: readonly Part[]): number {
  return parts.reduce((n, p) => n + (p.kind === "segment" ? p.size : p.bytes.length), 0);
}
