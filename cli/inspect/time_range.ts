/**
 * Parses the `--since` / `--until` values of the inspector: an ISO date or time (`2026-05-01`,
 * `2026-05-01T09:00Z`) or an age relative to now (`30m`, `24h`, `7d`).
 * @module
 */

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Epoch milliseconds for `value`, or a `RangeError` naming the option and the value. */
export function parseTime(option: string, value: string, now: number = Date.now()): number {
  const relative = value.match(/^(\d+)([mhd])$/);
  if (relative) return now - Number(relative[1]) * UNITS[relative[2]];
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    throw new RangeError(`--${option} must be an ISO date or an age like 7d, 24h, 30m; got "${value}"`);
  }
  return ms;
}
