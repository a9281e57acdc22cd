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

Deno.test("targets compare Recondo with direct, mitmdump and squid measured in the same run", () => {
  const direct = path("direct", { latencyMs: [0.2, 0.2, 0.3], completed: 10_000, ttfbMs: [2] });
  const recondo = path("Recondo", {
    latencyMs: [0.9, 0.95, 1.0],
    completed: 4_000,
    ttfbMs: [2.5],
    eventDelayMs: [1, 1, 1, 12],
    eventsPerStream: [2, 2],
    cpuPerRequestMs: { proxy: 0.5, upstream: 0, client: 0 },
  });
  const mitm = path("mitmdump", { completed: 700 });
  const squid = path("squid", {
    latencyMs: [0.6],
    completed: 5_000,
    cpuPerRequestMs: { proxy: 0.25, upstream: 0, client: 0 },
  });
  const checks = checkTargets(direct, recondo, { mitm, squid }, info);
  assert.deepEqual(checks.map((c) => c.target), [
    "≥ 0.7× squid's req/s at 32 connections",
    "≥ 5× mitmdump's req/s at 32 connections",
    "proxy CPU per request ≤ 2.5× squid's",
    "added p50 at 1 connection ≤ squid's + 0.5 ms",
    "SSE first-byte overhead ≤ 1 ms",
    "no event held back",
  ]);
  assert.deepEqual(checks.map((c) => c.met), [true, true, true, true, true, false]);
  assert.equal(checks[0].measured, "0.80× squid");
  assert.match(checks[2].measured, /0\.500 vs 0\.250 ms \(2\.00× squid\)/);
  assert.match(checks[3].measured, /\+0\.750 vs squid \+0\.400 ms \(\+0\.350 ms\)/);
  assert.match(checks[5].measured, /4\/4 events arrived, 1 ≥ 10 ms late/);
  assert.equal(heldBack(recondo, 20), 1);
});

Deno.test("targets are missed when Recondo is slower or costlier than squid and mitmdump allow", () => {
  const direct = path("direct", { latencyMs: [0.2], completed: 10_000, ttfbMs: [2] });
  const recondo = path("Recondo", {
    latencyMs: [1.2],
    completed: 3_000,
    ttfbMs: [3.5],
    eventsPerStream: [2],
    cpuPerRequestMs: { proxy: 0.6, upstream: 0, client: 0 },
  });
  const squid = path("squid", {
    latencyMs: [0.6],
    completed: 5_000,
    cpuPerRequestMs: { proxy: 0.2, upstream: 0, client: 0 },
  });
  const checks = checkTargets(direct, recondo, { mitm: path("mitmdump", { completed: 1_000 }), squid }, info);
  assert.deepEqual(checks.map((c) => c.met), [false, false, false, false, false, false]);
});

Deno.test("a peer that did not run leaves its targets unmeasured, not failed", () => {
  const direct = path("direct", { latencyMs: [0.2], completed: 10_000, ttfbMs: [2] });
  const recondo = path("Recondo", { latencyMs: [0.5], completed: 4_000, ttfbMs: [2], eventsPerStream: [] });
  const checks = checkTargets(direct, recondo, { mitm: null, squid: null }, info);
  assert.deepEqual(checks.map((c) => c.met), [null, null, null, null, true, true]);
  assert.equal(checks[0].measured, "squid not run");
  assert.equal(checks[1].measured, "mitmdump not run");
});

Deno.test("replaceSection swaps one section and keeps the others in place", () => {
  const doc = "# Benchmarks\n\nintro\n\n## A\n\nold a\n\n## B\n\nb stays\n";
  const next = replaceSection(doc, "A", "new a");
  assert.equal(next, "# Benchmarks\n\nintro\n\n## A\n\nnew a\n\n## B\n\nb stays\n");
  assert.equal(replaceSection(next, "C", "c"), `${next.trimEnd()}\n\n## C\n\nc\n`);
  assert.equal(replaceSection(next, "B", "b2"), "# Benchmarks\n\nintro\n\n## A\n\nnew a\n\n## B\n\nb2\n");
});
