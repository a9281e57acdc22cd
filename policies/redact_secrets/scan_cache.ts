/**
 * What `redact-secrets` remembers between requests, so that only new text meets the rules. Agents resend
 * the whole conversation every turn; a text seen before is answered from here and its findings are applied
 * again, so every occurrence is still redacted while the cost of a long conversation stays close to the
 * JSON parse the gateway already pays.
 *
 * Two bounded maps:
 * - clean texts (first in, first out), keyed by the text itself: a lookup is V8's string hash plus one comparison, far cheaper
 *   than a digest. Only texts in which no rule found anything are kept this way.
 * - texts with findings (least recently used out), keyed by their SHA-256 and length, never by the text: the cache must not hold
 *   secrets. The entry lists positions, rules and keyed hashes only.
 * @module
 */
import { createHash } from "node:crypto";
import type { Redaction } from "./redact_text.ts";

/** Findings remembered for one text; an empty list means the text is clean. */
export type CachedScan = readonly Redaction[];

const CLEAN: CachedScan = Object.freeze([]);

export class ScanCache {
  // Insertion-ordered, evicted first-in first-out: refreshing recency on every hit would cost a second
  // hash lookup per text per request, and a resent conversation re-enters the cache after one rescan.
  readonly #clean = new Map<string, true>();
  readonly #dirty = new Map<string, CachedScan>();
  readonly #maxChars: number;
  readonly #maxDirty: number;
  #chars = 0;
  hits = 0;
  misses = 0;

  /**
   * @param maxChars characters of clean text kept (memory is about twice that in bytes); 0 disables.
   * @param maxDirty texts-with-findings kept (about 200 bytes each).
   */
  constructor(maxChars: number, maxDirty = 10_000) {
    if (!(maxChars >= 0)) throw new RangeError(`ScanCache maxChars must be ≥ 0, got ${maxChars}`);
    this.#maxChars = maxChars;
    this.#maxDirty = maxChars === 0 ? 0 : maxDirty;
  }

  /** What was found in `text` when it was last scanned, or `undefined` when it was not seen. */
  lookup(text: string): CachedScan | undefined {
    if (this.#clean.has(text)) {
      this.hits++;
      return CLEAN;
    }
    if (this.#dirty.size > 0) {
      const key = digest(text);
      const entry = this.#dirty.get(key);
      if (entry) {
        this.#dirty.delete(key);
        this.#dirty.set(key, entry);
        this.hits++;
        return entry;
      }
    }
    this.misses++;
    return undefined;
  }

  remember(text: string, findings: CachedScan): void {
    if (this.#maxChars === 0) return;
    if (findings.length === 0) {
      if (text.length > this.#maxChars || this.#clean.has(text)) return;
      this.#clean.set(text, true);
      this.#chars += text.length;
      for (const old of this.#clean.keys()) {
        if (this.#chars <= this.#maxChars) break;
        this.#clean.delete(old);
        this.#chars -= old.length;
      }
      return;
    }
    const key = digest(text);
    this.#dirty.delete(key);
    this.#dirty.set(key, findings);
    while (this.#dirty.size > this.#maxDirty) this.#dirty.delete(this.#dirty.keys().next().value!);
  }

  /** Texts remembered (clean and with findings). */
  get size(): number {
    return this.#clean.size + this.#dirty.size;
  }

  /** Characters of clean text held. */
  get chars(): number {
    return this.#chars;
  }
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("base64") + text.length;
}
