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
import { BodyCollector } from "./body_collector.ts";
import type { Capture, CaptureOptions } from "./capture.ts";
import type { CaptureParsed, CaptureSink, ExchangeTap } from "./sink.ts";
import { WorkerLink } from "./worker_link.ts";
import type { EndMessage, InitMessage } from "./worker_protocol.ts";

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

/** Exchanges held while a failed worker is being replaced; beyond this they are dropped (and logged). */
const MAX_HELD = 10_000;
const RESTART_MAX_DELAY_MS = 30_000;

/** Test seam: which worker module to run (a test wraps the real one to make it fail). */
export interface WorkerCaptureOptions extends CaptureOptions {
  workerUrl?: URL;
}

interface Held {
  message: EndMessage;
  transfer: Transferable[];
  settle: { resolve(): void; reject(error: Error): void };
}

/**
 * Starts the worker, waits until it has replayed the journal, and returns the capture. A worker that dies
 * is replaced (with backoff) by one that replays the journal again; exchanges that end meanwhile are held.
 */
export async function startWorkerCapture(options: WorkerCaptureOptions): Promise<Capture> {
  const env = recordingEnv(options.env);
  const objects = await openObjectStore(options.paths, env, options.config.capture.s3);
  let db: Db;
  try {
    // This connection serves the proxy's thread (policies, UI): it must never sleep on the worker's lock.
    db = await openDatabase(options.paths, env, { sqlite: { lockWait: "yield" } });
  } catch (error) {
    await objects.close();
    throw error;
  }
  const url = options.workerUrl ?? new URL("./store_worker.ts", import.meta.url);
  const init: InitMessage = {
    type: "init",
    paths: options.paths,
    config: { capture: options.config.capture },
    env: [...env.read],
    priceOverrides: options.priceOverrides ?? [],
    idleGapMs: options.idleGapMs ?? 30 * 60_000,
    signIntervalMs: options.signIntervalMs ?? 60_000,
  };
  let closed = false;
  let inFlight = 0;
  let restarts = 0;
  let lost = 0;
  let held: Held[] = [];
  let replacing: Promise<void> | null = null;

  const onFailure = (reason: string) => {
    // Exchanges the dead worker had not journaled are gone; those it had are replayed by the next one.
    lost += link.inTransit;
    log.error("capture.worker_failed", { reason, possiblyLost: link.inTransit });
    replacing = replace();
  };
  async function replace(): Promise<void> {
    for (let attempt = 1; !closed; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** (attempt - 1), RESTART_MAX_DELAY_MS)));
      if (closed) break;
      try {
        link = await WorkerLink.start(url, init, onFailure);
        restarts++;
        log.warn("capture.worker_restarted", { attempt, held: held.length });
        break;
      } catch (error) {
        log.error("capture.worker_restart_failed", { attempt, error });
      }
    }
    replacing = null;
    const waiting = held;
    held = [];
    for (const h of waiting) {
      if (closed) h.settle.reject(new Error("capture closed before the exchange was journaled"));
      else link.post(h.message, h.transfer).then(h.settle.resolve, h.settle.reject);
    }
  }

  let link: WorkerLink;
  try {
    link = await WorkerLink.start(url, init, onFailure);
  } catch (error) {
    await db.close();
    await objects.close();
    throw error;
  }

  const strict = options.config.capture.durability === "strict";
  let seq = 0;
  function send(exchange: Exchange, parsed: CaptureParsed | null, bodies: Bodies): Promise<void> {
    if (closed) {
      log.error("capture.after_close", { exchangeId: exchange.id });
      return Promise.resolve();
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
    // The joined bodies are fresh copies owned by nobody else, so they move to the worker without a copy.
    const transfer = fresh(bodies);
    let durable: Promise<void>;
    if (!replacing) {
      durable = link.post(message, transfer);
    } else if (held.length < MAX_HELD) {
      durable = new Promise<void>((resolve, reject) => {
        held.push({ message, transfer, settle: { resolve, reject } });
      });
    } else {
      lost++;
      log.error("capture.dropped", { exchangeId: exchange.id, reason: "capture worker down, hold full" });
      durable = Promise.reject(new Error("capture worker is down"));
    }
    if (strict) return durable;
    durable.catch(() => {}); // batched: the client does not wait; failures are logged and counted
    return Promise.resolve();
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
          request: ws ? EMPTY : request.length ? request.copy() : ex.requestBody ?? EMPTY,
          response: ws ? EMPTY : response.copy(),
          messages: ws ? (messages.length ? messages : ex.wsMessages) : [],
          joined: [request.length > 0, !ws],
        });
      },
    };
  }

  let closing: Promise<void> | null = null;
  const close = () =>
    closing ??= (async () => {
      closed = true;
      await replacing;
      await link.close();
      await db.close();
      await objects.close();
    })();
  const sink: CaptureSink = { begin, close };
  return {
    sink,
    stats: () => {
      const last = link.stats!;
      return {
        ...last,
        queued: last.queued + link.inTransit + held.length,
        inFlight: inFlight + last.inFlight,
        failed: last.failed + lost,
        workerRestarts: restarts,
      };
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
