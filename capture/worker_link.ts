/**
 * One capture worker thread and the conversation with it: start and wait until it has replayed the
 * journal, post finished exchanges, match durability acknowledgements, keep its latest stats, and close.
 * A worker that fails after it was ready is reported once through `onFailure`; the owner decides what
 * comes next (`worker_capture.ts` starts a new one).
 * @module
 */
import type { PipelineStats } from "./pipeline.ts";
import type { EndMessage, FromWorker, InitMessage } from "./worker_protocol.ts";

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/** See the module doc. */
export class WorkerLink {
  #worker: Worker;
  #acks = new Map<number, Pending>();
  #ready: Pending | null = null;
  #closed: (() => void) | null = null;
  #failure: string | null = null;
  #onFailure: (reason: string) => void;
  #stats: PipelineStats | null = null;
  #posted = 0;
  #received = 0;

  private constructor(url: URL, onFailure: (reason: string) => void) {
    this.#onFailure = onFailure;
    this.#worker = new Worker(url, { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<FromWorker>) => this.#receive(event.data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(`capture worker failed: ${event.message}`);
    };
  }

  /** Starts a worker and resolves once it has opened the stores and replayed the journal. */
  static async start(url: URL, init: InitMessage, onFailure: (reason: string) => void): Promise<WorkerLink> {
    const link = new WorkerLink(url, onFailure);
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
    return link;
  }

  /** Posts an exchange; with `ack` the promise resolves once the worker has it durable in the journal. */
  post(message: EndMessage, transfer: Transferable[]): Promise<void> {
    if (this.#failure) return Promise.reject(new Error(this.#failure));
    const durable = message.ack
      ? new Promise<void>((resolve, reject) => this.#acks.set(message.seq, { resolve, reject }))
      : Promise.resolve();
    this.#worker.postMessage(message, transfer);
    this.#posted++;
    return durable;
  }

  /** The worker's pipeline stats as last reported (every 200 ms). */
  get stats(): PipelineStats | null {
    return this.#stats;
  }

  /** Exchanges posted that the worker had not taken in at its last report. */
  get inTransit(): number {
    return this.#posted - this.#received;
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
    if (message.type === "stats") {
      this.#stats = message.stats;
      this.#received = message.received;
    } else if (message.type === "durable") {
      const ack = this.#acks.get(message.seq);
      this.#acks.delete(message.seq);
      if (message.error === null) ack?.resolve();
      else ack?.reject(new Error(message.error));
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
    for (const ack of this.#acks.values()) ack.reject(new Error(reason));
    this.#acks.clear();
    this.#closed?.();
    this.#worker.terminate();
    if (wasReady) this.#onFailure(reason);
  }
}
