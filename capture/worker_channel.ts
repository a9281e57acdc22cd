/**
 * The proxy thread's side of the channel to the capture worker, bounded in bytes. A posted exchange stays
 * _in transit_ (kept here, counted in `inTransitBytes`, `in_transit.ts`) until the worker reports it
 * durable in its journal. Past `maxInTransitBytes`, while older exchanges wait to be posted, and while the
 * worker is being replaced, an exchange is built into its record here and spilled to the proxy's own
 * journal instead (`spill_backlog.ts`): it costs disk, not memory; spilled records are posted in order as
 * acknowledgements make room. A record in both journals after a crash is written once: the store
 * recognises its exchange id. An exchange whose response body is in a file (`spilling_body.ts`) counts that
 * body in transit (the worker reads it into memory).
 *
 * The worker is kept running by `worker_supervisor.ts`: one that dies or wedges is replaced, and everything
 * in transit is posted again to its successor, which first replays the journal.
 * @module
 */
import { log } from "../core/log.ts";
import { InTransit, MAX_BLAME, sizeOf, type TransitEntry } from "./in_transit.ts";
import type { PipelineStats } from "./pipeline_stats.ts";
import { encodeRecord } from "./record.ts";
import { openSpillBacklog, recordOf, type SpillBacklog, type SpillOutlet } from "./spill_backlog.ts";
import type { WorkerLink } from "./worker_link.ts";
import type { EndMessage, InitMessage } from "./worker_protocol.ts";
import { WorkerSupervisor } from "./worker_supervisor.ts";

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

