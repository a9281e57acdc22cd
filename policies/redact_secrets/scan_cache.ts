/**
 * A bounded LRU of texts already scanned, keyed by their SHA-256 (never by the text: the cache must not
 * hold secrets). Agents resend the whole conversation every turn; with this, only new text meets the
 * regexes, while old text costs one hash and its remembered findings are applied again.
 * @module
 */
import { createHash } from "node:crypto";
import type { Redaction } from "./redact_text.ts";

/** Findings remembered for one text; an empty list means the text is clean. */
export type CachedScan = readonly Redaction[];

export class ScanCache {
  readonly #entries = new Map<string, CachedScan>();
  readonly #max: number;
  hits = 0;
  misses = 0;

  constructor(maxEntries: number) {
    if (!(maxEntries >= 0)) throw new RangeError(`ScanCache maxEntries must be ≥ 0, got ${maxEntries}`);
    this.#max = maxEntries;
  }

  /** The cache key of a text: its SHA-256 and length. */
  key(text: string): string {
    return createHash("sha256").update(text).digest("base64") + text.length;
  }

  get(key: string): CachedScan | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Refresh recency: Map iterates in insertion order, so the first key is the least recently used.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  set(key: string, scan: CachedScan): void {
    if (this.#max === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, scan);
    while (this.#entries.size > this.#max) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
