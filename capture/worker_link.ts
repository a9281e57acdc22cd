/**
 * One capture worker thread and the conversation with it: start and wait until it has replayed the
 * journal, post messages, pass on its durability reports, keep its latest stats and when it was last
 * heard from, and close. A worker that fails after it was ready, or is killed as wedged, is reported once
 * through `failed`; the owner (`worker_supervisor.ts`) decides what comes next.
 * @module
 */
import type { PipelineStats } from "./pipeline_stats.ts";
import type { FromWorker, InitMessage, ToWorker } from "./worker_protocol.ts";

/** What a link reports to its owner. */
export interface LinkEvents {
  /** Messages the worker has in its journal, and those it failed to journal. */
  durable(seqs: number[], failed: [number, string][]): void;
  /** The worker died after it was ready (not called for a failed start, nor after `close`). */
  failed(reason: string): void;
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/** See the module doc. */
export class WorkerLink {
  #worker: Worker;
  #ready: Pending | null = null;
  #closed: (() => void) | null = null;
  #failure: string | null = null;
  #events: LinkEvents;
  #stats: PipelineStats | null = null;
  #received = 0;
  #heardAt = Date.now();

  private constructor(url: URL, events: LinkEvents) {
    this.#events = events;
    this.#worker = new Worker(url, { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<FromWorker>) => this.#receive(event.data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(`capture worker failed: ${event.message}`);
    };
  }

  /** Starts a worker and resolves once it has opened the stores and replayed the journal. */
  static async start(url: URL, init: InitMessage, events: LinkEvents): Promise<WorkerLink> {
    const link = new WorkerLink(url, events);
    try {
      await new Promise<void>((resolve, reject) => {
        link.#ready = { resolve, reject };
        link.#worker.postMessage(init);
      });
    } catch (error) {
      link.#worker.terminate();
      throw error;
    } finally {
      link.#ready = null;
    }
    link.#heardAt = Date.now();
    return link;
  }

  /** Posts a message; throws once the worker has failed. */
  post(message: ToWorker, transfer: Transferable[] = []): void {
    if (this.#failure) throw new Error(this.#failure);
    this.#worker.postMessage(message, transfer);
  }

  /** The worker's pipeline stats as last reported (every 200 ms). */
  get stats(): PipelineStats | null {
    return this.#stats;
  }

  /** Messages the worker had taken in at its last report. */
  get received(): number {
    return this.#received;
  }

  /** `Date.now()` when the worker last sent anything (stats come every 200 ms from a live event loop). */
  get heardAt(): number {
    return this.#heardAt;
  }

  /** Whether the worker has failed or been killed or closed. */
  get down(): boolean {
    return this.#failure !== null;
  }

  /**
   * Ends a worker that no longer makes progress and reports it as failed. On Deno 2.9 `terminate()` cannot
   * stop a thread spinning in a synchronous loop (denoland/deno#35657): such a thread stops, and releases
   * its files, only once its loop returns to the event loop.
   */
  kill(reason: string): void {
    this.#fail(reason);
  }

  /** Asks the worker to persist what it holds and close its stores, then ends the thread. */
  async close(): Promise<void> {
    if (!this.#failure) {
      await new Promise<void>((resolve) => {
        this.#closed = resolve;
        this.#worker.postMessage({ type: "close" });
      });
    }
    this.#failure ??= "capture is closed";
    this.#worker.terminate();
  }

  #receive(message: FromWorker): void {
    this.#heardAt = Date.now();
    if (message.type === "stats") {
      this.#stats = message.stats;
      this.#received = message.received;
    } else if (message.type === "durable") {
      if (!this.#failure) this.#events.durable(message.seqs, message.failed);
    } else if (message.type === "ready") {
      this.#stats = message.stats;
      this.#ready?.resolve();
    } else if (message.type === "failed") {
      this.#fail(message.message);
    } else if (message.type === "closed") {
      this.#closed?.();
    }
  }

  #fail(reason: string): void {
    if (this.#failure) return;
    this.#failure = reason;
    const wasReady = this.#ready === null;
    this.#ready?.reject(new Error(reason));
    const closing = this.#closed !== null;
    this.#closed?.();
    this.#worker.terminate();
    if (wasReady && !closing) this.#events.failed(reason);
  }
}
