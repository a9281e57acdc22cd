/**
 * Each gateway heartbeats into the database every `intervalMs`: who it is, the chain version it runs (and
 * why it could not apply a newer one), its in-flight exchanges, its capture backlog, and whether it is
 * draining. The last beat on a clean exit marks it stopped; a gateway that dies just stops beating and is
 * shown as lost.
 * @module
 */
import { hostname } from "node:os";
import { log } from "../core/log.ts";
import { RECONDO_VERSION } from "../core/version.ts";
import type { Db } from "../storage/db/db.ts";
import { type Heartbeat, writeHeartbeat } from "../storage/fleet/gateways.ts";

/** What the heartbeat reads from the running gateway at each beat. */
export interface HeartbeatProbe {
  chain(): { version: number | null; error: string | null };
  inFlight(): number;
  captureBacklog(): number;
  draining(): boolean;
}

/** This gateway's id: `RECONDO_GATEWAY_ID` (e.g. a pod name), else `<host>:<port>`. */
export function gatewayId(env: { get(name: string): string | undefined }, port: number): string {
  return env.get("RECONDO_GATEWAY_ID") || `${hostname()}:${port}`;
}

/** Starts beating; `stop()` writes the final beat (marked stopped) and ends the timer. */
export function startHeartbeat(
  db: Db,
  identity: { id: string; listen: string },
  probe: HeartbeatProbe,
  options: { intervalMs: number; now?: () => number },
): { beat(): Promise<void>; stop(): Promise<void> } {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const current = (): Heartbeat => {
    const chain = probe.chain();
    return {
      id: identity.id,
      host: hostname(),
      listen: identity.listen,
      version: RECONDO_VERSION,
      pid: Deno.pid,
      chainVersion: chain.version,
      chainError: chain.error,
      startedAt,
      inFlight: probe.inFlight(),
      captureBacklog: probe.captureBacklog(),
      draining: probe.draining(),
    };
  };
  let failing = false;
  const beat = async (stopped = false) => {
    try {
      await writeHeartbeat(db, current(), now(), { stopped });
      if (failing) log.info("fleet.heartbeat_restored", { id: identity.id });
      failing = false;
    } catch (error) {
      if (!failing) log.warn("fleet.heartbeat_failed", { id: identity.id, reason: (error as Error).message });
      failing = true;
    }
  };
  const timer = setInterval(() => void beat(), options.intervalMs);
  void beat();
  return {
    beat: () => beat(),
    async stop() {
      clearInterval(timer);
      await beat(true);
    },
  };
}
