/**
 * Azure OpenAI and OpenRouter through `recondo serve` on both database engines: the fake provider stands
 * in for `myres.openai.azure.com` and `openrouter.ai` (intercepted by config), requests go through the
 * gateway over TLS, and the captured turns carry the provider, the model the response named (never the
 * Azure deployment), the deployment as its own attribute, the exact tokens, our computed cost and
 * OpenRouter's own `usage.cost` beside it. `recondo turn` and `stats` show that cost in their `--json`.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { runJson } from "../cli/inspect/test_seed.ts";
import { openPostgres } from "../storage/db/postgres.ts";
import { startGatewayProcess } from "./agents/gateway_process.ts";
import { AZURE_MODEL, openrouterCost } from "./fake_provider/compat_routes.ts";
import { resolveBehavior } from "./fake_provider/behavior.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { sharedPostgres } from "./support/postgres.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const AZURE = "myres.openai.azure.com";
const OPENROUTER = "openrouter.ai";
const AZURE_KEY = "azure-key-never-stored-7f3a";
const OPENROUTER_KEY = "sk-or-v1-never-stored-91c2";
const USAGE = { input: 1200, output: 80, cacheRead: 0, cacheWrite: 0, reasoning: 0 };

type Row = Record<string, unknown>;

/** One request, and what its turn must say. */
interface Case {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  want: { provider: string; api: string; model: string; deployment?: string };
}

const CASES: Case[] = [
  {
    url: `https://${AZURE}/openai/deployments/gpt5-prod/chat/completions?api-version=2024-10-21`,
    headers: { "api-key": AZURE_KEY },
    body: {
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "hi" }],
    },
    want: { provider: "azure", api: "openai.chat_completions", model: AZURE_MODEL, deployment: "gpt5-prod" },
  },
  {
    url: `https://${AZURE}/openai/v1/responses?api-version=preview`,
    headers: { "api-key": AZURE_KEY },
    body: { model: "gpt5-canary", stream: true, input: "hi" },
    want: { provider: "azure", api: "openai.responses", model: AZURE_MODEL, deployment: "gpt5-canary" },
  },
  {
    url: `https://${OPENROUTER}/api/v1/chat/completions`,
    headers: { authorization: `Bearer ${OPENROUTER_KEY}` },
    body: {
      model: "anthropic/claude-sonnet-4.5",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "hi" }],
    },
    want: { provider: "openrouter", api: "openai.chat_completions", model: "anthropic/claude-sonnet-4.5" },
  },
  {
    url: `https://${OPENROUTER}/api/v1/responses`,
    headers: { authorization: `Bearer ${OPENROUTER_KEY}` },
    body: { model: "openai/gpt-5", input: "hi" },
    want: { provider: "openrouter", api: "openai.responses", model: "openai/gpt-5" },
  },
];

