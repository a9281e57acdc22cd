/**
 * The fuzzer on a CI budget: every target for a bounded number of iterations with a fixed seed (a few
 * seconds each). A failure names the seed and iteration: `deno task fuzz --target T --seed S --from I
 * --iterations 1` replays it. Longer runs: `deno task fuzz --seconds 60`.
 */
import assert from "node:assert/strict";
import { runTarget } from "./engine.ts";
import { FRONT_DOOR_TARGETS } from "./front_door_targets.ts";
import { PARSER_TARGETS } from "./parser_targets.ts";

const SEED = 20261206;

for (const target of PARSER_TARGETS) {
  Deno.test(`fuzz ${target.name}: ${target.description} (20,000 iterations, seed ${SEED})`, async () => {
    const report = await runTarget(target, { seed: SEED, iterations: 20_000 });
    assert.deepEqual(report.findings, []);
  });
}

for (const target of FRONT_DOOR_TARGETS) {
  Deno.test({
    name: `fuzz ${target.name}: ${target.description} (300 iterations, seed ${SEED})`,
    // The gateway's own workers and pools outlive a test; leaks are checked by its gauges instead.
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const report = await runTarget(target, { seed: SEED, iterations: 300 });
      assert.deepEqual(report.findings, []);
    },
  });
}
