/**
 * The process-wide capture journal: an append-only log of finished exchanges that is the first place a
 * record becomes durable. Appends are grouped and fsync'd at most once per flush interval (group commit),
 * so hundreds of exchanges share one fsync. On open, segments left by a previous run are offered for
 * replay; a torn or corrupt tail (a crash mid-write) ends a segment's replay quietly. Once every entry of a
 * segment has been applied to the stores, the segment file is deleted (compaction).
 *
 * Layout: `<data dir>/journal/<16-digit number>.log`, entries framed as
 * `[u32 magic "RCJ1"][u32 payload length][u32 CRC-32 of payload][payload]`, little-endian.
 * @module
 */
import { join } from "node:path";
import { log } from "../core/log.ts";
import { crc32 } from "./crc32.ts";

const MAGIC = 0x314a4352; // "RCJ1" read little-endian
const HEADER = 12;

/** Options of `openJournal`. */
export interface JournalOptions {
  dir: string;
  /** Longest time an append waits for its fsync; also the minimum spacing between fsyncs. */
  flushIntervalMs: number;
  /** The active segment rotates once it grows past this (default 16 MiB). */
  segmentBytes?: number;
}

/** An entry of a previous run, offered for replay. */
export interface ReplayEntry {
  id: number;
  payload: Uint8Array;
}

/** Backlog numbers for metrics. */
export interface JournalStats {
  segments: number;
  /** Entries appended or replayed and not yet applied to the stores. */
  unapplied: number;
  /** Bytes in segments still on disk. */
  bytes: number;
  fsyncs: number;
}

interface Segment {
  number: number;
  path: string;
  size: number;
  unapplied: number;
  closed: boolean;
}

interface Location {
  segment: Segment;
  offset: number;
  length: number;
  durable: Promise<void>;
}

/** Opens the journal in `options.dir`, creating it. Entries of earlier runs come from `replay()`. */
export async function openJournal(options: JournalOptions): Promise<Journal> {
  await Deno.mkdir(options.dir, { recursive: true });
  // Two processes replaying and compacting one journal would lose records: one owner at a time.
  const lock = await Deno.open(join(options.dir, "lock"), { create: true, write: true, mode: 0o600 });
  if (!(await lock.tryLock(true))) {
    lock.close();
    throw new Error(`Capture journal ${options.dir} is in use by another Recondo process`);
  }
  const old: Segment[] = [];
  for await (const entry of Deno.readDir(options.dir)) {
    const match = entry.name.match(/^(\d{16})\.log$/);
    if (entry.isFile && match) {
      const path = join(options.dir, entry.name);
      old.push({
        number: Number(match[1]),
        path,
        size: (await Deno.stat(path)).size,
        unapplied: 0,
        closed: true,
      });
    }
  }
  old.sort((a, b) => a.number - b.number);
  const journal = new Journal(options, old, lock);
  await journal.rotate();
  return journal;
}

/** See the module doc. Create with `openJournal`. */
export class Journal {
  #options: Required<JournalOptions>;
  #old: Segment[];
  #segments = new Map<number, Segment>();
  #active: Segment | null = null;
  #file: Deno.FsFile | null = null;
  #locations = new Map<number, Location>();
  #nextId = 1;
  #pending: { bytes: Uint8Array; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #flushing: Promise<void> | null = null;
  #lastFlush = 0;
  #fsyncs = 0;
  #closed = false;
  #rotating = false;

  #lock: Deno.FsFile;

  constructor(options: JournalOptions, old: Segment[], lock: Deno.FsFile) {
    this.#lock = lock;
    this.#options = { segmentBytes: 16 * 1024 * 1024, ...options };
    this.#old = old;
    for (const s of old) this.#segments.set(s.number, s);
  }