/** Opens the spill journal, starts the worker and posts what an earlier run left spilled. */
export async function openChannel(options: ChannelOptions): Promise<CaptureChannel> {
  const spill = await openSpillBacklog({
    dir: options.spillDir,
    flushIntervalMs: options.flushIntervalMs,
    hmacKey: options.hmacKey,
  });
  try {
    const channel = new CaptureChannel(options, spill);
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
  #spill: SpillBacklog;
  #inTransit: InTransit;
  #seq = 0;
  #workers: WorkerSupervisor;
  #idle: (() => void)[] = [];
  #counters = { spilledTotal: 0, failed: 0 };
  /** How the spill backlog posts: only when a worker takes new messages and there is room. */
  #outlet: SpillOutlet = {
    ready: () => this.#workers.link !== null && !this.#workers.reposting,
    fits: (bytes) => this.#inTransit.fits(bytes),
    post: (entry, payload) => this.#post(entry, payload),
    nextSeq: () => ++this.#seq,
    failed: () => this.#counters.failed++,
  };

  constructor(options: ChannelOptions, spill: SpillBacklog) {
    this.#options = options;
    this.#spill = spill;
    this.#inTransit = new InTransit(options.maxInTransitBytes);
    this.#workers = new WorkerSupervisor(options, {
      durable: (seqs, failed) => this.#durable(seqs, failed),
      lost: () => this.#lost(),
      repost: (link) => this.#repost(link),
      resumed: () => this.#pump(),
      inTransit: () => this.#inTransit.size,
    });
  }

  /** Starts the first worker and the watchdog. Internal, for `openChannel`. */
  async connect(): Promise<void> {
    await this.#workers.start();
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
      this.#workers.link && !this.#workers.reposting && this.#spill.spilled === 0 &&
      this.#spill.waitingFiles === 0 && this.#inTransit.fits(bytes)
    ) {
      const entry: TransitEntry = {
        seq: message.seq,
        bytes,
        message,
        spillId: null,
        waiter: null,
        blamed: 0,
      };
      const durable = new Promise<void>((resolve, reject) => entry.waiter = { resolve, reject });
      this.#post(entry, null);
      return durable;
    }
    if (message.responseFile) {
      // Counted as spilled now: it did not fit, and its body is on disk already.
      this.#counters.spilledTotal++;
      return this.#spill.waitForRoom(message, bytes, this.#outlet);
    }
    const durable = this.#spill.spill(encodeRecord(recordOf(message, this.#options.hmacKey)));
    this.#counters.spilledTotal++;
    return durable;
  }

  stats(): ChannelStats {
    return {
      inTransit: this.#inTransit.size,
      inTransitBytes: this.#inTransit.bytes,
      spilled: this.#spill.spilled + this.#spill.waitingFiles,
      spilledTotal: this.#counters.spilledTotal,
      restarts: this.#workers.restarts,
      wedged: this.#workers.wedged,
      failed: this.#counters.failed,
      worker: this.#workers.stats,
    };
  }

  /**
   * Waits until the worker has journaled what is in transit (or is gone), spills what it never got, and
   * closes the worker (which persists what it holds) and the spill journal. Spilled records stay on disk
   * for the next start.
   */
  async close(): Promise<void> {
    this.#workers.stopReplacing();
    await this.#spill.stop();
    await this.#workers.replacing;
    if (this.#inTransit.size && this.#workers.link) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
    this.#workers.stopWatching();
    const unposted = this.#inTransit.entries().filter((entry) => entry.message !== null)
      .map((entry) => ({ message: entry.message!, waiter: entry.waiter }));
    for (const { message, waiter } of [...unposted, ...this.#spill.takeWaiting()]) {
      const durable = this.#spill.spillForNextStart(encodeRecord(recordOf(message, this.#options.hmacKey)));
      if (waiter) durable.then(waiter.resolve, waiter.reject);
    }
    this.#inTransit.clear();
    await this.#workers.link?.close();
    await this.#spill.close();
  }

  #post(entry: TransitEntry, payload: Uint8Array | null): void {
    this.#inTransit.add(entry);
    try {
      if (entry.message) this.#workers.link!.post(entry.message);
      // Read fresh from the spill journal for this post: moved to the worker, read again if posted again.
      else {this.#workers.link!.post({ type: "record", seq: entry.seq, payload: payload! }, [
          payload!.buffer as ArrayBuffer,
        ]);}
    } catch {
      // The worker failed meanwhile: the entry stays in transit and goes to its replacement.
    }
  }

  #durable(seqs: number[], failed: [number, string][]): void {
    for (const seq of seqs) {
      const entry = this.#inTransit.take(seq);
      if (!entry) continue;
      if (entry.spillId !== null) this.#spill.markApplied(entry.spillId);
      entry.waiter?.resolve();
    }
    for (const [seq, error] of failed) {
      const entry = this.#inTransit.take(seq);
      if (!entry) continue;
      // A spilled one stays unapplied in the spill journal and is posted again after the next start.
      this.#counters.failed++;
      log.error("capture.journal_failed", { exchangeId: entry.message?.exchange.id, error });
      entry.waiter?.reject(new Error(error));
    }
    this.#workers.noteProgress();
    this.#settle();
    this.#pump();
  }

  #settle(): void {
    if (this.#inTransit.size && this.#workers.link) return;
    const waiters = this.#idle;
    this.#idle = [];
    for (const w of waiters) w();
  }

  #pump(): void {
    this.#spill.pump(this.#outlet);
  }

  /** The worker failed: the oldest message in transit takes the blame, and waiters on idleness are told. */
  #lost(): void {
    const dropped = this.#inTransit.blameOldest();
    if (dropped) {
      // Its spill entry, if any, stays on disk for the next start.
      this.#counters.failed++;
      log.error("capture.dropped", {
        exchangeId: dropped.message?.exchange.id ?? null,
        spillEntry: dropped.spillId,
        reason: `in transit to ${MAX_BLAME} capture workers that each failed or wedged`,
      });
      dropped.waiter?.reject(new Error(`Capture gave up on exchange after ${MAX_BLAME} failed workers`));
    }
    this.#settle();
  }

  /** Posts everything still in transit to a new worker, in order, before anything else. */
  async #repost(link: WorkerLink): Promise<void> {
    try {
      for (const entry of this.#inTransit.entries()) {
        if (link.down) break;
        const payload = entry.spillId === null ? null : await this.#spill.read(entry.spillId);
        if (this.#inTransit.has(entry.seq)) this.#post(entry, payload);
      }
    } catch (error) {
      log.error("capture.repost_failed", { error });
    }
  }
}
