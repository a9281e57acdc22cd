/**
 * The exchanges posted to the capture worker and not yet reported durable in its journal, and the bytes
 * they hold. The proxy's thread keeps each one until then, to post it again to a replacement should the
 * worker die or wedge; the byte bound (`capture.maxInTransitBytes`) is what decides, in
 * `worker_channel.ts`, whether the next exchange is posted or spilled.
 * @module
 */
import type { EndMessage } from "./worker_protocol.ts";

/** One message in transit. */
export interface TransitEntry {
  seq: number;
  bytes: number;
  /** The message, or `null` for a spilled record, read back from the spill journal when (re)posted. */
  message: EndMessage | null;
  spillId: number | null;
  waiter: { resolve(): void; reject(error: Error): void } | null;
  /** Workers that failed or wedged while this was the oldest message in transit. */
  blamed: number;
}

/** The oldest message in transit through this many failed workers is given up on (it may be the cause). */
export const MAX_BLAME = 3;

/** See the module doc. Entries are kept in the order they were posted. */
export class InTransit {
  #entries = new Map<number, TransitEntry>();
  #bytes = 0;
  #maxBytes: number;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Whether `bytes` more fit under the bound. */
  fits(bytes: number): boolean {
    // One exchange larger than the bound is posted alone rather than never.
    return this.#bytes === 0 || this.#bytes + bytes <= this.#maxBytes;
  }

  /** Counts `entry` in transit, unless it is already (posted again to a replacement worker). */
  add(entry: TransitEntry): void {
    if (!this.#entries.has(entry.seq)) {
      this.#entries.set(entry.seq, entry);
      this.#bytes += entry.bytes;
    }
  }

  has(seq: number): boolean {
    return this.#entries.has(seq);
  }

  /** Removes and returns the entry `seq`, or `null` when it is not in transit (any more). */
  take(seq: number): TransitEntry | null {
    const entry = this.#entries.get(seq);
    if (!entry) return null;
    this.#entries.delete(seq);
    this.#bytes -= entry.bytes;
    return entry;
  }

  /** The entry posted first of those still in transit. */
  oldest(): TransitEntry | undefined {
    return this.#entries.values().next().value;
  }

  /**
   * Blames the oldest entry for a worker that failed or wedged. Once blamed `MAX_BLAME` times it is taken
   * out of transit and returned, to be given up on: posting it to yet another worker would likely end the
   * same way.
   */
  blameOldest(): TransitEntry | null {
    const oldest = this.oldest();
    if (!oldest || ++oldest.blamed < MAX_BLAME) return null;
    return this.take(oldest.seq);
  }

  /** Every entry, oldest first, as a copy: safe to iterate while entries are taken. */
  entries(): TransitEntry[] {
    return [...this.#entries.values()];
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}

/** Bytes an exchange holds in transit: its bodies and messages, plus its head. */
export function sizeOf(message: EndMessage): number {
  let bytes = 512 + message.request.byteLength + message.response.byteLength +
    (message.responseFile?.length ?? 0);
  for (const m of message.messages) {
    bytes += typeof m.data === "string" ? m.data.length * 3 : m.data.byteLength;
  }
  const { request, response } = message.exchange;
  for (const [k, v] of Object.entries(request.headers)) bytes += k.length + v.length;
  for (const [k, v] of Object.entries(response?.headers ?? {})) bytes += k.length + v.length;
  return bytes + request.path.length;
}
