import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../config/load.ts";
import { dataPaths } from "../config/paths.ts";
import { startFakeProvider } from "../tests/fake_provider/mod.ts";
import { startTestGateway } from "../tests/support/gateway.ts";
import { openDatabase } from "../storage/db/mod.ts";
import {
  formatSimulation,
  listPolicies,
  parseDuration,
  simulatePolicies,
  validatePolicies,
} from "./policies_command.ts";
import { wireGateway } from "./wiring.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

Deno.test("policies validate names a bad entry and list shows the chain", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "recondo.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        policies: [
          { use: "spend-cap", options: { budgets: [{ scope: "team:alpha", usd: 25, period: "day" }] } },
          {
            use: "throttle",
            options: {
              limits: [{ scope: "developer:alice", requestsPerMinute: 60, tokensPerMinute: 200000 }],
            },
          },
          {
            use: "route",
            options: {
              rules: [{ match: { team: "contractors", model: "claude-opus-*" }, model: "claude-sonnet-4-5" }],
            },
          },
          { use: "block-list", options: { providers: [], models: [], developers: [], teams: [], hosts: [] } },
        ],
      }),
    );
    assert.equal(
      await validatePolicies(file),
      `${file}: valid, 4 enabled: spend-cap (enforce), throttle (enforce), route (enforce), block-list (enforce)`,
    );
    assert.ok((await listPolicies(file)).startsWith("0  spend-cap  enforce  failMode=closed"));
    await Deno.writeTextFile(
      file,
      JSON.stringify({ policies: [{ use: "spend-cap", options: { budgets: [] } }] }),
    );
    await assert.rejects(validatePolicies(file), /policies\[0\] \("spend-cap"\): options\.budgets/);
    assert.equal(parseDuration("7d"), 604_800_000);
    assert.throws(() => parseDuration("week"), /--since must look like/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "policies simulate replays captured traffic through a candidate and reports blocks, reroutes and spend",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider({ behavior: { usage: { input: 100_000, output: 10_000 } } });
    // Capture through the real pipeline into a data dir of our own, as `serve` does.
    const dataDir = await Deno.makeTempDir();
    const env = { get: (_: string) => undefined };
    const wiring = await wireGateway(dataPaths(dataDir), parseConfig({}), env);
    const live = await startTestGateway({
      config: { developers: [{ name: "carol", team: "contractors", token: "carol-secret-token" }] },
      overrides: { "api.anthropic.com": fake.url, "api.openai.com": fake.url },
      proxyAuth: "carol:carol-secret-token",
      sink: wiring.sink,
      parsers: wiring.parsers,
    });
    try {
      const send = (url: string, body: unknown) =>
        fetch(url, {
          method: "POST",
          client: live.client,
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        }).then((r) => r.text());
      for (let i = 0; i < 2; i++) {
        await send("https://api.anthropic.com/v1/messages", {
          model: "claude-opus-4-1",
          max_tokens: 100,
          messages: [{ role: "user", content: `task ${i}` }],
        });
      }
      await send("https://api.openai.com/v1/responses", { model: "gpt-4.1", input: "hi" });
      await live.close();
      await wiring.shutdown();

      const candidate = join(dataDir, "candidate.json");
      await Deno.writeTextFile(
        candidate,
        JSON.stringify({
          policies: [
            { use: "block-list", options: { models: ["gpt-4*"] } },
            {
              use: "route",
              options: {
                rules: [{
                  match: { team: "contractors", model: "claude-opus-*" },
                  model: "claude-sonnet-4-5",
                }],
              },
            },
          ],
        }),
      );
      const db = await openDatabase(dataPaths(dataDir), env);
      try {
        const report = await simulatePolicies(candidate, { since: "1h", db, dataDir, env });
        assert.equal(report.exchanges, 3);
        assert.deepEqual(report.blocked, { "block-list": 1 });
        assert.deepEqual(report.rerouted, { route: 2 });
        // Opus 4.1 → Sonnet 4.5 on 100k input + 10k output: ($15→$3)/M × 100k + ($75→$15)/M × 10k = −$1.80 each.
        assert.ok(
          Math.abs(report.spend.rerouteDeltaUsd - -3.6) < 1e-6,
          `delta ${report.spend.rerouteDeltaUsd}`,
        );
        assert.ok(report.spend.avoidedUsd > 0);
        const text = formatSimulation(report, candidate, "1h");
        assert.match(text, /\| blocked \| block-list \| 1 \|/);
        assert.match(text, /\| rerouted \| route \| 2 \|/);
        assert.match(text, /route modify: route rule 0: model claude-opus-4-1 → claude-sonnet-4-5/);
      } finally {
        await db.close();
      }
    } finally {
      await fake.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
