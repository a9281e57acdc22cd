/**
 * Capture backed by a worker thread. The proxy's thread keeps only what must be there: collecting body
 * chunks (cut at the capture limit) and posting each finished exchange to the worker, which journals and
 * persists it (`store_worker.ts`). It also opens its own connections to the same stores for the readers on
 * this thread (UI routes, policy services), after which the worker opens its own.
 * @module
 */
import type { Exchange, WsMessage } from "../core/exchange.ts";
import { log } from "../core/log.ts";
import type { Db } from "../storage/db/db.ts";
import { openDatabase } from "../storage/db/mod.ts";
import { openObjectStore } from "../storage/objects/mod.ts";
import type { Capture, CaptureOptions } from "./capture.ts";
import type { PipelineStats } from "./pipeline.ts";
import type { CaptureParsed, CaptureSink, ExchangeTap } from "./sink.ts";
import type { EndMessage, FromWorker, ToWorker } from "./worker_protocol.ts";

/** Largest body captured per direction; longer bodies are cut and the cut recorded. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** An environment that remembers every variable read through it, to hand the same values to the worker. */
function recordingEnv(
  env: CaptureOptions["env"],
): { get(name: string): string | undefined; read: Map<string, string> } {
  const read = new Map<string, string>();
  return {
    get(name) {
      const value = env.get(name);
      if (value !== undefined) read.set(name, value);
      return value;
    },
    read,
  };
}