  /**
   * Appends `payload`; returns its id at once and a promise that resolves once it is on disk (fsync'd).
   * The promise rejects if the write fails; the caller decides what that means for the exchange.
   */
  append(payload: Uint8Array): { id: number; durable: Promise<void> } {
    if (this.#closed || !this.#active) throw new Error("Cannot append to a closed capture journal");
    const segment = this.#active;
    const framed = new Uint8Array(HEADER + payload.length);
    const view = new DataView(framed.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint32(4, payload.length, true);
    view.setUint32(8, crc32(payload), true);
    framed.set(payload, HEADER);
    const id = this.#nextId++;
    const offset = segment.size;
    segment.size += framed.length;
    segment.unapplied++;
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const durable = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    durable.catch(() => {}); // observed by callers that care; never an unhandled rejection here
    this.#pending.push({ bytes: framed, resolve, reject });
    this.#locations.set(id, { segment, offset: offset + HEADER, length: payload.length, durable });
    this.#schedule();
    return { id, durable };
  }

  /** Reads back an appended entry (for records spilled out of memory); waits until it is on disk. */
  async read(id: number): Promise<Uint8Array> {
    const at = this.#locations.get(id);
    if (!at) throw new Error(`Capture journal has no unapplied entry ${id}`);
    await at.durable;
    const file = await Deno.open(at.segment.path, { read: true });
    try {
      await file.seek(at.offset, Deno.SeekMode.Start);
      const out = new Uint8Array(at.length);
      let got = 0;
      while (got < out.length) {
        const n = await file.read(out.subarray(got));
        if (n === null) throw new Error(`Capture journal ${at.segment.path} ends inside entry ${id}`);
        got += n;
      }
      return out;
    } finally {
      file.close();
    }
  }

  /** Payload length of an unapplied entry, without reading it. */
  entryBytes(id: number): number {
    const at = this.#locations.get(id);
    if (!at) throw new Error(`Capture journal has no unapplied entry ${id}`);
    return at.length;
  }

  /** Entries of previous runs, oldest first; ends a segment quietly at a torn or corrupt tail. */
  async *replay(): AsyncIterable<ReplayEntry> {
    for (const segment of this.#old) {
      const bytes = await Deno.readFile(segment.path);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let offset = 0;
      const found: { id: number; payload: Uint8Array }[] = [];
      while (offset + HEADER <= bytes.length) {
        const length = view.getUint32(offset + 4, true);
        const end = offset + HEADER + length;
        if (view.getUint32(offset, true) !== MAGIC || end > bytes.length) break;
        const payload = bytes.subarray(offset + HEADER, end);
        if (crc32(payload) !== view.getUint32(offset + 8, true)) break;
        const id = this.#nextId++;
        this.#locations.set(id, { segment, offset: offset + HEADER, length, durable: Promise.resolve() });
        found.push({ id, payload });
        offset = end;
      }
      if (offset < bytes.length) {
        log.warn("journal.torn_tail", { segment: segment.path, validBytes: offset, fileBytes: bytes.length });
      }
      segment.unapplied += found.length;
      if (found.length === 0) await this.#dropIfDone(segment);
      for (const entry of found) yield entry;
    }
    this.#old = [];
  }

  /** The entry reached the stores; its segment is deleted once all its entries have. */
  markApplied(id: number): void {
    const at = this.#locations.get(id);
    if (!at) return;
    this.#locations.delete(id);
    at.segment.unapplied--;
    if (at.segment.unapplied > 0) return;
    if (at.segment.closed) {
      this.#dropIfDone(at.segment).catch((error) => log.error("journal.compact_failed", { error }));
    } else if (at.segment.size >= 1024 * 1024 && this.#pending.length === 0 && !this.#flushing) {
      // Everything in the active segment is applied: start a fresh one so the old can go.
      this.rotate().catch((error) => log.error("journal.rotate_failed", { error }));
    }
  }

  stats(): JournalStats {
    let bytes = 0;
    let unapplied = 0;
    for (const s of this.#segments.values()) {
      bytes += s.size;
      unapplied += s.unapplied;
    }
    return { segments: this.#segments.size, unapplied, bytes, fsyncs: this.#fsyncs };
  }

  /** Writes what is pending, fsyncs it, and closes the file. Unapplied entries stay for the next run. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#file?.close();
    this.#file = null;
    if (this.#active) {
      this.#active.closed = true;
      await this.#dropIfDone(this.#active);
    }
    this.#lock.close();
  }

  /**
   * Stops as a crash would: pending appends are lost, nothing is compacted, the lock is released.
   * For crash tests in one process; a real crash needs no call.
   */
  abandon(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#pending = [];
    this.#file?.close();
    this.#file = null;
    this.#lock.close();
  }

  /** Flushes now (used by close and tests); resolves when everything appended so far is durable. */
  async flush(): Promise<void> {
    while (this.#flushing || this.#pending.length) {
      if (this.#flushing) await this.#flushing;
      else await this.#runFlush();
    }
  }

  /** Closes the active segment and opens the next one. Internal, exposed for `openJournal`. */
  async rotate(): Promise<void> {
    if (this.#rotating) return;
    this.#rotating = true;
    try {
      const number = Math.max(0, ...this.#segments.keys()) + 1;
      const path = join(this.#options.dir, `${String(number).padStart(16, "0")}.log`);
      const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
      // Pending bytes belong to the old file; swap only once none are left, with no await in between.
      while (this.#flushing || this.#pending.length) await this.flush();
      const previous = this.#active;
      this.#file?.close();
      this.#file = file;
      this.#active = { number, path, size: 0, unapplied: 0, closed: false };
      this.#segments.set(number, this.#active);
      if (previous) {
        previous.closed = true;
        await this.#dropIfDone(previous);
      }
    } finally {
      this.#rotating = false;
    }
  }

  async #dropIfDone(segment: Segment): Promise<void> {
    if (!segment.closed || segment.unapplied > 0 || !this.#segments.has(segment.number)) return;
    this.#segments.delete(segment.number);
    await Deno.remove(segment.path).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  #schedule(): void {
    if (this.#timer !== null || this.#flushing) return;
    const wait = Math.max(0, this.#lastFlush + this.#options.flushIntervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#runFlush().catch((error) => log.error("journal.flush_failed", { error }));
    }, wait);
  }

  #runFlush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const batch = this.#pending;
    this.#pending = [];
    this.#flushing = (async () => {
      try {
        if (!batch.length || !this.#file) return;
        let size = 0;
        for (const p of batch) size += p.bytes.length;
        const all = new Uint8Array(size);
        let offset = 0;
        for (const p of batch) {
          all.set(p.bytes, offset);
          offset += p.bytes.length;
        }
        let written = 0;
        while (written < all.length) written += await this.#file.write(all.subarray(written));
        await this.#file.syncData();
        this.#fsyncs++;
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error);
        throw error;
      } finally {
        this.#lastFlush = Date.now();
        this.#flushing = null;
        if (this.#pending.length && !this.#closed) this.#schedule();
        if (this.#active && this.#active.size >= this.#options.segmentBytes && !this.#closed) {
          this.rotate().catch((error) => log.error("journal.rotate_failed", { error }));
        }
      }
    })();
    return this.#flushing;
  }
}
