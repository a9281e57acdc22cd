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
}

/** Spend of one UTC day for one (team, developer, provider, model). */
export interface RollupRow {
  day: number;
  team: string | null;
  developer: string | null;
  provider: string;
  model: string | null;
  costUsd: number;
  turns: number;
}

const DAY = 86_400_000;
/** How long the rollup of closed days (before today, UTC) is reused. */
const CLOSED_DAYS_TTL_MS = 5 * 60_000;

async function rollup(db: Db, from: number, to: number): Promise<RollupRow[]> {
  const rows = await db.query(
    `SELECT started_at / ${DAY} AS d, team, developer, provider, model, COALESCE(SUM(cost_usd), 0) AS cost, COUNT(*) AS n
     FROM turns WHERE started_at >= $1 AND started_at < $2 GROUP BY started_at / ${DAY}, team, developer, provider, model`,
    [from, to],
  );
  return rows.map((r) => ({
    day: Math.floor(Number(r.d)) * DAY,
    team: r.team === null ? null : String(r.team),
    developer: r.developer === null ? null : String(r.developer),
    provider: String(r.provider),
    model: r.model === null ? null : String(r.model),
    costUsd: Number(r.cost),
    turns: Number(r.n),
  }));
}

/** Days the rollup covers: this month and the Overview's 30-day chart fit in it. */
export const ROLLUP_DAYS = 62;

const closedCache = new WeakMap<Db, { to: number; at: number; rows: RollupRow[] }>();

/**
 * Spend per day and group over the last `ROLLUP_DAYS` days up to `now`, read from the covering index
 * `turns_ui_spend` (migration 021). Days before today are settled, so their rollup is reused for five
 * minutes (a turn replayed late from the journal into an earlier day shows up within that time); today is
 * always read live.
 */
export async function spendRollup(db: Db, now = Date.now()): Promise<RollupRow[]> {
  const today = Math.floor(now / DAY) * DAY;
  let closed = closedCache.get(db);
  if (!closed || closed.to !== today || now - closed.at > CLOSED_DAYS_TTL_MS) {
    closed = { to: today, at: now, rows: await rollup(db, today - ROLLUP_DAYS * DAY, today) };
    closedCache.set(db, closed);
  }
  return closed.rows.concat(await rollup(db, today, today + DAY));
}

/** Sums rollup rows of the days from `since` (rounded down to its UTC day) by one dimension, largest first. */
export function sumBy(rows: RollupRow[], dimension: SpendDimension, since: number): SpendRow[] {
  const groups = new Map<string | null, SpendRow>();
  for (const r of rows) {
    if (r.day < Math.floor(since / DAY) * DAY) continue;
    const key = r[dimension];
    const group = groups.get(key) ?? { key, costUsd: 0, turns: 0 };
    group.costUsd += r.costUsd;
    group.turns += r.turns;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.costUsd - a.costUsd);
}

/** Spend per UTC day from `since` to `until`, oldest first, days without turns as zero. */
export function sumByDay(
  rows: RollupRow[],
  since: number,
  until: number,
): { day: number; costUsd: number }[] {
  const byDay = new Map<number, number>();
  for (const r of rows) byDay.set(r.day, (byDay.get(r.day) ?? 0) + r.costUsd);
  const out: { day: number; costUsd: number }[] = [];
  for (let d = Math.floor(since / DAY) * DAY; d < until; d += DAY) {
    out.push({ day: d, costUsd: byDay.get(d) ?? 0 });
  }
  return out;
}

/** Spend of the days from `since` to `now` by one dimension, largest first (within `ROLLUP_DAYS`). */
export async function spendBy(
  db: Db,
  dimension: SpendDimension,
  since: number,
  now = Date.now(),
): Promise<SpendRow[]> {
  if (since < Math.floor(now / DAY) * DAY - ROLLUP_DAYS * DAY) {
    throw new RangeError(
      `Spend is rolled up for the last ${ROLLUP_DAYS} days only, asked from ${new Date(since).toISOString()}`,
    );
  }
  return sumBy(await spendRollup(db, now), dimension, since);
}

/** The UTC start of today and of this month. */
export function periodStarts(now = Date.now()): { today: number; month: number } {
  const d = new Date(now);
  return { today: Math.floor(now / DAY) * DAY, month: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) };
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
