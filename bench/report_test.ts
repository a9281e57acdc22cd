import assert from "node:assert/strict";
import { checkTargets, heldBack, type PathResult, replaceSection, type RunInfo } from "./report.ts";

function path(name: string, overrides: Partial<PathResult>): PathResult {
  return {
    name,
    latencyMs: [1],
    throughputRounds: [],
    completed: 1000,
    seconds: 1,
    errors: 0,
    ttfbMs: [1],
    eventDelayMs: [],
    eventsPerStream: [],
    rss: null,
    cpuPerRequestMs: { proxy: null, upstream: 0, client: 0 },
    ...overrides,
  };
}

const info: RunInfo = {
  date: "today",
  machine: "m",
  versions: "v",
  eventsPerStream: 2,
  eventIntervalMs: 20,
  connections: 32,
  durationMs: 1000,
  notes: [],
};

Deno.test("targets compare Recondo with direct and mitmdump measured in the same run", () => {
  const direct = path("direct", { latencyMs: [0.2, 0.2, 0.3], completed: 10_000, ttfbMs: [2] });
  const recondo = path("Recondo", {
    latencyMs: [0.4, 0.45, 0.5],
    completed: 6_000,
    ttfbMs: [2.5],
    eventDelayMs: [1, 1, 1, 12],
    eventsPerStream: [2, 2],
  });
  const mitm = path("mitmdump", { completed: 1_000 });
  const checks = checkTargets(direct, recondo, mitm, info);
  assert.deepEqual(checks.map((c) => c.met), [true, true, true, true, false]);
  assert.match(checks[4].measured, /4\/4 events arrived, 1 ≥ 10 ms late/);
  assert.equal(heldBack(recondo, 20), 1);
});

Deno.test("targets are missed when Recondo is slower than the ratios allow", () => {
  const direct = path("direct", { latencyMs: [0.2], completed: 10_000, ttfbMs: [2] });
  const recondo = path("Recondo", {
    latencyMs: [0.6],
    completed: 4_000,
    ttfbMs: [3.5],
    eventsPerStream: [2],
  });
  const checks = checkTargets(direct, recondo, path("mitmdump", { completed: 1_000 }), info);
  assert.deepEqual(checks.map((c) => c.met), [false, false, false, false, false]);
  assert.equal(checkTargets(direct, recondo, null, info)[2].met, null);
});

Deno.test("replaceSection swaps one section and keeps the others in place", () => {
  const doc = "# Benchmarks\n\nintro\n\n## A\n\nold a\n\n## B\n\nb stays\n";
  const next = replaceSection(doc, "A", "new a");
  assert.equal(next, "# Benchmarks\n\nintro\n\n## A\n\nnew a\n\n## B\n\nb stays\n");
  assert.equal(replaceSection(next, "C", "c"), `${next.trimEnd()}\n\n## C\n\nc\n`);
  assert.equal(replaceSection(next, "B", "b2"), "# Benchmarks\n\nintro\n\n## A\n\nnew a\n\n## B\n\nb2\n");
});
