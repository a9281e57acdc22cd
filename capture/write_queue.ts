/**
 * The pipeline's write queue: records journaled and waiting for the one writer, bounded by bytes. Past
 * the bound a record keeps only its journal id and is read back from disk when its turn comes (spill), so
 * a slow database costs disk, not memory. The writer takes up to `maxBatch` records at a time and hands
 * them to `persistBatch`; batches, live and replayed, commit in the order they took their `ticket`. Also
 * knows when the pipeline is idle (nothing queued, written or still being journaled), for `drain`.
 * @module
 */
import type { PipelineCounters } from "./pipeline_stats.ts";
import type { CaptureRecord } from "./record.ts";

/** A journaled record waiting for the writer; `record` is `null` when spilled (read back by journal id). */
export interface Queued {
  id: number;
  record: CaptureRecord | null;
  bytes: number;
}

/** Options of `createWriteQueue`. */
export interface WriteQueueOptions {
  maxQueuedBytes: number;
  maxBatch: number;
  counters: PipelineCounters;
  /** Persists a batch the writer took (`batch_writer.ts`). */
  persistBatch(items: Queued[], replayed: boolean): Promise<void>;
}

/** See the module doc. */
export interface WriteQueue {
  /** Queues a journaled record (`id` in the journal, `bytes` long encoded), in memory or spilled. */
  enqueue(id: number, record: CaptureRecord, bytes: number): void;
  /** Takes the next place in commit order; call the returned `done` once the record is settled. */
  ticket(): { after: Promise<void>; done: () => void };
  /** An exchange ended and its record is being built and journaled: `drain` waits for it. */
  endPending(): void;
  /** That record is queued (or failed to be): `drain` no longer waits for it. */
  endSettled(): void;
  /** Records waiting for the writer, in memory or spilled (not those in the batch being written). */
  readonly length: number;
  /** Resolves once everything queued so far is persisted or given up on. */
  drain(): Promise<void>;
}

/** Builds the queue; its writer starts with the first record queued. */
export function createWriteQueue(options: WriteQueueOptions): WriteQueue {
  const { maxQueuedBytes, maxBatch, counters, persistBatch } = options;
  const queue: Queued[] = [];
  let active = 0;
  let pendingEnds = 0;
  let idleWaiters: (() => void)[] = [];

  // Batches (live and replayed) commit one after another, in the order they were taken.
  let lastCommit: Promise<void> = Promise.resolve();

  /** Takes the next place in commit order; call the returned `done` once the record is settled. */
  function ticket(): { after: Promise<void>; done: () => void } {
    const after = lastCommit;
    let done!: () => void;
    lastCommit = new Promise<void>((resolve) => done = resolve);
    return { after, done };
  }

  function notifyIdle(): void {
    if (queue.length || active || pendingEnds) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  async function work(): Promise<void> {
    active++;
    try {
      while (queue.length) {
        const items = queue.splice(0, maxBatch);
        for (const item of items) {
          if (item.record) counters.queuedBytes -= item.bytes;
          else counters.spilled--;
        }
        const { after, done } = ticket();
        counters.writing += items.length;
        try {
          await after;
          await persistBatch(items, false);
        } finally {
          counters.writing -= items.length;
          done();
        }
      }
    } finally {
      active--;
      notifyIdle();
    }
  }

  function enqueue(id: number, record: CaptureRecord, bytes: number): void {
    if (counters.queuedBytes + bytes > maxQueuedBytes && queue.length > 0) {
      queue.push({ id, record: null, bytes });
      counters.spilled++;
      counters.spilledTotal++;
    } else {
      queue.push({ id, record, bytes });
      counters.queuedBytes += bytes;
    }
    if (!active) work();
  }

  function drain(): Promise<void> {
    if (!queue.length && !active && !pendingEnds) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push(resolve));
  }

  return {
    enqueue,
    ticket,
    endPending() {
      pendingEnds++;
    },
    endSettled() {
      pendingEnds--;
      notifyIdle();
    },
    get length() {
      return queue.length;
    },
    drain,
  };
}
