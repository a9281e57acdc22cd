/**
 * Aggregates for the UI's Overview and Budgets pages: spend by team, developer, provider and model, spend
 * per day, and the counts of requests, blocks, redactions and throttles. Read from `turns`, `exchanges` and
 * `events`; times are epoch milliseconds.
 * @module
 */
import type { Db } from "../db/db.ts";

/** What spend can be grouped by. */
export type SpendDimension = "team" | "developer" | "provider" | "model";

/** One group's spend. */
export interface SpendRow {
  key: string | null;
  costUsd: number;
  turns: number;
  inputTokens: number;
  outputTokens: number;
}

/** Spend of turns started at or after `since`, largest first. */
export async function spendBy(db: Db, dimension: SpendDimension, since: number): Promise<SpendRow[]> {
  const rows = await db.query(
    `SELECT ${dimension} AS k, COALESCE(SUM(cost_usd), 0) AS cost, COUNT(*) AS n,
            COALESCE(SUM(input_tokens), 0) AS inp, COALESCE(SUM(output_tokens), 0) AS outp
     FROM turns WHERE started_at >= $1 GROUP BY ${dimension} ORDER BY cost DESC LIMIT 50`,
    [since],
  );
  return rows.map((r) => ({
    key: r.k === null ? null : String(r.k),
    costUsd: Number(r.cost),
    turns: Number(r.n),
    inputTokens: Number(r.inp),
    outputTokens: Number(r.outp),
  }));
}

/** Spend per UTC day from `since`, oldest first, days without turns included as zero. */
export async function dailySpend(
  db: Db,
  since: number,
  until: number,
): Promise<{ day: number; costUsd: number }[]> {
  const rows = await db.query(
    `SELECT started_at / 86400000 AS d, COALESCE(SUM(cost_usd), 0) AS cost
     FROM turns WHERE started_at >= $1 AND started_at < $2 GROUP BY started_at / 86400000`,
    [since, until],
  );
  const byDay = new Map(rows.map((r) => [Math.floor(Number(r.d)), Number(r.cost)]));
  const out: { day: number; costUsd: number }[] = [];
  for (let d = Math.floor(since / 86_400_000); d * 86_400_000 < until; d++) {
    out.push({ day: d * 86_400_000, costUsd: byDay.get(d) ?? 0 });
  }
  return out;
}

/** Counts shown as the Overview's tiles. */
export interface TrafficCounts {
  requests: number;
  blocks: number;
  redactions: number;
  throttles: number;
  errors: number;
}

/** Requests since `since` and what the policies did to them (enforced decisions only). */
export async function trafficCounts(db: Db, since: number): Promise<TrafficCounts> {
  const [ex] = await db.query("SELECT COUNT(*) AS n FROM exchanges WHERE started_at >= $1", [since]);
  const rows = await db.query(
    `SELECT decision, policy, COUNT(*) AS n FROM events
     WHERE kind = 'decision' AND at >= $1 AND enforced = $2 GROUP BY decision, policy`,
    [since, db.engine === "postgres" ? true : 1],
  );
  const counts: TrafficCounts = {
    requests: Number(ex?.n ?? 0),
    blocks: 0,
    redactions: 0,
    throttles: 0,
    errors: 0,
  };
  for (const r of rows) {
    const n = Number(r.n);
    const policy = String(r.policy ?? "");
    if (r.decision === "block" && policy.includes("throttle")) counts.throttles += n;
    else if (r.decision === "block") counts.blocks += n;
    else if (r.decision === "modify") counts.redactions += n;
    else if (r.decision === "error" || r.decision === "timeout") counts.errors += n;
  }
  return counts;
}

/** The most expensive sessions active since `since`. */
export async function topSessions(
  db: Db,
  since: number,
  limit = 10,
): Promise<
  {
    id: string;
    developer: string | null;
    team: string | null;
    model: string | null;
    costUsd: number;
    turns: number;
  }[]
> {
  const rows = await db.query(
    `SELECT id, developer, team, model, cost_usd, turn_count FROM sessions
     WHERE last_activity_at >= $1 ORDER BY cost_usd DESC, id LIMIT $2`,
    [since, limit],
  );
  return rows.map((r) => ({
    id: String(r.id),
    developer: r.developer === null ? null : String(r.developer),
    team: r.team === null ? null : String(r.team),
    model: r.model === null ? null : String(r.model),
    costUsd: Number(r.cost_usd),
    turns: Number(r.turn_count),
  }));
}
