/**
 * The manifest of a segmented body: the list of its parts in order, each either a segment (named by the
 * SHA-256 of its exact bytes) or literal bytes (what lies between segments). Concatenating the parts gives
 * back the body byte for byte. A manifest is stored as a delta: the first `base_parts` parts of an earlier
 * body's manifest, then its own parts, so a turn that resends a conversation stores only what changed.
 * @module
 */
import { Buffer } from "node:buffer";

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

/** The JSON kept in `body_manifests.parts`. */
export function encodeParts(parts: readonly Part[]): string {
  return JSON.stringify(
    parts.map((p) => p.kind === "segment" ? ["s", p.sha256, p.size] : ["l", encodeBase64(p.bytes)]),
  );
}

/** Reverses `encodeParts`; throws on anything else (a manifest row edited by hand). */
export function decodeParts(text: string): Part[] {
  const raw = JSON.parse(text);
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
  let parts = decodeParts(root.parts);
  for (let i = chain.length - 2; i >= 0; i--) {
    const row = chain[i];
    if (row.base_parts > parts.length) {
      throw new Error(
        `Manifest ${row.sha256} keeps ${row.base_parts} parts of ${row.base_sha256}, which has ${parts.length}`,
      );
    }
    parts = parts.slice(0, row.base_parts).concat(decodeParts(row.parts));
  }
  return parts;
}

/** Total bytes of `parts` (what the body's size must be). */
export function partsSize(parts: readonly Part[]): number {
  return parts.reduce((n, p) => n + (p.kind === "segment" ? p.size : p.bytes.length), 0);
}