/** Starts the worker, waits until it has replayed the journal, and returns the capture. */
export async function startWorkerCapture(options: CaptureOptions): Promise<Capture> {
  const env = recordingEnv(options.env);
  const objects = await openObjectStore(options.paths, env, options.config.capture.s3);
  let db: Db;
  try {
    db = await openDatabase(options.paths, env);
  } catch (error) {
    await objects.close();
    throw error;
  }
  const worker = new Worker(new URL("./store_worker.ts", import.meta.url), { type: "module" });
  const post = (message: ToWorker, transfer: Transferable[] = []) => worker.postMessage(message, transfer);
  let stats: PipelineStats | null = null;
  let posted = 0;
  let received = 0;
  let inFlight = 0;
  let dead: string | null = null;
  const acks = new Map<number, { resolve(): void; reject(error: Error): void }>();
  let onReady: { resolve(): void; reject(error: Error): void } | null = null;
  let onClosed: (() => void) | null = null;

  const fail = (reason: string) => {
    dead ??= reason;
    onReady?.reject(new Error(reason));
    for (const ack of acks.values()) ack.reject(new Error(reason));
    acks.clear();
    onClosed?.();
  };
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    const message = event.data;
    if (message.type === "stats") {
      stats = message.stats;
      received = message.received;
    } else if (message.type === "durable") {
      const ack = acks.get(message.seq);
      acks.delete(message.seq);
      if (message.error === null) ack?.resolve();
      else ack?.reject(new Error(message.error));
    } else if (message.type === "ready") {
      stats = message.stats;
      onReady?.resolve();
    } else if (message.type === "failed") {
      fail(message.message);
    } else if (message.type === "closed") {
      onClosed?.();
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    log.error("capture.worker_failed", { error: event.message });
    fail(`capture worker failed: ${event.message}`);
  };

  try {
    await new Promise<void>((resolve, reject) => {
      onReady = { resolve, reject };
      post({
        type: "init",
        paths: options.paths,
        config: { capture: options.config.capture },
        env: [...env.read],
        priceOverrides: options.priceOverrides ?? [],
        idleGapMs: options.idleGapMs ?? 30 * 60_000,
        signIntervalMs: options.signIntervalMs ?? 60_000,
      });
    });
  } catch (error) {
    worker.terminate();
    await db.close();
    await objects.close();
    throw error;
  } finally {
    onReady = null;
  }

  const strict = options.config.capture.durability === "strict";
  let seq = 0;
  function send(exchange: Exchange, parsed: CaptureParsed | null, bodies: Bodies): Promise<void> {
    if (dead) {
      log.error("capture.after_close", { exchangeId: exchange.id, reason: dead });
      return strict ? Promise.reject(new Error(dead)) : Promise.resolve();
    }
    const { requestBody: _body, wsMessages: _messages, ...rest } = exchange;
    const message: EndMessage = {
      type: "end",
      seq: ++seq,
      exchange: rest,
      parsed,
      request: bodies.request,
      response: bodies.response,
      messages: bodies.messages,
      ack: strict,
    };
    const durable = strict
      ? new Promise<void>((resolve, reject) => acks.set(message.seq, { resolve, reject }))
      : Promise.resolve();
    // The joined bodies are fresh copies owned by nobody else, so they move to the worker without a copy.
    post(message, fresh(bodies));
    posted++;
    return durable;
  }

  function begin(_exchange: Exchange): ExchangeTap {
    inFlight++;
    const request = new BodyCollector("request");
    const response = new BodyCollector("response");
    const messages: WsMessage[] = [];
    let ended = false;
    return {
      requestChunk: (chunk) => request.add(chunk),
      responseChunk: (chunk) => response.add(chunk),
      wsMessage: (message) => void messages.push(message),
      end(ex, parsed) {
        if (ended) return Promise.resolve();
        ended = true;
        inFlight--;
        const cuts = [request.cut, response.cut].filter((c): c is string => c !== null);
        const target = cuts.length ? { ...ex, errors: [...ex.errors, ...cuts] } : ex;
        const ws = ex.kind === "websocket";
        return send(target, parsed, {
          request: ws ? EMPTY : request.length ? request.join() : ex.requestBody ?? EMPTY,
          response: ws ? EMPTY : response.join(),
          messages: ws ? (messages.length ? messages : ex.wsMessages) : [],
          joined: [request.length > 0, !ws],
        });
      },
    };
  }

  let closing: Promise<void> | null = null;
  const close = () =>
    closing ??= (async () => {
      if (!dead) {
        await new Promise<void>((resolve) => {
          onClosed = resolve;
          post({ type: "close" });
        });
        dead = "capture is closed";
      }
      worker.terminate();
      await db.close();
      await objects.close();
    })();
  const sink: CaptureSink = { begin, close };
  return {
    sink,
    stats: () => {
      const last = stats!;
      const inTransit = posted - received;
      return { ...last, queued: last.queued + inTransit, inFlight: inFlight + last.inFlight };
    },
    close,
    db,
    objects,
  };
}

const EMPTY = new Uint8Array();

interface Bodies {
  request: Uint8Array;
  response: Uint8Array;
  messages: WsMessage[];
  /** Which of request and response were joined here into fresh buffers (safe to transfer). */
  joined: [boolean, boolean];
}

function fresh(bodies: Bodies): Transferable[] {
  const out: Transferable[] = [];
  if (bodies.joined[0] && bodies.request.byteLength) out.push(bodies.request.buffer as ArrayBuffer);
  if (bodies.joined[1] && bodies.response.byteLength) out.push(bodies.response.buffer as ArrayBuffer);
  return out;
}

/** Body chunks of one direction, kept up to `MAX_BODY_BYTES`. */
class BodyCollector {
  #chunks: Uint8Array[] = [];
  length = 0;
  cut: string | null = null;
  #what: string;

  constructor(what: string) {
    this.#what = what;
  }

  add(chunk: Uint8Array): void {
    if (this.length >= MAX_BODY_BYTES) return;
    if (this.length + chunk.length > MAX_BODY_BYTES) {
      chunk = chunk.subarray(0, MAX_BODY_BYTES - this.length);
      this.cut = `capture: ${this.#what} body cut at ${MAX_BODY_BYTES} bytes`;
    }
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }

  /** One fresh buffer with every chunk (always a copy: the chunks may still be on their way out). */
  join(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.#chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}
