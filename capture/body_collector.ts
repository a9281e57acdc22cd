/**
 * The chunks of one body direction as capture keeps them: up to a limit, beyond which the body is cut and
 * the cut is named, so a record says when it does not hold the whole body.
 * @module
 */
import { concatChunks } from "./record.ts";

/** Largest body captured per direction by default. */
export const MAX_CAPTURED_BODY_BYTES = 64 * 1024 * 1024;

/** See the module doc. */
export class BodyCollector {
  #chunks: Uint8Array[] = [];
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
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The body as one array (a single chunk is returned as it is, not copied). */
  bytes(): Uint8Array {
    return concatChunks(this.#chunks);
  }

  /**
   * The body in one fresh buffer in shared memory: posted to another thread without a copy, and still
   * readable here to post again.
   */
  shared(): Uint8Array {
    const out = new Uint8Array(new SharedArrayBuffer(this.length));
    let offset = 0;
    for (const c of this.#chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}
