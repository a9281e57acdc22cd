/**
 * Keeps a capture worker running for the channel (`worker_channel.ts`). Starts it; watches it, and kills
 * one that is _wedged_ (alive but with exchanges in transit and no word or acknowledgement, or records
 * queued and none persisted, for `stallMs`); replaces a worker that died or was killed, with backoff, and
 * has the channel post everything still in transit to the successor (which first replays the journal)
 * before anything else. The channel decides what happens to the messages; this module only to the worker.
 * @module
 */
import { log } from "../core/log.ts";
import type { PipelineStats } from "./pipeline_stats.ts";
import { WorkerLink } from "./worker_link.ts";
import type { InitMessage } from "./worker_protocol.ts";

/** Options of `WorkerSupervisor`. */
export interface SupervisorOptions {
  url: URL;
  init: InitMessage;
  /** No progress for this long while work is pending marks the worker wedged. */
  stallMs: number;
}

/** What the supervisor tells, and asks of, the channel that owns it. */
export interface SupervisorEvents {
  /** From the current worker: messages now in its journal, and those it failed to journal. */
  durable(seqs: number[], failed: [number, string][]): void;
  /** The worker failed or was killed; `link` is `null` until a replacement is up. */
  lost(): void;
  /** A replacement is up: post it everything still in transit, in order. Must not throw. */
  repost(link: WorkerLink): Promise<void>;
  /** The replacement has what was in transit (or none could be started): post what waits. */
  resumed(): void;
  /** Exchanges in transit now, for the watchdog and the logs. */
  inTransit(): number;
}

const RESTART_MAX_DELAY_MS = 30_000;

/** See the module doc. */
export class WorkerSupervisor {
  #options: SupervisorOptions;
  #events: SupervisorEvents;
  #link: WorkerLink | null = null;
  #lastStats: PipelineStats | null = null;
  #replacing: Promise<void> | null = null;
  #reposting = false;
  #closed = false;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #marks = { transitAt: 0, received: -1, writeAt: 0, persisted: -1 };
  #counters = { restarts: 0, wedged: 0 };

  constructor(options: SupervisorOptions, events: SupervisorEvents) {
    this.#options = options;
    this.#events = events;
  }

  /** Starts the first worker and the watchdog. */
  async start(): Promise<void> {
    this.#install(await this.#startWorker());
    const every = Math.max(10, Math.min(1000, this.#options.stallMs / 4));
    const watchdog = this.#watchdog = setInterval(() => this.#watch(), every);
    Deno.unrefTimer(watchdog);
  }

  /** The current worker, or `null` while it is being replaced. */
  get link(): WorkerLink | null {
    return this.#link;
  }

  /** Whether a new worker is being given what was in transit: nothing else may be posted meanwhile. */
  get reposting(): boolean {
    return this.#reposting;
  }

  /** A replacement under way, if any. */
  get replacing(): Promise<void> | null {
    return this.#replacing;
  }

  /** The current (or last) worker's pipeline stats. */
  get stats(): PipelineStats {
    return this.#link?.stats ?? this.#lastStats!;
  }

  /** Times a failed or wedged worker was replaced. */
  get restarts(): number {
    return this.#counters.restarts;
  }

  /** Times a worker was killed as wedged. */
  get wedged(): number {
    return this.#counters.wedged;
  }

  /** The worker acknowledged messages: progress, for the watchdog. */
  noteProgress(): void {
    this.#marks.transitAt = Date.now();
  }

  /** No worker is replaced from now on (shutdown); the watchdog still runs. */
  stopReplacing(): void {
    this.#closed = true;
  }

  stopWatching(): void {
    clearInterval(this.#watchdog);
  }

  #startWorker(): Promise<WorkerLink> {
    return WorkerLink.start(this.#options.url, this.#options.init, {
      durable: (seqs, failed) => this.#events.durable(seqs, failed),
      failed: (reason) => this.#failed(reason),
    });
  }

  #install(link: WorkerLink): void {
    this.#link = link;
    this.#lastStats = link.stats;
    const now = Date.now();
    this.#marks = { transitAt: now, received: -1, writeAt: now, persisted: -1 };
  }

  #watch(): void {
    const link = this.#link;
    if (!link || this.#reposting) return;
    const now = Date.now();
    const { stallMs } = this.#options;
    const marks = this.#marks;
    const inTransit = this.#events.inTransit();
    if (!inTransit || link.received !== marks.received) {
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
      } ms ago) with ${inTransit} exchanges in transit`;
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
    log.error("capture.worker_failed", { reason, inTransit: this.#events.inTransit() });
    this.#events.lost();
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
        log.warn("capture.worker_restarted", { attempt, inTransit: this.#events.inTransit() });
      } catch (error) {
        log.error("capture.worker_restart_failed", { attempt, error });
      }
    }
    if (link) await this.#repost(link);
    this.#replacing = null;
    this.#events.resumed();
  }

  /** Has the channel post everything still in transit to a new worker, in order, before anything else. */
  async #repost(link: WorkerLink): Promise<void> {
    this.#reposting = true;
    this.#install(link);
    try {
      await this.#events.repost(link);
    } finally {
      this.#reposting = false;
    }
  }
}
