/**
 * The alert outbox in SQL, for SQLite and PostgreSQL (migration `064_budget_alerts`). Two decisions are
 * the database's, never a replica's memory:
 * - **who raises an alert**: `claimAlert` inserts the alert under its dedupe key with `ON CONFLICT DO
 *   NOTHING`, and adds its deliveries in the same transaction only when that insert won;
 * - **who sends a delivery**: `leaseDelivery` bumps the attempt count and pushes `next_attempt_at` past
 *   the send's timeout in one conditional `UPDATE`; a replica whose update changed no row lost the race.
 *   A sender that crashes leaves the lease to expire, and any replica retries it.
 * @module
 */
import type { Db, Row } from "../db/db.ts";

/** An alert as raised, with the exact JSON body every delivery of it sends. */
export interface NewAlert {
  id: string;
  /** Once per key across all replicas, e.g. `budget|team:alpha|day|2026-11-28|80`. */
  dedupeKey: string;
  kind: string;
  scope: string;
  message: string;
  payload: string;
  gatewayId: string;
  createdAt: number;
}

/** A webhook a delivery goes to: an id derived from its URL and the host shown on the Events page. */
export interface WebhookTarget {
  id: string;
  host: string;
}

/** A delivery due for an attempt. */
export interface DueDelivery {
  alertId: string;
  webhookId: string;
  attempts: number;
  nextAttemptAt: number;
  payload: string;
}

/** How one delivery stands, for the Events page. */
export interface DeliveryState {
  webhookHost: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
}

/** An alert with its deliveries, newest first on the Events page. */
export interface AlertRow {
  id: string;
  kind: string;
  scope: string;
  message: string;
  gatewayId: string;
  createdAt: number;
  deliveries: DeliveryState[];
}

/**
 * Records the alert and queues one delivery per target, unless an alert with its dedupe key exists.
 * @returns `true` when this call raised it (and its deliveries are queued), `false` when another did.
 */
export function claimAlert(db: Db, alert: NewAlert, targets: readonly WebhookTarget[]): Promise<boolean> {
  return db.transaction(async (tx) => {
    const inserted = await tx.run(
      `INSERT INTO alerts (id, dedupe_key, kind, scope, message, payload, gateway_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedupe_key) DO NOTHING`,
      [
        alert.id,
        alert.dedupeKey,
        alert.kind,
        alert.scope,
        alert.message,
        alert.payload,
        alert.gatewayId,
        alert.createdAt,
      ],
    );
    if (inserted === 0) return false;
    for (const target of targets) {
      await tx.run(
        `INSERT INTO alert_deliveries (alert_id, webhook_id, webhook_host, status, attempts, next_attempt_at, updated_at)
         VALUES ($1, $2, $3, 'pending', 0, $4, $4)`,
        [alert.id, target.id, target.host, alert.createdAt],
      );
    }
    return true;
  });
}

/** Pending deliveries whose next attempt is due at `at`, oldest first. */
export async function dueDeliveries(db: Db, at: number, limit = 20): Promise<DueDelivery[]> {
  const rows = await db.query(
    `SELECT d.alert_id, d.webhook_id, d.attempts, d.next_attempt_at, a.payload
     FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
     WHERE d.status = 'pending' AND d.next_attempt_at <= $1
     ORDER BY d.next_attempt_at, d.alert_id LIMIT $2`,
    [at, limit],
  );
  return rows.map((r) => ({
    alertId: String(r.alert_id),
    webhookId: String(r.webhook_id),
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    payload: String(r.payload),
  }));
}

/** When the earliest pending delivery is due, or `null` when none is pending. */
export async function nextDueAt(db: Db): Promise<number | null> {
  const [row] = await db.query(
    "SELECT MIN(next_attempt_at) AS due FROM alert_deliveries WHERE status = 'pending'",
  );
  return row?.due === null || row?.due === undefined ? null : Number(row.due);
}

/**
 * Takes the delivery for one attempt, held until `leaseUntil`; `false` when another replica took it first
 * (the row no longer has the attempt count and due time this replica read).
 */
export async function leaseDelivery(
  db: Db,
  delivery: DueDelivery,
  options: { at: number; leaseUntil: number },
): Promise<boolean> {
  const changed = await db.run(
    `UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt_at = $4, updated_at = $5
     WHERE alert_id = $1 AND webhook_id = $2 AND status = 'pending' AND attempts = $3
       AND next_attempt_at = $6`,
    [
      delivery.alertId,
      delivery.webhookId,
      delivery.attempts,
      options.leaseUntil,
      options.at,
      delivery.nextAttemptAt,
    ],
  );
  return changed === 1;
}

/** Records an attempt's outcome: delivered, retry at `retryAt`, or (without `retryAt`) failed for good. */
export async function recordAttempt(
  db: Db,
  key: { alertId: string; webhookId: string },
  outcome:
    | { ok: true; status: number; at: number }
    | { ok: false; status: number | null; error: string; at: number; retryAt: number | null },
): Promise<void> {
  if (outcome.ok) {
    await db.run(
      `UPDATE alert_deliveries SET status = 'delivered', last_status = $3, last_error = NULL,
         delivered_at = $4, updated_at = $4 WHERE alert_id = $1 AND webhook_id = $2`,
      [key.alertId, key.webhookId, outcome.status, outcome.at],
    );
    return;
  }
  await db.run(
    `UPDATE alert_deliveries SET status = $3, last_status = $4, last_error = $5,
       next_attempt_at = COALESCE($6, next_attempt_at), updated_at = $7
     WHERE alert_id = $1 AND webhook_id = $2`,
    [
      key.alertId,
      key.webhookId,
      outcome.retryAt === null ? "failed" : "pending",
      outcome.status,
      outcome.error.slice(0, 500),
      outcome.retryAt,
      outcome.at,
    ],
  );
}

function delivery(r: Row): DeliveryState {
  return {
    webhookHost: String(r.webhook_host),
    status: String(r.status) as DeliveryState["status"],
    attempts: Number(r.attempts),
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    lastError: r.last_error === null ? null : String(r.last_error),
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  };
}

/** The newest alerts with their deliveries, for the Events page. */
export async function listAlerts(db: Db, options: { limit?: number } = {}): Promise<AlertRow[]> {
  const rows = await db.query(
    `SELECT id, kind, scope, message, gateway_id, created_at FROM alerts
     ORDER BY created_at DESC, id DESC LIMIT $1`,
    [Math.min(options.limit ?? 50, 500)],
  );
  if (rows.length === 0) return [];
  const marks = rows.map((_, i) => `$${i + 1}`).join(", ");
  const deliveries = await db.query(
    `SELECT * FROM alert_deliveries WHERE alert_id IN (${marks}) ORDER BY webhook_host, webhook_id`,
    rows.map((r) => String(r.id)),
  );
  return rows.map((r) => ({
    id: String(r.id),
    kind: String(r.kind),
    scope: String(r.scope),
    message: String(r.message),
    gatewayId: String(r.gateway_id),
    createdAt: Number(r.created_at),
    deliveries: deliveries.filter((d) => String(d.alert_id) === String(r.id)).map(delivery),
  }));
}
