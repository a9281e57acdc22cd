/**
 * Calendar budget periods in a configured IANA time zone: a day starts at local midnight, a week on local
 * Monday midnight (ISO 8601), a month on the 1st. Computed with `Intl`, so daylight-saving changes give
 * 23- and 25-hour days exactly as the people paying for them see them.
 * @module
 */

export type Period = "day" | "week" | "month";

/** One period: its bounds in epoch milliseconds and its local start date, which names it. */
export interface PeriodWindow {
  start: number;
  end: number;
  /** `2026-11-28` (the local date the period starts on). */
  label: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a `RangeError` naming the zone when `Intl` does not know it. */
export function assertTimeZone(timeZone: string): void {
  formatter(timeZone);
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localParts(at: number, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(at)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return parts as unknown as LocalParts;
}

/** Offset of the zone from UTC at `at`, in milliseconds (positive east of Greenwich). */
function offsetAt(at: number, timeZone: string): number {
  const p = localParts(at, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** The epoch milliseconds of local midnight on the given local date. */
function localMidnight(year: number, month: number, day: number, timeZone: string): number {
  const guess = Date.UTC(year, month - 1, day);
  let at = guess - offsetAt(guess, timeZone);
  at = guess - offsetAt(at, timeZone);
  return at;
}

function label(year: number, month: number, day: number): string {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.toISOString().slice(0, 10);
}

/**
 * The period of the given kind containing `at`.
 * @example periodWindow("day", Date.now(), "Europe/Paris") // { start, end, label: "2026-11-28" }
 */
export function periodWindow(period: Period, at: number, timeZone: string): PeriodWindow {
  const p = localParts(at, timeZone);
  let start: Date;
  let next: Date;
  if (period === "day") {
    start = new Date(Date.UTC(p.year, p.month - 1, p.day));
    next = new Date(Date.UTC(p.year, p.month - 1, p.day + 1));
  } else if (period === "week") {
    const weekday = (new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay() + 6) % 7; // Monday = 0
    start = new Date(Date.UTC(p.year, p.month - 1, p.day - weekday));
    next = new Date(Date.UTC(p.year, p.month - 1, p.day - weekday + 7));
  } else {
    start = new Date(Date.UTC(p.year, p.month - 1, 1));
    next = new Date(Date.UTC(p.year, p.month, 1));
  }
  const y = (d: Date) => [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()] as const;
  return {
    start: localMidnight(...y(start), timeZone),
    end: localMidnight(...y(next), timeZone),
    label: label(...y(start)),
  };
}

/** `2026-11-29 00:00 Europe/Paris`: how a reset time is shown to a developer. */
export function describeInstant(at: number, timeZone: string): string {
  const p = localParts(at, timeZone);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)} ${timeZone}`;
}
