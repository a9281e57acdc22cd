/**
 * Chargeback: tokens by kind and cost per team, developer, repository or model over one calendar month
 * (UTC), for `recondo report` and the Budgets page's download. Turns without a price (`cost_usd` NULL)
 * are listed apart, so a group's cost never silently includes a zero it does not know. The totals are
 * one SUM over every turn of the period, the same one `recondo stats` makes, so the two agree to the cent.
 * @example
 * const report = await chargebackReport(db, { by: "team", period: parseReportPeriod("2026-11") });
 * @module
 */
import type { Db, Row } from "../db/db.ts";
import { toCsv } from "./csv.ts";

/** What `report --by` accepts. */
export const REPORT_GROUPS = ["team", "developer", "repo", "model"] as const;
export type ReportGroup = typeof REPORT_GROUPS[number];

/** One calendar month in UTC: `[since, until)`. */
export interface ReportPeriod {
  /** `2026-11`. */
  label: string;
  since: number;
  until: number;
}

/** One line of the report (snake_case, as `--json` prints it). */
export interface ChargebackLine {
  /** The team, developer, repository or model; `null` when the turns do not say. */
  group: string | null;
  turns: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  /** USD; `null` on unpriced lines. */
  cost_usd: number | null;
}

export interface ChargebackReport {
  by: ReportGroup;
  period: string;
  since: string;
  until: string;
  /** Priced usage per group, costliest first. */
  rows: ChargebackLine[];
  /** Usage without a price per group (tokens only). */
  unpriced: ChargebackLine[];
  /** Every turn of the period, priced or not. */
  totals: ChargebackLine;
}

const COLUMNS: Record<ReportGroup, string> = {
  team: "t.team",
  developer: "t.developer",
  repo: "s.repo",
  model: "t.model",
};

const SUMS = `COUNT(*) AS turns, SUM(t.input_tokens) AS input_tokens, SUM(t.output_tokens) AS output_tokens,
  SUM(t.cache_read_tokens) AS cache_read_tokens,
  SUM(t.cache_write_5m_tokens + t.cache_write_1h_tokens) AS cache_write_tokens,
  SUM(t.reasoning_tokens) AS reasoning_tokens, SUM(COALESCE(t.cost_usd, 0)) AS cost_usd`;

/**
 * The month `value` names: `month` (the current UTC month at `now`) or `YYYY-MM`.
 * @throws RangeError naming the value when it is neither.
 */
export function parseReportPeriod(value: string, now = Date.now()): ReportPeriod {
  let year: number;
  let month: number;
  if (value === "month") {
    const d = new Date(now);
    [year, month] = [d.getUTCFullYear(), d.getUTCMonth() + 1];
  } else {
    const m = /^(\d{4})-(\d{2})$/.exec(value);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) {
      throw new RangeError(
        `--period must be "month" (the current UTC month) or a month such as 2026-11, got "${value}"`,
      );
    }
    [year, month] = [Number(m[1]), Number(m[2])];
  }
  return {
    label: `${year}-${String(month).padStart(2, "0")}`,
    since: Date.UTC(year, month - 1, 1),
    until: Date.UTC(year, month, 1),
  };
}

function line(r: Row | undefined, group: string | null, priced: boolean): ChargebackLine {
  return {
    group,
    turns: Number(r?.turns ?? 0),
    input_tokens: Number(r?.input_tokens ?? 0),
    output_tokens: Number(r?.output_tokens ?? 0),
    cache_read_tokens: Number(r?.cache_read_tokens ?? 0),
    cache_write_tokens: Number(r?.cache_write_tokens ?? 0),
    reasoning_tokens: Number(r?.reasoning_tokens ?? 0),
    // Micro-USD: the unit the spend ledger counts in; float noise below it is not money.
    cost_usd: priced ? Math.round(Number(r?.cost_usd ?? 0) * 1e6) / 1e6 : null,
  };
}

/** The report for `period`, grouped `by` one dimension. */
export async function chargebackReport(
  db: Db,
  options: { by: ReportGroup; period: ReportPeriod },
): Promise<ChargebackReport> {
  const column = COLUMNS[options.by];
  if (!column) throw new RangeError(`--by must be one of ${REPORT_GROUPS.join(", ")}, got "${options.by}"`);
  const range = [options.period.since, options.period.until];
  const grouped = await db.query(
    `SELECT ${column} AS grp, CASE WHEN t.cost_usd IS NULL THEN 1 ELSE 0 END AS unpriced, ${SUMS}
     FROM turns t LEFT JOIN sessions s ON s.id = t.session_id
     WHERE t.started_at >= $1 AND t.started_at < $2
     GROUP BY ${column}, CASE WHEN t.cost_usd IS NULL THEN 1 ELSE 0 END`,
    range,
  );
  const [total] = await db.query(
    `SELECT ${SUMS} FROM turns t WHERE t.started_at >= $1 AND t.started_at < $2`,
    range,
  );
  const name = (r: Row) => (r.grp === null || r.grp === undefined ? null : String(r.grp));
  const order = (a: ChargebackLine, b: ChargebackLine) =>
    (b.cost_usd ?? 0) - (a.cost_usd ?? 0) || b.turns - a.turns ||
    String(a.group).localeCompare(String(b.group));
  return {
    by: options.by,
    period: options.period.label,
    since: new Date(options.period.since).toISOString(),
    until: new Date(options.period.until).toISOString(),
    rows: grouped.filter((r) => Number(r.unpriced) === 0).map((r) => line(r, name(r), true)).sort(order),
    unpriced: grouped.filter((r) => Number(r.unpriced) === 1).map((r) => line(r, name(r), false)).sort(order),
    totals: line(total, null, true),
  };
}

/** The report as CSV: a `section` column says `priced`, `unpriced` or `total`. */
export function chargebackCsv(report: ChargebackReport): string {
  const cells = (section: string, l: ChargebackLine) => [
    l.group,
    section,
    l.turns,
    l.input_tokens,
    l.output_tokens,
    l.cache_read_tokens,
    l.cache_write_tokens,
    l.reasoning_tokens,
    l.cost_usd === null ? null : l.cost_usd.toFixed(6),
  ];
  return toCsv(
    [
      report.by,
      "section",
      "turns",
      "input_tokens",
      "output_tokens",
      "cache_read_tokens",
      "cache_write_tokens",
      "reasoning_tokens",
      "cost_usd",
    ],
    [
      ...report.rows.map((l) => cells("priced", l)),
      ...report.unpriced.map((l) => cells("unpriced", l)),
      cells("total", report.totals),
    ],
  );
}
