/**
 * Usage totals grouped by provider, model, developer, team and/or UTC day, over turns (so a session that
 * switched models counts each turn under its own model). Same SQL on both engines: the day is the
 * integer quotient of `started_at` by a day's milliseconds, turned into a date here.
 * @example
 * const rows = await usageStats(db, { by: ["developer", "day"], since: Date.now() - 7 * 86_400_000 });
 * @module
 */
import type { Db, SqlValue } from "../../storage/db/db.ts";

/** The dimensions `stats --by` accepts. */
export const STAT_DIMENSIONS = ["provider", "model", "developer", "team", "day"] as const;
export type StatDimension = typeof STAT_DIMENSIONS[number];

/** One group: its dimension values plus totals. */
export interface StatRow {
  provider?: string | null;
  model?: string | null;
  developer?: string | null;
  team?: string | null;
  day?: string;
  sessions: number;
  turns: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  /** Sum of what providers reported for these turns (OpenRouter), or null when none reported a cost. */
  provider_reported_cost_usd: number | null;
}

/** Options of `usageStats`; times are epoch milliseconds over the turn's start. */
export interface StatOptions {
  by: StatDimension[];
  since?: number;
  until?: number;
  developer?: string;
  team?: string;
  provider?: string;
}

const DAY_MS = 86_400_000;

const EXPRESSIONS: Record<StatDimension, string> = {
  provider: "provider",
  model: "model",
  developer: "developer",
  team: "team",
  day: `(started_at / ${DAY_MS})`,
};

/** Totals per group: by day when grouped by day, then biggest cost first. */
export async function usageStats(db: Db, options: StatOptions): Promise<StatRow[]> {
  const by = [...new Set(options.by)];
  if (by.length === 0) throw new RangeError("stats needs at least one --by dimension");
  const where: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: string, value: SqlValue) => {
    params.push(value);
    where.push(`${sql} $${params.length}`);
  };
  if (options.since !== undefined) add("started_at >=", options.since);
  if (options.until !== undefined) add("started_at <", options.until);
  if (options.developer !== undefined) add("developer =", options.developer);
  if (options.team !== undefined) add("team =", options.team);
  if (options.provider !== undefined) add("provider =", options.provider);
  const keys = by.map((d) => `${EXPRESSIONS[d]} AS k_${d}`);
  const rows = await db.query(
    `SELECT ${keys.join(", ")},
       COUNT(DISTINCT session_id) AS sessions, COUNT(*) AS turns,
       SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
       SUM(cache_read_tokens) AS cache_read_tokens,
       SUM(cache_write_5m_tokens + cache_write_1h_tokens) AS cache_write_tokens,
       SUM(reasoning_tokens) AS reasoning_tokens, SUM(COALESCE(cost_usd, 0)) AS cost_usd,
       SUM(provider_reported_cost_usd) AS provider_reported_cost_usd
     FROM turns ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     GROUP BY ${by.map((d) => EXPRESSIONS[d]).join(", ")}`,
    params,
  );
  const out = rows.map((r) => {
    const row: StatRow = {
      sessions: Number(r.sessions),
      turns: Number(r.turns),
      input_tokens: Number(r.input_tokens ?? 0),
      output_tokens: Number(r.output_tokens ?? 0),
      cache_read_tokens: Number(r.cache_read_tokens ?? 0),
      cache_write_tokens: Number(r.cache_write_tokens ?? 0),
      reasoning_tokens: Number(r.reasoning_tokens ?? 0),
      cost_usd: Math.round(Number(r.cost_usd ?? 0) * 1e9) / 1e9,
      provider_reported_cost_usd: r.provider_reported_cost_usd === null ||
          r.provider_reported_cost_usd === undefined
        ? null
        : Math.round(Number(r.provider_reported_cost_usd) * 1e9) / 1e9,
    };
    for (const d of by) {
      const v = r[`k_${d}`];
      if (d === "day") row.day = new Date(Number(v) * DAY_MS).toISOString().slice(0, 10);
      else row[d] = v === null || v === undefined ? null : String(v);
    }
    return row;
  });
  // Days read best in calendar order; within a day (or without days) the costliest group comes first.
  const label = (r: StatRow) => by.map((d) => r[d] ?? "").join("\u0000");
  return out.sort((a, b) =>
    (a.day ?? "").localeCompare(b.day ?? "") || b.cost_usd - a.cost_usd || (label(a) < label(b) ? -1 : 1)
  );
}
