/**
 * A spent budget as the developer sees it: Claude Code, Codex (WebSocket and HTTP) and Gemini CLI run
 * through `main.ts serve` (inside `unshare -n`, as in agents_test.ts) with a `spend-cap` whose team budget
 * cannot cover one request, and each must print the spend cap's message and exit non-zero, with no model
 * turn reaching the provider. Needs the CLIs (`bash scripts/install_agents.sh`); skipped without them.
 */
import assert from "node:assert/strict";
import type { ScenarioResult } from "./agents/run_scenario.ts";
import { runHarness } from "./agents/harness.ts";
import { requireAgents, type ScenarioName } from "./agents/scenarios.ts";
import { detectApi } from "../providers/detect.ts";

const MESSAGE = "Recondo spend cap: the day budget of $0.0010 for team:contractors is used up";

let run: Promise<Map<ScenarioName, ScenarioResult>> | undefined;

async function spentBudget(name: ScenarioName): Promise<ScenarioResult> {
  run ??= (async () => {
    const configFile = await Deno.makeTempFile({ prefix: "recondo-spend-config-", suffix: ".json" });
    try {
      await Deno.writeTextFile(
        configFile,
        JSON.stringify({
          developers: [{ name: "carol", team: "contractors", token: "carol-proxy-token" }],
          requireProxyAuth: true,
          policies: [{
            use: "spend-cap",
            options: {
              budgets: [{ scope: "team:contractors", usd: 0.001, period: "day" }],
              unpriced: "block",
            },
          }],
        }),
      );
      return (await runHarness([
        `--config=${configFile}`,
        "--proxy-auth=carol:carol-proxy-token",
        "--timeout=30",
      ])).results;
    } finally {
      await Deno.remove(configFile);
    }
  })();
  const found = (await run).get(name);
  assert.ok(found, `the harness printed no result for ${name}`);
  return found;
}

for (const name of ["claude", "codex-ws", "codex-http", "gemini"] as const) {
  Deno.test({
    name: `${name} shows the spend cap's message when the team budget is spent`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      requireAgents();
      const r = await spentBudget(name);
      const detail = JSON.stringify(r, null, 2);
      assert.equal(r.timedOut, false, `${name} timed out:\n${detail}`);
      assert.notEqual(r.exitCode, 0, `${name} should fail when the budget is spent:\n${detail}`);
      assert.ok(
        (r.stdout + r.stderrTail).includes(MESSAGE),
        `${name} did not show the spend cap:\n${detail}`,
      );
      // Auxiliary calls (policy limits, model lists, token counts) cost nothing and may pass; turns may not.
      const turns = r.requests.filter((req) => detectApi(req.host, req.method, req.path)?.isModelTurn);
      assert.deepEqual(turns, [], `a refused model request reached the provider:\n${detail}`);
    },
  });
}
