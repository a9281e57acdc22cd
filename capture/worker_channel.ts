/**
 * The proxy thread's side of the channel to the capture worker, bounded in bytes. A posted exchange stays
 * _in transit_ (kept here, counted in `inTransitBytes`) until the worker reports it durable in its journal.
 * Past `maxInTransitBytes`, while older exchanges wait to be posted, and while the worker is being
 * replaced, an exchange is built into its record here (credentials stripped, as the worker would) and
 * appended to the proxy's own _spill journal_ (`<data dir>/journal/spill/`) instead: it costs disk, not
 * memory. Spilled records are posted in order as acknowledgements make room, and leave the spill journal
 * once the worker has them in its journal; spill entries left at exit are posted after the next start.
 * A record in both journals after a crash is written once: the store recognises its exchange id.
 * An exchange whose response body is in a file (`spilling_body.ts`) counts that body in transit (the worker
 * reads it into memory); when it does not fit, it waits as a file name and is read, built and spilled one
 * at a time, so the end of a thousand long streams at once does not bring their bodies back into memory
 * together.
 *
 * The channel also watches the worker. One that dies, or is _wedged_ (alive but with exchanges in transit
 * and no word or acknowledgement, or records queued and none persisted, for `stallMs`), is replaced with
 * backoff, and everything in transit is posted again to its successor, which first replays the journal.
 * @module
 */
import { log } from "../core/log.ts";
import { type Journal, openJournal } from "./journal.ts";
import type { PipelineStats } from "./pipeline_stats.ts";
import { encodeRecord, recordOfEnded } from "./record.ts";
import { WorkerLink } from "./worker_link.ts";
import type { EndMessage, InitMessage } from "./worker_protocol.ts";

/** Options of `openChannel`. */
export interface ChannelOptions {
  url: URL;
  init: InitMessage;
  hmacKey: Uint8Array;
  /** The spill journal's directory. */
  spillDir: string;
  flushIntervalMs: number;
  maxInTransitBytes: number;
  /** No progress for this long while work is pending marks the worker wedged. */
  stallMs: number;
}

/** Counters for `/metrics`. */
export interface ChannelStats {
  inTransit: number;
  inTransitBytes: number;
  /** Records waiting in the spill journal, and exchanges with body files waiting to be posted or spilled. */
  spilled: number;
  /** Exchanges that did not fit in transit when they ended (spilled, or body files queued). */
  spilledTotal: number;
  restarts: number;
  wedged: number;
  /** Exchanges the worker could not journal. */
  failed: number;
  /** The current (or last) worker's pipeline stats. */
  worker: PipelineStats;
}

/** An exchange as `send` takes it: an `EndMessage` without its sequence number. */
export type Ended = Omit<EndMessage, "type" | "seq">;

/** An exchange with a body file waiting for room in transit. */
interface Waiting {
  message: EndMessage;
  bytes: number;
  waiter: { resolve(): void; reject(error: Error): void };
}

interface Entry {
  seq: number;
  bytes: number;
  /** The message, or `null` for a spilled record, read back from the spill journal when (re)posted. */
  message: EndMessage | null;
  spillId: number | null;
  waiter: { resolve(): void; reject(error: Error): void } | null;
  /** Workers that failed or wedged while this was the oldest message in transit. */
  blamed: number;
}

const RESTART_MAX_DELAY_MS = 30_000;
/** Bytes of records spilled from body files before waiting for the spill journal to flush them. */
const FILE_SPILL_FLUSH_BYTES = 4 * 1024 * 1024;
/** The oldest message in transit through this many failed workers is given up on (it may be the cause). */
const MAX_BLAME = 3;

/** Opens the spill journal, starts the worker and posts what an earlier run left spilled. */
export async function openChannel(options: ChannelOptions): Promise<CaptureChannel> {
  const spill = await openJournal({ dir: options.spillDir, flushIntervalMs: options.flushIntervalMs });
  const backlog: number[] = [];
  try {
    for await (const entry of spill.replay()) backlog.push(entry.id);
    const channel = new CaptureChannel(options, spill, backlog);
    await channel.connect();
    return channel;
  } catch (error) {
    await spill.close();
    throw error;
  }
}

