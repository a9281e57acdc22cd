/**
 * What did not fit in transit to the capture worker, and the order it goes out in. An exchange that does
 * not fit is built into its record on the proxy's thread (credentials stripped, as the worker would) and
 * appended to the proxy's own spill journal (`<data dir>/journal/spill/`): it costs disk, not memory.
 * Spilled records are posted oldest first as acknowledgements make room (`pump`), and leave the journal
 * once the worker has them in its own; entries left at exit are posted after the next start. An exchange
 * whose response body is in a file (`spilling_body.ts`) waits here as a file name and is read, built and
 * spilled one at a time, so the end of a thousand long streams at once does not bring their bodies back
 * into memory together. `worker_channel.ts` decides what spills and does the posting (`SpillOutlet`).
 * @module
 */
import { log } from "../core/log.ts";
import type { TransitEntry } from "./in_transit.ts";
import { type Journal, openJournal } from "./journal.ts";
import { encodeRecord, recordOfEnded } from "./record.ts";
import type { EndMessage } from "./worker_protocol.ts";

/** How spilled work reaches the worker: the channel's side. */
export interface SpillOutlet {
  /** Whether a worker is up and taking new messages (not being given what was in transit). */
  ready(): boolean;
  /** Whether `bytes` more fit in transit. */
  fits(bytes: number): boolean;
  /** Posts and counts in transit; a spilled record comes with its `payload`, read back for this post. */
  post(entry: TransitEntry, payload: Uint8Array | null): void;
  /** The sequence number of the next message posted. */
  nextSeq(): number;
  /** An exchange was lost here (unreadable spill entry or body file), for `/metrics`. */
  failed(): void;
}

/** An exchange with a body file waiting for room in transit. */
interface Waiting {
  message: EndMessage;
  bytes: number;
  waiter: { resolve(): void; reject(error: Error): void };
}

/** Bytes of records spilled from body files before waiting for the spill journal to flush them. */
const FILE_SPILL_FLUSH_BYTES = 4 * 1024 * 1024;

/** Opens the spill journal and lines up what an earlier run left in it, oldest first. */
export async function openSpillBacklog(
  options: { dir: string; flushIntervalMs: number; hmacKey: Uint8Array },
): Promise<SpillBacklog> {
  const journal = await openJournal({ dir: options.dir, flushIntervalMs: options.flushIntervalMs });
  const ids: number[] = [];
  try {
    for await (const entry of journal.replay()) ids.push(entry.id);
  } catch (error) {
    await journal.close();
    throw error;
  }
  return new SpillBacklog(journal, ids, options.hmacKey);
}

/** See the module doc. Open with `openSpillBacklog`. */
export class SpillBacklog {
  #spill: Journal;
  #backlog: number[];
  #head = 0;
  #hmacKey: Uint8Array;
  /** Exchanges with body files waiting for room, oldest first (see the module doc). */
  #waiting: Waiting[] = [];
  #spillingFiles: Promise<void> | null = null;
  #pumping = false;
  #closed = false;

  constructor(journal: Journal, ids: number[], hmacKey: Uint8Array) {
    this.#spill = journal;
    this.#backlog = ids;
    this.#hmacKey = hmacKey;
  }

  /** Records in the spill journal waiting to be posted. */
  get spilled(): number {
    return this.#backlog.length - this.#head;
  }

  /** Exchanges with body files waiting to be posted or spilled. */
  get waitingFiles(): number {
    return this.#waiting.length;
  }

  /** Appends an encoded record, to be posted in its turn; `durable` resolves once it is on disk. */
  spill(record: Uint8Array): Promise<void> {
    const { id, durable } = this.#spill.append(record);
    this.#backlog.push(id);
    return durable;
  }

  /** Appends an encoded record that is not posted in this run (shutdown): the next start posts it. */
  spillForNextStart(record: Uint8Array): Promise<void> {
    return this.#spill.append(record).durable;
  }

  /** Queues an exchange whose body is in a file; resolves once it is durable, posted or spilled. */
  waitForRoom(message: EndMessage, bytes: number, outlet: SpillOutlet): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ message, bytes, waiter: { resolve, reject } });
      this.#spillingFiles ??= this.#spillFiles(outlet).finally(() => this.#spillingFiles = null);
    });
  }

  /** Posts spilled records, oldest first, while they fit. */
  async pump(outlet: SpillOutlet): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.spilled && outlet.ready() && !this.#closed) {
        const id = this.#backlog[this.#head];
        if (!outlet.fits(this.#spill.entryBytes(id))) break;
        let payload: Uint8Array;
        try {
          payload = await this.#spill.read(id);
        } catch (error) {
          outlet.failed();
          log.error("capture.spill_read_failed", { entry: id, error });
          this.#advance();
          continue;
        }
        if (!outlet.ready()) break;
        this.#advance();
        const entry: TransitEntry = {
          seq: outlet.nextSeq(),
          bytes: payload.length,
          message: null,
          spillId: id,
          waiter: null,
          blamed: 0,
        };
        outlet.post(entry, payload);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Stops posting and spilling body files (shutdown); resolves once the file being spilled is. */
  async stop(): Promise<void> {
    this.#closed = true;
    await this.#spillingFiles;
  }

  /** Takes the exchanges with body files still waiting (shutdown: they are spilled for the next start). */
  takeWaiting(): Waiting[] {
    const waiting = this.#waiting;
    this.#waiting = [];
    return waiting;
  }

  read(id: number): Promise<Uint8Array> {
    return this.#spill.read(id);
  }

  /** The worker has the record in its own journal: it leaves this one. */
  markApplied(id: number): void {
    this.#spill.markApplied(id);
  }

  close(): Promise<void> {
    return this.#spill.close();
  }

  /**
   * Exchanges with body files, oldest first: posted if they fit by now, else read, built into records and
   * spilled, one at a time (and waiting for a flush every few MiB), so their bodies are never all in memory.
   */
  async #spillFiles(outlet: SpillOutlet): Promise<void> {
    let unflushed = 0;
    while (this.#waiting.length && !this.#closed) {
      const { message, bytes, waiter } = this.#waiting.shift()!;
      if (outlet.ready() && this.spilled === 0 && outlet.fits(bytes)) {
        outlet.post({ seq: message.seq, bytes, message, spillId: null, waiter, blamed: 0 }, null);
        continue;
      }
      let record: Uint8Array;
      try {
        const response = await Deno.readFile(message.responseFile!.path);
        record = encodeRecord(recordOf(message, this.#hmacKey, response));
      } catch (error) {
        outlet.failed();
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
    this.pump(outlet);
  }

  #advance(): void {
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#backlog.length) {
      this.#backlog = this.#backlog.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** The record the worker would build from `message`; `response`: its body read from its file, if any. */
export function recordOf(message: EndMessage, hmacKey: Uint8Array, response?: Uint8Array) {
  // Read here synchronously only at shutdown (`close`): the body must reach the spill journal.
  response ??= message.responseFile ? Deno.readFileSync(message.responseFile.path) : message.response;
  return recordOfEnded({ ...message, response }, hmacKey);
}
