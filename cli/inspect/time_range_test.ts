import assert from "node:assert/strict";
import { parseTime } from "./time_range.ts";

Deno.test("a relative age counts back from now and an ISO date is taken as UTC", () => {
  const now = Date.UTC(2026, 4, 10);
  assert.equal(parseTime("since", "7d", now), Date.UTC(2026, 4, 3));
  assert.equal(parseTime("since", "90m", now), now - 90 * 60_000);
  assert.equal(parseTime("since", "2026-05-01", now), Date.UTC(2026, 4, 1));
});

Deno.test("an unreadable time names the option and the value", () => {
  assert.throws(() => parseTime("until", "yesterday"), /--until must be .* got "yesterday"/);
});