/** See the module doc. Create with `openChannel`. */
export class CaptureChannel {
  #options: ChannelOptions;
  #spill: Journal;
  #backlog: number[];
  #head = 0;
  /** Exchanges with body files waiting for room, oldest first (see the module doc). */
  #waiting: Waiting[] = [];
  #spillingFiles: Promise<void> | null = null;
  #inTransit = new Map<number, Entry>();
  #bytes = 0;
  #seq = 0;
  #link: WorkerLink | null = null;
  #lastStats: PipelineStats | null = null;
  #replacing: Promise<void> | null = null;
  #reposting = false;
  #pumping = false;
  #closed = false;
  #idle: (() => void)[] = [];
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #marks = { transitAt: 0, received: -1, writeAt: 0, persisted: -1 };
  #counters = { spilledTotal: 0, restarts: 0, wedged: 0, failed: 0 };

  constructor(options: ChannelOptions, spill: Journal, backlog: number[]) {
    this.#options = options;
    this.#spill = spill;
    this.#backlog = backlog;
  }

  /** Starts the first worker and the watchdog. Internal, for `openChannel`. */
  async connect(): Promise<void> {
    this.#install(await this.#startWorker());
    const every = Math.max(10, Math.min(1000, this.#options.stallMs / 4));
    const watchdog = this.#watchdog = setInterval(() => this.#watch(), every);
    Deno.unrefTimer(watchdog);
    this.#pump();
  }

  /**
   * Posts an ended exchange, or spills it (see the module doc). Resolves once it is durable: in the
   * worker's journal if posted, in the spill journal if spilled.
   */
  send(ended: Ended): Promise<void> {
    const message: EndMessage = { type: "end", seq: ++this.#seq, ...ended };
    const bytes = sizeOf(message);
    if (
      this.#link && !this.#reposting && this.#spilled() === 0 && this.#waiting.length === 0 &&
      this.#fits(bytes)
    ) {
      const entry: Entry = { seq: message.seq, bytes, message, spillId: null, waiter: null, blamed: 0 };
      const durable = new Promise<void>((resolve, reject) => entry.waiter = { resolve, reject });
      this.#post(entry, null);
      return durable;
    }
    if (message.responseFile) {
      // Counted as spilled now: it did not fit, and its body is on disk already.
      this.#counters.spilledTotal++;
      return new Promise<void>((resolve, reject) => {
        this.#waiting.push({ message, bytes, waiter: { resolve, reject } });
        this.#spillingFiles ??= this.#spillFiles().finally(() => this.#spillingFiles = null);
      });
    }
    const { id, durable } = this.#spill.append(encodeRecord(recordOf(message, this.#options.hmacKey)));
    this.#backlog.push(id);
    this.#counters.spilledTotal++;
    return durable;
  }

  stats(): ChannelStats {
    const worker = this.#link?.stats ?? this.#lastStats!;
    return {
      inTransit: this.#inTransit.size,
      inTransitBytes: this.#bytes,
      spilled: this.#spilled() + this.#waiting.length,
      spilledTotal: this.#counters.spilledTotal,
      restarts: this.#counters.restarts,
      wedged: this.#counters.wedged,
      failed: this.#counters.failed,
      worker,
    };
  }

  /**
   * Waits until the worker has journaled what is in transit (or is gone), spills what it never got, and
   * closes the worker (which persists what it holds) and the spill journal. Spilled records stay on disk
   * for the next start.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#spillingFiles;
    await this.#replacing;
    if (this.#inTransit.size && this.#link) await new Promise<void>((resolve) => this.#idle.push(resolve));
    clearInterval(this.#watchdog);
    const unposted = [...this.#inTransit.values()].filter((entry) => entry.message !== null)
      .map((entry) => ({ message: entry.message!, waiter: entry.waiter }));
    for (const { message, waiter } of [...unposted, ...this.#waiting]) {
      const { durable } = this.#spill.append(encodeRecord(recordOf(message, this.#options.hmacKey)));
      if (waiter) durable.then(waiter.resolve, waiter.reject);
    }
    this.#waiting = [];
    this.#inTransit.clear();
    this.#bytes = 0;
    await this.#link?.close();
    await this.#spill.close();
  }

  #spilled(): number {
    return this.#backlog.length - this.#head;
  }

  #fits(bytes: number): boolean {
    // One exchange larger than the bound is posted alone rather than never.
    return this.#bytes === 0 || this.#bytes + bytes <= this.#options.maxInTransitBytes;
  }

  #post(entry: Entry, payload: Uint8Array | null): void {
    if (!this.#inTransit.has(entry.seq)) {
      this.#inTransit.set(entry.seq, entry);
      this.#bytes += entry.bytes;
    }
    try {
      if (entry.message) this.#link!.post(entry.message);
      // Read fresh from the spill journal for this post: moved to the worker, read again if posted again.
      else {this.#link!.post({ type: "record", seq: entry.seq, payload: payload! }, [
          payload!.buffer as ArrayBuffer,
        ]);}
    } catch {
      // The worker failed meanwhile: the entry stays in transit and goes to its replacement.
    }
  }

  #startWorker(): Promise<WorkerLink> {
    return WorkerLink.start(this.#options.url, this.#options.init, {
      durable: (seqs, failed) => this.#durable(seqs, failed),
      failed: (reason) => this.#failed(reason),
    });
  }

  #install(link: WorkerLink): void {
    this.#link = link;
    this.#lastStats = link.stats;
    const now = Date.now();
    this.#marks = { transitAt: now, received: -1, writeAt: now, persisted: -1 };
  }

  #durable(seqs: number[], failed: [number, string][]): void {
    for (const seq of seqs) {
      const entry = this.#take(seq);
      if (!entry) continue;
      if (entry.spillId !== null) this.#spill.markApplied(entry.spillId);
      entry.waiter?.resolve();
    }
    for (const [seq, error] of failed) {
      const entry = this.#take(seq);
      if (!entry) continue;
      // A spilled one stays unapplied in the spill journal and is posted again after the next start.
      this.#counters.failed++;
      log.error("capture.journal_failed", { exchangeId: entry.message?.exchange.id, error });
      entry.waiter?.reject(new Error(error));
    }
    this.#marks.transitAt = Date.now();
    this.#settle();
    this.#pump();
  }

  #take(seq: number): Entry | null {
    const entry = this.#inTransit.get(seq);
    if (!entry) return null;
    this.#inTransit.delete(seq);
    this.#bytes -= entry.bytes;
    return entry;
  }

  #settle(): void {
    if (this.#inTransit.size && this.#link) return;
    const waiters = this.#idle;
    this.#idle = [];
    for (const w of waiters) w();
  }

  /** Posts spilled records, oldest first, while they fit. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#spilled() && this.#link && !this.#reposting && !this.#closed) {
        const id = this.#backlog[this.#head];
        if (!this.#fits(this.#spill.entryBytes(id))) break;
        let payload: Uint8Array;
        try {
          payload = await this.#spill.read(id);
        } catch (error) {
          this.#counters.failed++;
          log.error("capture.spill_read_failed", { entry: id, error });
          this.#advance();
          continue;
        }
        if (!this.#link || this.#reposting) break;
        this.#advance();
        const entry: Entry = {
          seq: ++this.#seq,
          bytes: payload.length,
          message: null,
          spillId: id,
          waiter: null,
          blamed: 0,
        };
        this.#post(entry, payload);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Exchanges with body files, oldest first: posted if they fit by now, else read, built into records and
   * spilled, one at a time (and waiting for a flush every few MiB), so their bodies are never all in memory.
   */
  async #spillFiles(): Promise<void> {
    let unflushed = 0;
    while (this.#waiting.length && !this.#closed) {
      const { message, bytes, waiter } = this.#waiting.shift()!;
      if (this.#link && !this.#reposting && this.#spilled() === 0 && this.#fits(bytes)) {
        this.#post({ seq: message.seq, bytes, message, spillId: null, waiter, blamed: 0 }, null);
        continue;
      }
      let record: Uint8Array;
      try {
        const response = await Deno.readFile(message.responseFile!.path);
        record = encodeRecord(recordOf(message, this.#options.hmacKey, response));
      } catch (error) {
        this.#counters.failed++;
        log.error("capture.body_file_failed", { exchangeId: message.exchange.id, error });
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      const { id, durable } = this.#spill.append(record);
      this.#backlog.push(id);
      durable.then(waiter.resolve, waiter.reject);
      unflushed += record.length;
      if (unflushed > FILE_SPILL_FLUSH_BYTES) {
        await durable.catch(() => {});
        unflushed = 0;
      }
    }
    this.#pump();
  }

  #advance(): void {
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#backlog.length) {
      this.#backlog = this.#backlog.slice(this.#head);
      this.#head = 0;
    }
  }

  #watch(): void {
    const link = this.#link;
    if (!link || this.#reposting) return;
    const now = Date.now();
    const { stallMs } = this.#options;
    const marks = this.#marks;
    if (!this.#inTransit.size || link.received !== marks.received) {
      marks.received = link.received;
      marks.transitAt = now;
    }
    const stats = link.stats;
    const persisted = stats ? stats.written + stats.duplicates + stats.failed : 0;
    if (!stats?.queued || persisted !== marks.persisted) {
      marks.persisted = persisted;
      marks.writeAt = now;
    }
    let reason: string | null = null;
    if (now - marks.transitAt > stallMs) {
      reason = `capture worker took in nothing for ${now - marks.transitAt} ms (last heard ${
        now - link.heardAt
      } ms ago) with ${this.#inTransit.size} exchanges in transit`;
    } else if (now - marks.writeAt > stallMs) {
      reason = `capture worker persisted nothing for ${now - marks.writeAt} ms with ${
        stats?.queued ?? 0
      } records queued`;
    }
    if (!reason) return;
    this.#counters.wedged++;
    log.error("capture.worker_wedged", { reason, stallMs });
    link.kill(reason);
  }

  #failed(reason: string): void {
    this.#lastStats = this.#link?.stats ?? this.#lastStats;
    this.#link = null;
    log.error("capture.worker_failed", { reason, inTransit: this.#inTransit.size });
    const oldest = this.#inTransit.values().next().value;
    if (oldest && ++oldest.blamed >= MAX_BLAME) {
      // Posting it to yet another worker would likely end the same way; its spill entry, if any, stays on
      // disk for the next start.
      this.#take(oldest.seq);
      this.#counters.failed++;
      log.error("capture.dropped", {
        exchangeId: oldest.message?.exchange.id ?? null,
        spillEntry: oldest.spillId,
        reason: `in transit to ${MAX_BLAME} capture workers that each failed or wedged`,
      });
      oldest.waiter?.reject(new Error(`Capture gave up on exchange after ${MAX_BLAME} failed workers`));
    }
    this.#settle();
    if (!this.#closed) this.#replacing = this.#replace();
  }

  async #replace(): Promise<void> {
    let link: WorkerLink | null = null;
    for (let attempt = 1; !this.#closed && !link; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** (attempt - 1), RESTART_MAX_DELAY_MS)));
      if (this.#closed) break;
      try {
        link = await this.#startWorker();
        this.#counters.restarts++;
        log.warn("capture.worker_restarted", { attempt, inTransit: this.#inTransit.size });
      } catch (error) {
        log.error("capture.worker_restart_failed", { attempt, error });
      }
    }
    if (link) await this.#repost(link);
    this.#replacing = null;
    this.#pump();
  }

  /** Posts everything still in transit to a new worker, in order, before anything else. */
  async #repost(link: WorkerLink): Promise<void> {
    this.#reposting = true;
    this.#install(link);
    try {
      for (const entry of [...this.#inTransit.values()]) {
        if (link.down) break;
        const payload = entry.spillId === null ? null : await this.#spill.read(entry.spillId);
        if (this.#inTransit.has(entry.seq)) this.#post(entry, payload);
      }
    } catch (error) {
      log.error("capture.repost_failed", { error });
    } finally {
      this.#reposting = false;
    }
  }
}

/** Bytes an exchange holds in transit: its bodies and messages, plus its head. */
function sizeOf(message: EndMessage): number {
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

/** The record the worker would build from `message`; `response`: its body read from its file, if any. */
function recordOf(message: EndMessage, hmacKey: Uint8Array, response?: Uint8Array) {
  // Read here synchronously only at shutdown (`close`): the body must reach the spill journal.
  response ??= message.responseFile ? Deno.readFileSync(message.responseFile.path) : message.response;
  return recordOfEnded({ ...message, response }, hmacKey);
}
