/**
 * Fleet status: every gateway writes its heartbeat row (table `gateways`, migration 040) and anyone with
 * the database can list them. A gateway silent for longer than `lostAfterMs` is `lost`; one that exited
 * cleanly is `stopped`.
 * @module
 */
import type { Queryable, Row } from "../db/db.ts";

/** What a gateway reports about itself. */
export interface Heartbeat {
  id: string;
  host: string;
  listen: string;
  version: string;
  pid: number;
  chainVersion: number | null;
  chainError: string | null;
  startedAt: number;
  inFlight: number;
  captureBacklog: number;
  draining: boolean;
}

/** A gateway as `recondo fleet status --json` and the Gateways page show it. */
export interface GatewayStatus extends Heartbeat {
  lastSeen: number;
  stoppedAt: number | null;
  status: "up" | "draining" | "lost" | "stopped";
}

/** Writes (or refreshes) `beat` as seen at `now`; `stopped` marks a clean exit. */
export async function writeHeartbeat(
  db: Queryable,
  beat: Heartbeat,
  now: number,
  options: { stopped?: boolean } = {},
): Promise<void> {
  await db.run(
    `INSERT INTO gateways (id, host, listen, version, pid, chain_version, chain_error, started_at, last_seen,
       in_flight, capture_backlog, draining, stopped_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (id) DO UPDATE SET host = excluded.host, listen = excluded.listen, version = excluded.version,
       pid = excluded.pid, chain_version = excluded.chain_version, chain_error = excluded.chain_error,
       started_at = excluded.started_at, last_seen = excluded.last_seen, in_flight = excluded.in_flight,
       capture_backlog = excluded.capture_backlog, draining = excluded.draining, stopped_at = excluded.stopped_at`,
    [
      beat.id,
      beat.host,
      beat.listen,
      beat.version,
      beat.pid,
      beat.chainVersion,
      beat.chainError,
      beat.startedAt,
      now,
      beat.inFlight,
      beat.captureBacklog,
      beat.draining,
      options.stopped ? now : null,
    ],
  );
}

function status(row: Row, now: number, lostAfterMs: number): GatewayStatus {
  const lastSeen = Number(row.last_seen);
  const stoppedAt = row.stopped_at === null ? null : Number(row.stopped_at);
  const draining = row.draining === true || Number(row.draining) === 1;
  return {
    id: String(row.id),
    host: String(row.host),
    listen: String(row.listen),
    version: String(row.version),
    pid: Number(row.pid),
    chainVersion: row.chain_version === null ? null : Number(row.chain_version),
    chainError: row.chain_error === null ? null : String(row.chain_error),
    startedAt: Number(row.started_at),
    inFlight: Number(row.in_flight),
    captureBacklog: Number(row.capture_backlog),
    draining,
    lastSeen,
    stoppedAt,
    status: stoppedAt !== null
      ? "stopped"
      : now - lastSeen > lostAfterMs
      ? "lost"
      : draining
      ? "draining"
      : "up",
  };
}

/** Every gateway that ever reported, newest start first. */
export async function listGateways(
  db: Queryable,
  options: { now?: number; lostAfterMs?: number } = {},
): Promise<GatewayStatus[]> {
  const rows = await db.query("SELECT * FROM gateways ORDER BY started_at DESC, id");
  const now = options.now ?? Date.now();
  return rows.map((row) => status(row, now, options.lostAfterMs ?? 30_000));
}
