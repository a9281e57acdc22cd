/**
 * The drain sequence, as Envoy drains a listener: stop accepting, let what is in flight finish within a
 * grace period, report what had to be abandoned. Capture is not touched here: the caller flushes it after
 * (`recondo serve` runs its shutdown sequence once drain resolves).
 * @module
 */
import { log } from "../core/log.ts";
import type { InFlight } from "./inflight.ts";

/** How a drain ended: `completed` when nothing was left in flight; `abandoned` counts what was. */
export interface DrainResult {
  completed: boolean;
  abandoned: number;
}

/** What drain needs from the gateway. */
export interface DrainParts {
  inFlight: InFlight;
  /** Stops listening on the proxy port (new connections are refused); open ones stay. */
  stopAccepting(): void;
}

/**
 * Drains once: marks the gateway draining (so `/readyz` answers 503 and h1 responses carry
 * `connection: close`), stops accepting, ends idle client connections and waits up to `graceMs` for
 * exchanges, WebSocket sessions and blind tunnels to end. It never cuts anything itself: after the
 * grace, `abandoned` says how much the caller's `close()` will cut.
 * @example
 * const { completed, abandoned } = await drainGateway(parts, 300_000);
 */
export async function drainGateway(parts: DrainParts, graceMs: number): Promise<DrainResult> {
  const { inFlight } = parts;
  const started = Date.now();
  log.info("drain.started", {
    graceMs,
    exchanges: inFlight.count("exchange"),
    websockets: inFlight.count("websocket"),
    tunnels: inFlight.count("tunnel"),
  });
  inFlight.startDraining();
  parts.stopAccepting();
  const completed = await inFlight.whenIdle(graceMs);
  const abandoned = completed ? 0 : inFlight.total;
  const fields = {
    completed,
    abandoned,
    exchanges: inFlight.count("exchange"),
    websockets: inFlight.count("websocket"),
    tunnels: inFlight.count("tunnel"),
    ms: Date.now() - started,
  };
  if (completed) log.info("drain.finished", fields);
  else log.warn("drain.grace_expired", fields);
  return { completed, abandoned };
}
