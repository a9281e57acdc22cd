import assert from "node:assert/strict";
import { describeInstant, periodWindow } from "./periods.ts";

const iso = (ms: number) => new Date(ms).toISOString();

Deno.test("periods follow the configured time zone's calendar: day, ISO week from Monday, month", () => {
  const at = Date.UTC(2026, 10, 28, 23, 30); // Sunday 29 Nov 00:30 in Paris
  const day = periodWindow("day", at, "Europe/Paris");
  assert.deepEqual([iso(day.start), iso(day.end), day.label], [
    "2026-11-28T23:00:00.000Z",
    "2026-11-29T23:00:00.000Z",
    "2026-11-29",
  ]);
  const week = periodWindow("week", at, "Europe/Paris");
  assert.deepEqual([iso(week.start), week.label], ["2026-11-22T23:00:00.000Z", "2026-11-23"]);
  const month = periodWindow("month", at, "UTC");
  assert.deepEqual([iso(month.start), iso(month.end)], [
    "2026-11-01T00:00:00.000Z",
    "2026-12-01T00:00:00.000Z",
  ]);
  assert.equal(describeInstant(day.end, "Europe/Paris"), "2026-11-30 00:00 Europe/Paris");
});

Deno.test("a day that loses an hour to daylight saving is 23 hours long", () => {
  const day = periodWindow("day", Date.UTC(2026, 2, 29, 12), "Europe/Paris");
  assert.equal(day.end - day.start, 23 * 3_600_000);
  assert.equal(iso(day.start), "2026-03-28T23:00:00.000Z");
});