for (const engine of ["sqlite", "postgres"] as const) {
  Deno.test({
    name: `Azure and OpenRouter turns are captured on ${engine} with the response's model and both costs`,
    ...SANITIZE,
    async fn() {
      const fake = await startFakeProvider({ behavior: { usage: USAGE } });
      const dir = await Deno.makeTempDir({ prefix: "recondo-enterprise-" });
      const configFile = join(dir, "recondo.json");
      await Deno.writeTextFile(configFile, JSON.stringify({ intercept: [AZURE, OPENROUTER] }));
      const env: Record<string, string> = { RECONDO_STORE: engine, RECONDO_OBJECTS: "local" };
      if (engine === "postgres") env.RECONDO_DB_URL = await (await sharedPostgres()).createDatabase();
      const gateway = await startGatewayProcess({
        overrides: { [AZURE]: fake.url, [OPENROUTER]: fake.url },
        configFile,
        env,
      });
      try {
        const client = Deno.createHttpClient({
          caCerts: [await Deno.readTextFile(gateway.caFile)],
          proxy: { url: gateway.proxyUrl },
        });
        for (const c of CASES) {
          const res = await fetch(c.url, {
            method: "POST",
            client,
            headers: { "content-type": "application/json", ...c.headers },
            body: JSON.stringify(c.body),
          });
          assert.equal(res.status, 200, c.url);
          assert.match(await res.text(), /RECONDO-FAKE-OK/, c.url);
        }
        client.close();
        await captured(gateway.port, CASES.length);
        const turns = await readRows(engine, gateway.dataDir, env, "SELECT * FROM turns ORDER BY started_at");
        const exchanges = await readRows(engine, gateway.dataDir, env, "SELECT * FROM exchanges");
        assert.equal(turns.length, CASES.length, JSON.stringify(turns));
        const reported = openrouterCost(resolveBehavior({ usage: USAGE }));
        for (const [i, c] of CASES.entries()) {
          const t = turns[i];
          const detail = `${c.url}: ${JSON.stringify(t)}`;
          assert.deepEqual(
            [t.provider, t.api, t.model, t.deployment ?? null],
            [c.want.provider, c.want.api, c.want.model, c.want.deployment ?? null],
            detail,
          );
          assert.deepEqual([Number(t.input_tokens), Number(t.output_tokens)], [1200, 80], detail);
          assert.ok(Number(t.cost_usd) > 0, `priced from our tables: ${detail}`);
          assert.equal(
            t.provider_reported_cost_usd === null ? null : Number(t.provider_reported_cost_usd),
            c.want.provider === "openrouter" ? reported : null,
            detail,
          );
          assert.match(String(t.api_key_hash), /^[0-9a-f]{64}$/, detail);
        }
        // Our price differs from what OpenRouter reported: both are kept, neither overwrites the other.
        assert.notEqual(Number(turns[2].cost_usd), reported);
        const everything = JSON.stringify([turns, exchanges]);
        assert.ok(
          !everything.includes(AZURE_KEY) && !everything.includes(OPENROUTER_KEY),
          "a key was stored",
        );
        assert.ok(exchanges.every((e) => !String(e.request_headers).includes('"api-key"')));

        const cli = { ...env, RECONDO_DATA_DIR: gateway.dataDir, RECONDO_LOG: "error", NO_COLOR: "1" };
        const turn = await runJson<Row>(["turn", String(turns[2].id)], cli);
        assert.equal(turn.code, 0);
        assert.equal(turn.json.provider_reported_cost_usd, reported);
        const azureTurn = await runJson<Row>(["turn", String(turns[0].id)], cli);
        assert.deepEqual(
          [azureTurn.json.deployment, azureTurn.json.provider_reported_cost_usd],
          ["gpt5-prod", null],
        );
        const stats = await runJson<Row[]>(["stats", "--by", "provider"], cli);
        const byProvider = Object.fromEntries(stats.json.map((r) => [r.provider, r]));
        assert.equal(byProvider.openrouter.provider_reported_cost_usd, Math.round(2 * reported * 1e9) / 1e9);
        assert.equal(byProvider.azure.provider_reported_cost_usd, null);
        assert.equal(byProvider.azure.turns, 2);
      } finally {
        await gateway.stop();
        await fake.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  });
}

/** Waits until the gateway reports `n` records written. */
async function captured(port: number, n: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  let metrics = "";
  while (Date.now() < deadline) {
    metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const written = /^recondo_capture_written (\d+)/m.exec(metrics);
    if (written && Number(written[1]) >= n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`capture did not write ${n} records:\n${metrics}`);
}

async function readRows(
  engine: "sqlite" | "postgres",
  dataDir: string,
  env: Record<string, string>,
  sql: string,
): Promise<Row[]> {
  if (engine === "sqlite") {
    const db = new DatabaseSync(join(dataDir, "recondo.db"), { readOnly: true });
    try {
      return db.prepare(sql).all() as Row[];
    } finally {
      db.close();
    }
  }
  const db = openPostgres(env.RECONDO_DB_URL, { max: 1 });
  try {
    return await db.query(sql);
  } finally {
    await db.close();
  }
}
