/**
 * The chunks of one body direction as capture keeps them: up to a limit, beyond which the body is cut and
 * the cut is named, so a record says when it does not hold the whole body.
 * @module
 */
import { concatChunks } from "./record.ts";

/** Largest body captured per direction by default. */
export const MAX_CAPTURED_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Chunks smaller than this, or views over a much larger buffer, are copied into the collector's own
 * blocks. Deno hands a `fetch` body over as views into 64 KiB read buffers: an SSE event of 300 bytes
 * kept as it came kept its whole 64 KiB alive until the exchange ended (measured: 1,000 streams of
 * 200 events held 1.3 GB this way, ~2 MB per stream).
 */
const KEEP_AS_IS_BYTES = 16 * 1024;
/** Own blocks grow with the body (a quarter of what is kept so far) between these sizes. */
const MIN_BLOCK_BYTES = 1024;
const MAX_BLOCK_BYTES = 64 * 1024;

/** See the module doc. */
export class BodyCollector {
  #chunks: Uint8Array[] = [];
  /** The block small chunks are copied into, and how much of it is used. */
  #block: Uint8Array | null = null;
  #blockUsed = 0;
  #what: "request" | "response";
  #limit: number;
  /** Bytes kept so far. */
  length = 0;
  /** Why the body is incomplete (`capture: request body cut at N bytes`), or null. */
  cut: string | null = null;

  constructor(what: "request" | "response", limit = MAX_CAPTURED_BODY_BYTES) {
    this.#what = what;
    this.#limit = limit;
  }

  add(chunk: Uint8Array): void {
    if (this.length >= this.#limit) return;
    if (this.length + chunk.length > this.#limit) {
      chunk = chunk.subarray(0, this.#limit - this.length);
      this.cut = `capture: ${this.#what} body cut at ${this.#limit} bytes`;
    }
    if (chunk.length === 0) return;
    this.length += chunk.length;
    if (chunk.length >= KEEP_AS_IS_BYTES && chunk.length * 2 >= chunk.buffer.byteLength) {
      this.#seal();
      this.#chunks.push(chunk);
      return;
    }
    if (this.#block === null || this.#block.length - this.#blockUsed < chunk.length) {
      this.#seal();
      const size = Math.min(MAX_BLOCK_BYTES, Math.max(MIN_BLOCK_BYTES, this.length >> 2));
      this.#block = new Uint8Array(Math.max(size, chunk.length));
    }
    this.#block.set(chunk, this.#blockUsed);
    this.#blockUsed += chunk.length;
  }

  /** Moves the used part of the current block to the finished chunks. */
  #seal(): void {
    if (this.#block !== null && this.#blockUsed > 0) {
      this.#chunks.push(this.#block.subarray(0, this.#blockUsed));
    }
    this.#block = null;
    this.#blockUsed = 0;
  }

  #all(): Uint8Array[] {
    if (this.#block === null || this.#blockUsed === 0) return this.#chunks;
    return [...this.#chunks, this.#block.subarray(0, this.#blockUsed)];
  }

  /** The body as one array (a single large chunk is returned as it is, not copied). */
  bytes(): Uint8Array {
    return concatChunks(this.#all());
  }

  /**
   * The body in one fresh buffer in shared memory: posted to another thread without a copy, and still
   * readable here to post again.
   */
  shared(): Uint8Array {
    const out = new Uint8Array(new SharedArrayBuffer(this.length));
    let offset = 0;
    for (const c of this.#all()) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}
