/**
 * Display formats shared by pages and islands: money, tokens, durations, times (UTC, ISO-like so they sort
 * and compare at a glance).
 * @module
 */

/** `$1,234.57`; `—` for unknown. Sub-cent amounts keep four decimals so small turns are not all `$0.00`. */
export function usd(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const digits = Math.abs(value) > 0 && Math.abs(value) < 0.01 ? 4 : 2;
  return `$${
    value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
  }`;
}

/** `12,345` or `1.2M`. */
export function count(value: number): string {
  if (value >= 10_000_000) return `${(value / 1_000_000).toFixed(1)}M`;
  return value.toLocaleString("en-US");
}

/** `850 ms`, `12.3 s`; `—` for unknown. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** `2026-11-28 12:40:37` (UTC). */
export function time(value: number | string): string {
  const date = typeof value === "number" ? new Date(value) : new Date(value);
  return date.toISOString().replace("T", " ").slice(0, 19);
}

/** The first `n` characters with an ellipsis. */
export function clip(text: string | null | undefined, n: number): string {
  if (!text) return "";
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
