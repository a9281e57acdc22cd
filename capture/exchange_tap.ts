/**
 * What the pipeline gives the proxy for each exchange (`CaptureSink.begin`): a tap that only copies
 * references while the exchange runs (body chunks into `BodyCollector`s, WebSocket messages into a list)
 * and, at `end()`, builds and journals the record off the caller's stack. In `strict` durability `end()`
 * resolves once the record is fsync'd in the journal; in `batched` at once.
 * @module
 */
import type { Exchange, WsMessage } from "../core/exchange.ts";
import { log } from "../core/log.ts";
import { BodyCollector } from "./body_collector.ts";
import type { PipelineCounters } from "./pipeline_stats.ts";
import { wsTranscript } from "./record.ts";
import type { CaptureParsed, ExchangeTap } from "./sink.ts";
import type { WriteQueue } from "./write_queue.ts";

/** An ended exchange's bodies, read only when its record is built. */
export interface Bodies {
  request(): Uint8Array;
  response(): Uint8Array;
}

/** What a tap needs of its pipeline. */
export interface TapOptions {
  maxBodyBytes: number;
  durability: "batched" | "strict";
  counters: PipelineCounters;
  /** Whether the pipeline is closed: an exchange ending then is logged and dropped. */
  closed(): boolean;
  /** Told while the record is being built and journaled, so `drain` waits for it. */
  queue: Pick<WriteQueue, "endPending" | "endSettled">;
  /** Builds the record, appends it to the journal and queues it; resolves once it is durable. */
  accept(exchange: Exchange, parsed: CaptureParsed | null, bodies: Bodies): Promise<void>;
}

/** Starts collecting one exchange; see the module doc. */
export function tapExchange(_exchange: Exchange, options: TapOptions): ExchangeTap {
  const { maxBodyBytes, counters, queue } = options;
  counters.inFlight++;
  const request = new BodyCollector("request", maxBodyBytes);
  const response = new BodyCollector("response", maxBodyBytes);
  const messages: WsMessage[] = [];
  let ended = false;
  return {
    requestChunk: (chunk) => request.add(chunk),
    responseChunk: (chunk) => response.add(chunk),
    wsMessage(message) {
      messages.push(message);
    },
    end(ex, parsed) {
      if (ended) return Promise.resolve();
      ended = true;
      counters.inFlight--;
      if (options.closed()) {
        log.error("capture.after_close", { exchangeId: ex.id });
        return Promise.resolve();
      }
      queue.endPending();
      const ws = ex.kind === "websocket";
      const all = messages.length ? messages : ex.wsMessages;
      const bodies: Bodies = {
        request: () =>
          ws
            ? wsTranscript(all, "client")
            : request.length
            ? request.bytes()
            : ex.requestBody ?? new Uint8Array(),
        response: () => ws ? wsTranscript(all, "server") : response.bytes(),
      };
      const durable = new Promise<void>((resolve, reject) => {
        // Off the caller's stack: building and journaling the record never delays the proxy's return.
        queueMicrotask(() => {
          try {
            const cuts = [request.cut, response.cut].filter((c) => c !== null);
            const target = cuts.length ? { ...ex, errors: [...ex.errors, ...cuts] } : ex;
            options.accept(target, parsed, bodies).then(resolve, reject);
          } catch (error) {
            reject(error);
          } finally {
            queue.endSettled();
          }
        });
      });
      durable.catch((error) => {
        counters.failed++;
        log.error("capture.journal_failed", { exchangeId: ex.id, error });
      });
      return options.durability === "strict" ? durable : Promise.resolve();
    },
  };
}
