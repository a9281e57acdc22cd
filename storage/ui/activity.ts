/**
 * Read queries behind the UI's Live, Events, Budgets and Integrity pages.
 * @module
 */
import type { Db, SqlValue } from "../db/db.ts";

/** An exchange as the Live view shows it. */
export interface LiveExchange {
  id: string;
  startedAt: number;
  capturedAt: number;
  provider: string;
  method: string;
  host: string;
  path: string;
  status: number | null;
  outcome: string | null;
  developer: string | null;
  team: string | null;
  durationMs: number | null;
  sessionId: string | null;
  turnId: string | null;
  model: string | null;
  costUsd: number | null;
}

/**
 * Exchanges captured after `capturedAfter` (oldest first), with their turn's model and cost. With
 * `afterId`, the cursor is `(capturedAfter, afterId)`, so a caller can page through exchanges that share a
 * millisecond.
 */
export async function exchangesCapturedAfter(
  db: Db,
  capturedAfter: number,
  limit = 500,
  afterId?: string,
): Promise<LiveExchange[]> {
  const rows = await db.query(
    `SELECT e.*, t.model AS t_model, t.cost_usd AS t_cost FROM exchanges e LEFT JOIN turns t ON t.id = e.turn_id
     WHERE ${
      afterId === undefined
        ? "e.captured_at > $1"
        : "(e.captured_at > $1 OR (e.captured_at = $1 AND e.id > $3))"
    }
     ORDER BY e.captured_at, e.id LIMIT $2`,
    afterId === undefined ? [capturedAfter, limit] : [capturedAfter, limit, afterId],
  );
  return rows.map((r) => ({
    id: String(r.id),
    startedAt: Number(r.started_at),
    capturedAt: Number(r.captured_at),
    provider: String(r.provider),
    method: String(r.method),
    host: String(r.host),
    path: String(r.path),
    status: r.status === null ? null : Number(r.status),
    outcome: r.outcome === null ? null : String(r.outcome),
    developer: r.developer === null ? null : String(r.developer),
    team: r.team === null ? null : String(r.team),
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    sessionId: r.session_id === null ? null : String(r.session_id),
    turnId: r.turn_id === null ? null : String(r.turn_id),
    model: r.t_model === null || r.t_model === undefined ? null : String(r.t_model),
    costUsd: r.t_cost === null || r.t_cost === undefined ? null : Number(r.t_cost),
  }));
}

/** The newest captured exchanges, newest first. */
export async function recentExchanges(db: Db, limit = 50): Promise<LiveExchange[]> {
  const [row] = await db.query(
    "SELECT captured_at FROM exchanges ORDER BY captured_at DESC LIMIT 1 OFFSET $1",
    [
      limit,
    ],
  );
  const from = row ? Number(row.captured_at) : -1;
  return (await exchangesCapturedAfter(db, from, limit + 1)).slice(-limit).reverse();
}

/** A policy decision worth looking at. */
export interface EventRow {
  id: string;
  at: number;
  exchangeId: string;
  sessionId: string | null;
  turnId: string | null;
  policy: string | null;
  hook: string | null;
  decision: string | null;
  enforced: boolean;
  reason: string;
}

/** Non-allow decisions, newest first; `decision` narrows to one kind (block, modify, error, timeout). */
export async function listEvents(
  db: Db,
  options: { decision?: string; before?: number; limit?: number } = {},
): Promise<EventRow[]> {
  const params: SqlValue[] = [options.before ?? Number.MAX_SAFE_INTEGER];
  let where = "at < $1 AND (decision IS NULL OR decision <> 'allow')";
  if (options.decision) {
    params.push(options.decision);
    where += ` AND decision = $${params.length}`;
  }
  params.push(Math.min(options.limit ?? 100, 500));
  const rows = await db.query(
    `SELECT * FROM events WHERE ${where} ORDER BY at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({
    id: String(r.id),
    at: Number(r.at),
    exchangeId: String(r.exchange_id),
    sessionId: r.session_id === null ? null : String(r.session_id),
    turnId: r.turn_id === null ? null : String(r.turn_id),
    policy: r.policy === null ? null : String(r.policy),
    hook: r.hook === null ? null : String(r.hook),
    decision: r.decision === null ? null : String(r.decision),
    enforced: Boolean(r.enforced),
    reason: String(r.reason),
  }));
}

/** A spend-cap budget row (`spend_budgets`, written by the spend-cap policy's ledger). */
export interface BudgetRow {
  key: string;
  scope: string;
  period: string;
  periodStart: number;
  periodEnd: number;
  spentUsd: number;
  reservedUsd: number;
}

/** Budgets whose period is current at `now`. */
export async function currentBudgets(db: Db, now = Date.now()): Promise<BudgetRow[]> {
  const rows = await db.query(
    "SELECT * FROM spend_budgets WHERE period_start <= $1 AND period_end > $1 ORDER BY scope, period",
    [now],
  );
  return rows.map((r) => ({
    key: String(r.budget_key),
    scope: String(r.scope),
    period: String(r.period),
    periodStart: Number(r.period_start),
    periodEnd: Number(r.period_end),
    spentUsd: Number(r.spent_micros) / 1e6,
    reservedUsd: Number(r.reserved_micros) / 1e6,
  }));
}

/** A session's chain, as the Integrity page checks it: each turn's link to the one before. */
export interface ChainCheck {
  sessionId: string;
  turns: number;
  brokenAt: number | null;
  signedHeads: number;
  lastSignedAt: number | null;
}

/**
 * Checks that each turn's `prev_hash` is the previous turn's `hash` for the `limit` most recent sessions.
 * This is the cheap link check; `recondo verify` recomputes every hash from the stored bodies.
 */
export async function checkChains(db: Db, limit = 50): Promise<ChainCheck[]> {
  const sessions = await db.query("SELECT id FROM sessions ORDER BY last_activity_at DESC LIMIT $1", [limit]);
  const out: ChainCheck[] = [];
  for (const s of sessions) {
    const id = String(s.id);
    const turns = await db.query(
      "SELECT seq, prev_hash, hash FROM turns WHERE session_id = $1 ORDER BY seq",
      [id],
    );
    const deleted = new Set(
      (await db.query("SELECT seq FROM deletions WHERE session_id = $1", [id])).map((r) => Number(r.seq)),
    );
    let brokenAt: number | null = null;
    for (let i = 1; i < turns.length; i++) {
      const gap = Number(turns[i].seq) !== Number(turns[i - 1].seq) + 1;
      if (turns[i].prev_hash !== turns[i - 1].hash && !(gap && deleted.size > 0)) {
        brokenAt = Number(turns[i].seq);
        break;
      }
    }
    const [heads] = await db.query(
      "SELECT COUNT(*) AS n, MAX(signed_at) AS last FROM chain_heads WHERE session_id = $1",
      [id],
    );
    out.push({
      sessionId: id,
      turns: turns.length,
      brokenAt,
      signedHeads: Number(heads?.n ?? 0),
      lastSignedAt: heads?.last === null || heads?.last === undefined ? null : Number(heads.last),
    });
  }
  return out;
}
