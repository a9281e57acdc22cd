/**
 * The Live view's feed: an in-process bus of captured exchanges. Capture (or anything else) may `publish`
 * an exchange the moment it is persisted; independently, while someone watches, the bus polls the
 * `exchanges` table every `pollMs` with a small overlap window, so exchanges persisted by another replica
 * (or before the capture hook is wired) appear too. Ids seen recently are dropped, so each exchange reaches
 * a listener once.
 * @example
 * const bus = createLiveBus({ db });
 * const stop = bus.subscribe((ex) => send(ex));
 * bus.publish(exchange); // from the capture pipeline's "persisted" hook
 * @module
 */
import { log } from "../core/log.ts";
import type { Db } from "../storage/db/db.ts";
import { exchangesCapturedAfter, type LiveExchange } from "../storage/ui/activity.ts";

/** The publishing side, the one hook capture needs. */
export interface LivePublisher {
  publish(exchange: LiveExchange): void;
}

/** The bus. */
export interface LiveBus extends LivePublisher {
  subscribe(listener: (exchange: LiveExchange) => void): () => void;
  close(): void;
}

const OVERLAP_MS = 5_000;
const SEEN_LIMIT = 20_000;

/** Builds a bus reading `db`; it polls only while it has listeners. */
export function createLiveBus(options: { db: Db; pollMs?: number; now?: () => number }): LiveBus {
  const listeners = new Set<(exchange: LiveExchange) => void>();
  const seen = new Set<string>();
  const now = options.now ?? Date.now;
  let watermark = now();
  let timer: ReturnType<typeof setInterval> | undefined;
  let polling = false;

  function deliver(exchange: LiveExchange): void {
    if (seen.has(exchange.id)) return;
    seen.add(exchange.id);
    if (seen.size > SEEN_LIMIT) {
      for (const id of seen) {
        seen.delete(id);
        if (seen.size <= SEEN_LIMIT / 2) break;
      }
    }
    watermark = Math.max(watermark, exchange.capturedAt);
    for (const listener of listeners) listener(exchange);
  }

  async function poll(): Promise<void> {
    if (polling) return;
    polling = true;
    try {
      for (const exchange of await exchangesCapturedAfter(options.db, watermark - OVERLAP_MS, 2_000)) {
        deliver(exchange);
      }
    } catch (error) {
      log.warn("ui.live_poll_failed", { reason: (error as Error).message });
    } finally {
      polling = false;
    }
  }

  return {
    publish: deliver,
    subscribe(listener) {
      listeners.add(listener);
      if (timer === undefined) {
        watermark = Math.max(watermark, now() - OVERLAP_MS);
        timer = setInterval(poll, options.pollMs ?? 500);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer !== undefined) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
    close() {
      listeners.clear();
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
