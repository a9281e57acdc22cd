/**
 * Claude Code in Bedrock mode on application inference profiles (`ANTHROPIC_MODEL=arn:…:application-inference-
 * profile/…`), through `main.ts serve` inside `unshare -n` as in agents_test.ts. The path names the profile,
 * not a model: one profile is mapped in `bedrock.profiles` to an Opus model that a block-list entry refuses,
 * and Claude Code must show that refusal; the other is unmapped, answers, and its turn is captured under the
 * model the answer reported, with the fake's exact tokens. Needs the CLIs (scripts/install_agents.sh).
 */
import assert from "node:assert/strict";
import { runHarness } from "./agents/harness.ts";
import { BEDROCK_APP_PROFILES, requireAgents } from "./agents/scenarios.ts";
import { APP_PROFILE_MODEL } from "./fake_provider/bedrock.ts";

const BLOCK_MESSAGE = "RECONDO-BLOCKED: Opus is reserved";

Deno.test({
  name:
    "claude code on a Bedrock application profile is seen as the profile's model: refused when mapped to Opus, captured as the answer's model otherwise",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requireAgents();
    const configFile = await Deno.makeTempFile({ prefix: "recondo-agents-config-", suffix: ".json" });
    try {
      await Deno.writeTextFile(
        configFile,
        JSON.stringify({
          bedrock: {
            profiles: {
              [BEDROCK_APP_PROFILES["claude-bedrock-opus-profile"]]:
                "us.anthropic.claude-opus-4-1-20250805-v1:0",
            },
          },
          policies: [{
            use: "block-list",
            options: { models: ["*claude-opus*"], status: 400, message: BLOCK_MESSAGE },
          }],
        }),
      );
      const run = await runHarness([
        "claude-bedrock-profile",
        "claude-bedrock-opus-profile",
        `--config=${configFile}`,
        "--timeout=60",
      ]);
      const answered = run.results.get("claude-bedrock-profile");
      assert.ok(answered?.ok, `the unmapped profile did not answer: ${JSON.stringify(answered, null, 2)}`);
      const turns = run.captured.filter((t) => t.api === "bedrock.invoke_stream" && t.output_tokens > 0);
      assert.ok(turns.length > 0, JSON.stringify(run.captured, null, 2));
      for (const turn of turns) {
        assert.deepEqual([turn.model, turn.input_tokens, turn.output_tokens], [APP_PROFILE_MODEL, 21, 7]);
      }

      const refused = run.results.get("claude-bedrock-opus-profile");
      const detail = JSON.stringify(refused, null, 2);
      assert.ok(refused, "no result for the Opus profile");
      assert.equal(refused.timedOut, false, detail);
      assert.notEqual(refused.exitCode, 0, detail);
      assert.ok((refused.stdout + refused.stderrTail).includes(BLOCK_MESSAGE), detail);
      assert.deepEqual(refused.requests, [], `a refused request reached Bedrock:\n${detail}`);
    } finally {
      await Deno.remove(configFile);
    }
  },
});
