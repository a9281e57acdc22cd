/**
 * A response body collected for capture that stays small in memory however long the stream runs. Up to
 * `memoryBytes` it is kept like any body (`BodyCollector`); past that, the whole body moves to a file of its
 * own and further chunks are appended in blocks, so a stream held open for ten minutes costs one block of
 * memory, not its whole body, and a thousand streams ending in the same second hand the capture worker file
 * names instead of copies of their bodies. The worker reads the file when it takes the exchange in, and the
 * file is removed once the record is durable in a journal (the file itself is never the durable copy).
 *
 * Writes are asynchronous: the proxy's thread never waits for the disk while the stream runs. All body
 * files share one queue of file operations, each block opened, appended and closed: with a file kept open
 * per stream and writes in parallel, 300 streams crossing the threshold together held 300 more descriptors
 * and had Deno start blocking threads for the concurrent file operations (6 → 12 threads, RSS +15 MB).
 * @module
 */
import { join } from "node:path";
import { log } from "../core/log.ts";
import { BodyCollector, MAX_CAPTURED_BODY_BYTES } from "./body_collector.ts";

/** Bytes kept in memory before a body moves to its file. */
export const SPILL_BODY_ABOVE_BYTES = 32 * 1024;
/** Size of the blocks appended to the file (one write each). */
const BLOCK_BYTES = 16 * 1024;

/** The one queue of body-file operations (see the module doc). */
let fileQueue: Promise<void> = Promise.resolve();

/**
 * Blocks whose write is done, for the next block of any body. A block that went to the garbage collector
 * after its write instead stayed allocated until a collection, thousands of 16 KiB blocks freed in bursts
 * in between longer-lived allocations (measured, 500 streams × 3 min: with capture the gateway's RSS
 * grew ~125 KB per stream over the streams' life, without capture it stayed flat).
 */
const freeBlocks: Uint8Array[] = [];
/** Free blocks kept at most: enough for the writes of a burst, little when idle (64 × 16 KiB = 1 MiB). */
const MAX_FREE_BLOCKS = 64;

function takeBlock(): Uint8Array {
  return freeBlocks.pop() ?? new Uint8Array(BLOCK_BYTES);
}

function giveBack(block: Uint8Array): void {
  if (freeBlocks.length < MAX_FREE_BLOCKS) freeBlocks.push(block);
}

/** A body that was moved to a file: its path and length. */
export interface BodyFile {
  path: string;
  length: number;
}

/** What a finished body is: bytes in memory, or a file. */
export type FinishedBody = { bytes: Uint8Array; file: null } | { bytes: null; file: BodyFile };

/** Options of `SpillingBody`. */
export interface SpillingBodyOptions {
  /** Directory of the body files (created on first use). */
  dir: string;
  /** File name (unique per exchange). */
  name: string;
  memoryBytes?: number;
  limit?: number;
}

/** Removes a body file, in the same queue as the writes (so removing a thousand does not start threads). */
export function removeBodyFile(path: string): Promise<void> {
  const done = fileQueue.then(() => Deno.remove(path).catch(() => {}));
  fileQueue = done;
  return done;
}

/** See the module doc. */
export class SpillingBody {
  #memory: BodyCollector;
  #options: SpillingBodyOptions;
  #limit: number;
  /** Whether the body moved to its file. */
  #spilled = false;
  /** Whether the file was created yet (the first block truncates what a crashed run left). */
  #created = false;
  #path = "";
  #writing: Promise<void> = Promise.resolve();
  #block: Uint8Array | null = null;
  #blockUsed = 0;
  #failure: Error | null = null;
  /** Bytes collected so far (in memory or in the file). */
  length = 0;
  /** Why the body is incomplete, or null. */
  cut: string | null = null;

  constructor(options: SpillingBodyOptions) {
    this.#options = options;
    this.#limit = options.limit ?? MAX_CAPTURED_BODY_BYTES;
    this.#memory = new BodyCollector("response", this.#limit);
  }

  add(chunk: Uint8Array): void {
    if (!this.#spilled) {
      this.#memory.add(chunk);
      this.length = this.#memory.length;
      this.cut = this.#memory.cut;
      if (this.length > (this.#options.memoryBytes ?? SPILL_BODY_ABOVE_BYTES)) this.#spill();
      return;
    }
    if (this.#failure || this.length >= this.#limit) return;
    if (this.length + chunk.length > this.#limit) {
      chunk = chunk.subarray(0, this.#limit - this.length);
      this.cut = `capture: response body cut at ${this.#limit} bytes`;
    }
    this.length += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      this.#block ??= takeBlock();
      const n = Math.min(chunk.length - at, BLOCK_BYTES - this.#blockUsed);
      this.#block.set(chunk.subarray(at, at + n), this.#blockUsed);
      this.#blockUsed += n;
      at += n;
      if (this.#blockUsed === BLOCK_BYTES) this.#flushBlock();
    }
  }

  /**
   * The body once every write is done: bytes if it stayed small (in shared memory, to post to the worker
   * without a copy), else its closed file. A failed write
   * leaves the body empty and says why in `cut`, so the record never claims a body it does not hold.
   */
  async finish(): Promise<FinishedBody> {
    if (!this.#spilled) return { bytes: this.#memory.shared(), file: null };
    this.#flushBlock();
    await this.#writing;
    if (this.#failure) {
      this.cut = `capture: response body lost: writing ${this.#path} failed: ${this.#failure.message}`;
      await removeBodyFile(this.#path);
      return { bytes: new Uint8Array(), file: null };
    }
    return { bytes: null, file: { path: this.#path, length: this.length } };
  }

  /** Moves what is in memory to the file; from now on chunks go there. */
  #spill(): void {
    this.#spilled = true;
    this.#path = join(this.#options.dir, `${this.#options.name}.body`);
    this.#append(this.#memory.bytes());
    this.#memory = new BodyCollector("response", 0);
  }

  #flushBlock(): void {
    if (this.#block === null) return;
    if (this.#blockUsed === 0) giveBack(this.#block);
    else this.#append(this.#block.subarray(0, this.#blockUsed), this.#block);
    this.#block = null;
    this.#blockUsed = 0;
  }

  /** Appends `bytes` to the file, in the queue; `block`, which holds them, is reused once written. */
  #append(bytes: Uint8Array, block: Uint8Array | null = null): void {
    const done = fileQueue.then(async () => {
      try {
        if (this.#failure) return; // inside the try: the block still goes back below
        if (!this.#created) await Deno.mkdir(this.#options.dir, { recursive: true });
        const create = !this.#created;
        this.#created = true;
        using file = await Deno.open(this.#path, { write: true, create, truncate: create, append: !create });
        let written = 0;
        while (written < bytes.length) written += await file.write(bytes.subarray(written));
      } catch (error) {
        this.#fail(error);
      } finally {
        if (block) giveBack(block);
      }
    });
    fileQueue = this.#writing = done;
  }

  #fail(error: unknown): void {
    if (this.#failure) return;
    this.#failure = error instanceof Error ? error : new Error(String(error));
    log.error("capture.body_spill_failed", { path: this.#path, error: this.#failure });
  }
}
