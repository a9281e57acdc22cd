/**
 * Appends many small strings cheaply in time and memory. `a += b` per stream delta builds a rope with one
 * node (~20 bytes) per delta, which for a long response costs as much as the text itself; this joins the
 * pieces in batches into flat strings instead.
 * @module
 */

const BATCH = 512;

/** A growing string built from deltas. */
export class TextBuffer {
  #flat = "";
  #parts: string[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  append(piece: string): void {
    if (piece.length === 0) return;
    this.#parts.push(piece);
    this.#length += piece.length;
    if (this.#parts.length >= BATCH) this.#flush();
  }

  /** Replaces the whole content. */
  set(text: string): void {
    this.#flat = text;
    this.#parts = [];
    this.#length = text.length;
  }

  toString(): string {
    if (this.#parts.length > 0) this.#flush();
    return this.#flat;
  }

  #flush(): void {
    this.#flat += this.#parts.join("");
    this.#parts = [];
  }
}
