import assert from "node:assert/strict";
import { percentile, ratio, signed, thousands } from "./stats.ts";

Deno.test("percentile picks a sample that occurred, by nearest rank", () => {
  const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  assert.equal(percentile(samples, 50), 5);
  assert.equal(percentile(samples, 99), 10);
  assert.equal(percentile(samples, 0), 1);
  assert.ok(Number.isNaN(percentile([], 50)));
});

Deno.test("formatting shows signs, thousands and ratios the way the table reads them", () => {
  assert.equal(signed(0.125), "+0.13");
  assert.equal(signed(-0.5), "−0.50");
  assert.equal(thousands(12345.6), "12,346");
  assert.equal(ratio(3, 2), "1.50×");
  assert.equal(ratio(1, 0), "–");
});
