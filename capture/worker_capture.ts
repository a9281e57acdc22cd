/**
 * Capture backed by a worker thread. The proxy's thread keeps only what must be there: collecting body
 * chunks (cut at the capture limit) and handing each finished exchange to the channel to the worker
 * (`worker_channel.ts`, bounded in bytes), which journals and persists it (`store_worker.ts`). It also opens its own connections to the same stores for the readers on
 * this thread (UI routes, policy services), after which the worker opens its own.
 * @module
 */
import type { Exchange, WsMessage } from "../core/exchange.ts";
import { log } from "../core/log.ts";
import type { Db } from "../storage/db/db.ts";
import { openDatabase } from "../storage/db/mod.ts";
import { openObjectStore } from "../storage/objects/mod.ts";
import { join } from "node:path";
import { BodyCollector } from "./body_collector.ts";
import type { Capture, CaptureOptions } from "./capture.ts";
import { loadOrCreateHmacKey } from "./credentials.ts";
import type { CaptureParsed, CaptureSink, ExchangeTap } from "./sink.ts";
import { type BodyFile, removeBodyFile, SpillingBody } from "./spilling_body.ts";
import { type CaptureChannel, openChannel } from "./worker_channel.ts";
import type { InitMessage } from "./worker_protocol.ts";

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

/** Test seam: which worker module to run (a test wraps the real one to make it fail or wedge). */
export interface WorkerCaptureOptions extends CaptureOptions {
  workerUrl?: URL;
}

/** Default of `capture.maxInTransitBytes`. */
export const DEFAULT_MAX_IN_TRANSIT_BYTES = 32 * 1024 * 1024;
/** Default of `capture.workerStallMs`. */
export const DEFAULT_WORKER_STALL_MS = 60_000;

/**
 * Starts the worker, waits until it has replayed the journal, and returns the capture. The channel to it
 * is bounded in bytes and spills to a journal of this thread's own; a worker that dies or wedges is
 * replaced (`worker_channel.ts`, `worker_supervisor.ts`).
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
  const capture = options.config.capture;
  const init: InitMessage = {
    type: "init",
    paths: options.paths,
    config: { capture, otel: options.config.otel },
    env: [...env.read],
    priceOverrides: options.priceOverrides ?? [],
    idleGapMs: options.idleGapMs ?? 30 * 60_000,
    signIntervalMs: options.signIntervalMs ?? 60_000,
  };
  const bodyDir = join(options.paths.journal, "bodies");
  let channel: CaptureChannel;
  try {
    channel = await openChannel({
      url: options.workerUrl ?? new URL("./store_worker.ts", import.meta.url),
      init,
      hmacKey: await loadOrCreateHmacKey(options.paths.secretKey),
      spillDir: join(options.paths.journal, "spill"),
      flushIntervalMs: capture.flushIntervalMs,
      maxInTransitBytes: capture.maxInTransitBytes ?? DEFAULT_MAX_IN_TRANSIT_BYTES,
      stallMs: capture.workerStallMs ?? DEFAULT_WORKER_STALL_MS,
    });
  } catch (error) {
    await db.close();
    await objects.close();
    throw error;
  }

  // Body files are only ever read by a worker of this run: what a crash left behind belongs to nobody.
  // Removed only now that this process holds the journals, so a second one started on the same data dir
  // (and refused) cannot remove the files of the one running.
  await Deno.remove(bodyDir, { recursive: true }).catch(() => {});

  const strict = capture.durability === "strict";
  let closed = false;
  let inFlight = 0;
  function send(exchange: Exchange, parsed: CaptureParsed | null, bodies: Bodies): Promise<void> {
    if (closed) {
      log.error("capture.after_close", { exchangeId: exchange.id });
      return Promise.resolve();
    }
    const { requestBody: _body, wsMessages: _messages, ...rest } = exchange;
    let durable: Promise<void>;
    try {
      durable = channel.send({ exchange: rest, parsed, ...bodies });
    } catch (error) {
      durable = Promise.reject(error);
    }
    // The file is not the durable copy: the record in a journal is, with the bytes read from it.
    const file = bodies.responseFile;
    if (file) durable.finally(() => removeBodyFile(file.path)).catch(() => {});
    if (strict) return durable;
    // batched: the client does not wait; failures are logged and counted where they happen
    durable.catch((error) => log.error("capture.send_failed", { exchangeId: exchange.id, error }));
    return Promise.resolve();
  }

  function begin(exchange: Exchange): ExchangeTap {
    inFlight++;
    const request = new BodyCollector("request");
    const response = new SpillingBody({ dir: bodyDir, name: exchange.id });
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
        const ws = ex.kind === "websocket";
        const sent = response.finish().then((body) => {
          const cuts = [request.cut, response.cut].filter((c): c is string => c !== null);
          const target = cuts.length ? { ...ex, errors: [...ex.errors, ...cuts] } : ex;
          return send(target, parsed, {
            request: ws ? EMPTY : request.length ? request.shared() : ex.requestBody ?? EMPTY,
            response: ws || body.bytes === null ? EMPTY : body.bytes,
            responseFile: ws ? null : body.file,
            messages: ws ? (messages.length ? messages : ex.wsMessages) : [],
          });
        });
        return strict ? sent : Promise.resolve();
      },
    };
  }

  let closing: Promise<void> | null = null;
  const close = () =>
    closing ??= (async () => {
      closed = true;
      await channel.close();
      await db.close();
      await objects.close();
    })();
  const sink: CaptureSink = { begin, close };
  return {
    sink,
    stats: () => {
      const c = channel.stats();
      return {
        ...c.worker,
        queued: c.worker.queued + c.inTransit + c.spilled,
        spilled: c.worker.spilled + c.spilled,
        spilledTotal: c.worker.spilledTotal + c.spilledTotal,
        inFlight: inFlight + c.worker.inFlight,
        failed: c.worker.failed + c.failed,
        inTransitBytes: c.inTransitBytes,
        workerRestarts: c.restarts,
        workerWedged: c.wedged,
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
  responseFile: BodyFile | null;
  messages: WsMessage[];
}
