/**
 * Per-exchange overhead of the full built-in policy chain against an empty chain, as a ratio measured in
 * one run, over a 200-turn agent conversation (every turn resends the whole history, as agents do, so the
 * request grows from 1 KB to ~400 KB). Two real gateways — one with no policies, one with every built-in
 * (block-list, route, spend-cap and throttle on a SQLite ledger, redact-secrets when registered) — proxy
 * the same turns, interleaved, to one fake provider over loopback TLS. A second table times the chain alone
 * (request and end hooks in-process) per turn, to show whether its cost stays flat as the conversation grows.
 *
 * Run: `deno run -A --unstable-no-legacy-abort bench/chain_bench.ts`; a bench runner imports
 * `runChainBench()` for the same markdown.
 * @module
 */
import { providerParsers } from "../cli/wiring.ts";
import { buildChain, type PolicyEntryConfig } from "../policies/build_chain.ts";
import { BUILT_IN_POLICIES } from "../policies/built_ins.ts";
import { makeExchange } from "../policies/testing.ts";
import type { ParsedResponse } from "../providers/types.ts";
import { migrate, openSqlite } from "../storage/db/mod.ts";
import { createPolicyServices } from "../storage/ledger/mod.ts";
import { startFakeProvider } from "../tests/fake_provider/mod.ts";
import { startTestGateway, type TestGateway } from "../tests/support/gateway.ts";

const TURNS = 200;
const BUCKET = 50;

function fullChainConfig(): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [
    { use: "block-list", options: { models: ["gpt-3.5*"], teams: ["banned"] } },
    {
      use: "route",
      options: {
        rules: [{ match: { team: "contractors", model: "claude-opus-*" }, model: "claude-sonnet-4-5" }],
      },
    },
    {
      use: "spend-cap",
      options: {
        budgets: [{ scope: "team:*", usd: 1_000_000, period: "day" }, {
          scope: "global",
          usd: 10_000_000,
          period: "month",
        }],
      },
    },
    {
      use: "throttle",
      options: {
        limits: [{ scope: "developer:*", requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000 }],
      },
    },
  ];
  if (BUILT_IN_POLICIES.has("redact-secrets")) entries.unshift({ use: "redact-secrets" });
  return entries;
}

/** Turn `n` of a conversation: the whole history so far plus a new ~1 KB user message. */
function conversation(): string[] {
  const filler = "Refactor the session store so that idle sessions expire; keep the tests green. ".repeat(12);
  const messages: { role: string; content: string }[] = [];
  const bodies: string[] = [];
  for (let i = 0; i < TURNS; i++) {
    messages.push({ role: "user", content: `Turn ${i}: ${filler}` });
    bodies.push(JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 4096, stream: true, messages }));
    messages.push({ role: "assistant", content: `Done with turn ${i}. ${filler.slice(0, 400)}` });
  }
  return bodies;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeTurn(gw: TestGateway, body: string): Promise<number> {
  const start = performance.now();
  const res = await fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    client: gw.client,
    headers: { "content-type": "application/json" },
    body,
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`chain bench: turn answered ${res.status}`);
  return performance.now() - start;
}

async function chainOnly(bodies: string[], dbPath: string): Promise<number[]> {
  const db = openSqlite(dbPath);
  await migrate(db);
  const entries = fullChainConfig().map((e) => ({
    mode: "enforce",
    failMode: "closed",
    enabled: true,
    timeoutMs: 10_000,
    ...e,
  })) as PolicyEntryConfig[];
  const chain = await buildChain(entries, { baseDir: ".", services: createPolicyServices(db) });
  const parsed = {
    model: "claude-sonnet-4-5",
    usage: {
      input: 100,
      cacheRead: 0,
      cacheWrite5m: 0,
      cacheWrite1h: 0,
      output: 10,
      reasoning: 0,
      estimated: false,
    },
  } as ParsedResponse;
  const times: number[] = [];
  for (const body of bodies) {
    const json = JSON.parse(body);
    const { exchange, request } = makeExchange({
      api: "anthropic.messages",
      json,
      developer: "alice",
      team: "alpha",
    });
    const start = performance.now();
    await chain.runRequest(exchange, request, () => request);
    exchange.response = { status: 200, headers: {} };
    exchange.outcome = "complete";
    await chain.runEnd(exchange, parsed);
    times.push(performance.now() - start);
  }
  await db.close();
  return times;
}

/** Runs the benchmark and returns its markdown tables. */
export async function runChainBench(): Promise<string> {
  const bodies = conversation();
  const dir = await Deno.makeTempDir({ prefix: "recondo-chain-bench-" });
  const fake = await startFakeProvider({ record: false });
  const db = openSqlite(`${dir}/ledger.db`);
  await migrate(db);
  const common = {
    overrides: { "api.anthropic.com": fake.url },
    parsers: providerParsers,
    proxyAuth: "alice:alice-secret-token",
  };
  const developers = [{ name: "alice", team: "alpha", token: "alice-secret-token" }];
  const empty = await startTestGateway({ ...common, config: { developers, policies: [] } });
  const full = await startTestGateway({
    ...common,
    config: { developers, policies: fullChainConfig() },
    services: createPolicyServices(db),
  });
  const rows: string[] = [];
  try {
    // Warm-up: TLS leaves, connection pools, JIT.
    for (let i = 0; i < 5; i++) {
      await timeTurn(empty, bodies[0]);
      await timeTurn(full, bodies[0]);
    }
    const emptyMs: number[] = [];
    const fullMs: number[] = [];
    for (const [i, body] of bodies.entries()) {
      // Alternate which goes first so neither systematically gets a warmer cache.
      if (i % 2) {
        emptyMs.push(await timeTurn(empty, body));
        fullMs.push(await timeTurn(full, body));
      } else {
        fullMs.push(await timeTurn(full, body));
        emptyMs.push(await timeTurn(empty, body));
      }
    }
    const chainMs = await chainOnly(bodies, `${dir}/chain_only.db`);
    const policies = fullChainConfig().map((e) => e.use).join(", ");
    rows.push(
      `Full chain: ${policies}. ${TURNS}-turn conversation, request ${
        (bodies[0].length / 1024).toFixed(1)
      } KB → ` +
        `${(bodies[TURNS - 1].length / 1024).toFixed(0)} KB; medians per turn.`,
      "",
      "| turns | request size | empty chain ms | full chain ms | ratio full / empty | chain alone ms |",
      "|---|---|---|---|---|---|",
    );
    for (let from = 0; from < TURNS; from += BUCKET) {
      const to = from + BUCKET;
      const e = median(emptyMs.slice(from, to));
      const f = median(fullMs.slice(from, to));
      const c = median(chainMs.slice(from, to));
      const size = `${(bodies[from].length / 1024).toFixed(0)}–${
        (bodies[to - 1].length / 1024).toFixed(0)
      } KB`;
      rows.push(
        `| ${from + 1}–${to} | ${size} | ${e.toFixed(2)} | ${f.toFixed(2)} | ${(f / e).toFixed(2)} | ${
          c.toFixed(3)
        } |`,
      );
    }
    const e = median(emptyMs);
    const f = median(fullMs);
    rows.push(
      `| all | | ${e.toFixed(2)} | ${f.toFixed(2)} | ${(f / e).toFixed(2)} | ${median(chainMs).toFixed(3)} |`,
    );
  } finally {
    await empty.close();
    await full.close();
    await fake.close();
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
  return rows.join("\n");
}

if (import.meta.main) console.log(await runChainBench());
