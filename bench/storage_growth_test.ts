import assert from "node:assert/strict";
import { cpuPerTurn, renderStorageGrowth, type SessionResult, storedBytes } from "./storage_growth.ts";

function session(turns: number, overrides: Partial<SessionResult> = {}): SessionResult {
  return {
    turns,
    lastRequestBytes: 800_000,
    lastRequestGzipBytes: 200_000,
    wholeBodiesGzipBytes: 18_000_000,
    requestBytesSum: 70_000_000,
    stored: { objectBytes: 18_000_000, databaseBytes: 1_000_000, otherBytes: 0 },
    cpuMs: Array.from({ length: turns }, (_, i) => 10 + i / 10),
    wallMs: [],
    ...overrides,
  };
}

Deno.test("stored bytes add objects, database and anything else capture keeps", () => {
  assert.equal(
    storedBytes(session(150, { stored: { objectBytes: 5, databaseBytes: 3, otherBytes: 2 } })),
    10,
  );
});

Deno.test("CPU per turn is the median around turn 10 and over the last five turns", () => {
  const cpu = cpuPerTurn(session(50));
  assert.equal(cpu.early, 10 + 9 / 10); // turns 8–12 → indexes 7–11, median index 9
  assert.equal(cpu.last, 10 + 47 / 10); // turns 46–50 → median turn 48
});

Deno.test("the storage table says whether the 150-turn goal is met", () => {
  const today = renderStorageGrowth([session(50), session(150)], "header");
  assert.match(today, /\| 150 turns \|/);
  assert.match(
    today,
    /at 150 turns, bytes stored ≤ 2× the gzip size of the last request: 95\.0× — \*\*not met\*\*/,
  );
  const segmented = renderStorageGrowth(
    [session(150, { stored: { objectBytes: 300_000, databaseBytes: 60_000, otherBytes: 0 } })],
    "header",
  );
  assert.match(segmented, /1\.8× — met/);
});
