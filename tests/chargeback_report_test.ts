/**
 * Chargeback end to end on both engines: several developers of two teams (and one without a team) send
 * real requests for several models, one of them unpriced, through a gateway with real capture; then
 * `recondo report` and `recondo stats` run as subprocesses over the same data. Every grouping's totals
 * match `stats` to the cent, groups add up to the totals, unpriced usage is listed apart, and the CSV
 * is RFC 4180 with a header line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dataPaths } from "../config/paths.ts";
import { loadConfig } from "../config/load.ts";
import { wireGateway } from "../cli/wiring.ts";
import { startGateway } from "../proxy/gateway.ts";
import { runJson, runRecondo } from "../cli/inspect/test_seed.ts";
import type { ChargebackReport } from "../storage/reports/chargeback.ts";
import type { StatRow } from "../cli/inspect/stats_query.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { sharedPostgres } from "./support/postgres.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const DEVELOPERS = [
  { name: "alice", team: "alpha", token: "alice-secret-token" },
  { name: "bob", team: "alpha", token: "bob-secret-token" },
  { name: "carol", team: "beta", token: "carol-secret-token" },
  { name: "dave", team: null, token: "dave-secret-token" },
];

interface Call {
  developer: string;
  model: string;
  repo: string | null;
  usage: { input: number; output: number; cacheRead?: number; cacheWrite?: number };
}

const CALLS: Call[] = [
  {
    developer: "alice",
    model: "claude-sonnet-4-5",
    repo: "/src/payments",
    usage: { input: 1200, output: 300, cacheRead: 500 },
  },
  {
    developer: "alice",
    model: "claude-haiku-4-5",
    repo: "/src/payments",
    usage: { input: 800, output: 100 },
  },
  {
    developer: "bob",
    model: "claude-sonnet-4-5",
    repo: "/src/web",
    usage: { input: 2000, output: 50, cacheWrite: 100 },
  },
  { developer: "carol", model: "claude-opus-4-1", repo: "/src/web", usage: { input: 3000, output: 700 } },
  { developer: "carol", model: "claude-mystery-9", repo: "/src/ml", usage: { input: 4000, output: 900 } },
  { developer: "dave", model: "claude-sonnet-4-5", repo: null, usage: { input: 100, output: 10 } },
];

/** Sends every call through a gateway with real capture into `engine`; returns the CLI's environment. */
async function capture(engine: "sqlite" | "postgres"): Promise<Record<string, string>> {
  const dir = await Deno.makeTempDir({ prefix: "recondo-chargeback-" });
  const fake = await startFakeProvider();
  const env: Record<string, string> = {
    RECONDO_DATA_DIR: dir,
    RECONDO_STORE: engine,
    RECONDO_OBJECTS: "local",
    RECONDO_LOG: "warn",
    NO_COLOR: "1",
    RECONDO_UPSTREAM_OVERRIDE: `api.anthropic.com=${fake.url}`,
  };
  if (engine === "postgres") env.RECONDO_DB_URL = await (await sharedPostgres()).createDatabase();
  const configFile = join(dir, "recondo.json");
  await Deno.writeTextFile(
    configFile,
    JSON.stringify({ listen: "127.0.0.1:0", developers: DEVELOPERS, capture: { durability: "strict" } }),
  );
  const lookup = { get: (name: string) => env[name] };
  const wiring = await wireGateway(dataPaths(dir), await loadConfig(configFile, lookup), lookup);
  const gateway = await startGateway({
    dataDir: dir,
    configPath: configFile,
    env: lookup,
    sink: wiring.sink,
    parsers: wiring.parsers,
    services: wiring.services,
    watch: false,
  });
  const caPem = await Deno.readTextFile(gateway.caCertPath);
  try {
    for (const [i, call] of CALLS.entries()) {
      fake.setBehavior({ usage: { cacheRead: 0, cacheWrite: 0, ...call.usage } });
      const dev = DEVELOPERS.find((d) => d.name === call.developer)!;
      const client = Deno.createHttpClient({
        caCerts: [caPem],
        proxy: { url: gateway.proxyUrl, basicAuth: { username: dev.name, password: dev.token } },
      });
      const res = await fetch("https://api.anthropic.com/v1/messages", {
        method: "POST",
        client,
        headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({
          model: call.model,
          max_tokens: 1000,
          system: call.repo
            ? `You are a coding agent.\nPrimary working directory: ${call.repo}\n`
            : "Be brief.",
          messages: [{ role: "user", content: `task ${i} for ${call.developer}` }],
        }),
      });
      assert.equal(res.status, 200, await res.text());
      client.close();
    }
  } finally {
    await gateway.close();
    await wiring.shutdown();
    await fake.close();
  }
  return env;
}

function cents(usd: number): number {
  return Math.round(usd * 100);
}

for (const engine of ["sqlite", "postgres"] as const) {
  Deno.test({
    name: `report totals match stats to the cent for every grouping, unpriced usage apart [${engine}]`,
    ...SANITIZE,
    async fn() {
      const env = await capture(engine);
      try {
        const month = new Date().toISOString().slice(0, 7);
        const since = `${month}-01T00:00:00Z`;
        const next = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1))
          .toISOString();
        const stats = await runJson<StatRow[]>([
          "stats",
          "--by",
          "provider",
          "--since",
          since,
          "--until",
          next,
        ], env);
        assert.equal(stats.code, 0);
        const statsCost = stats.json.reduce((sum, r) => sum + r.cost_usd, 0);
        const statsTurns = stats.json.reduce((sum, r) => sum + r.turns, 0);
        assert.equal(statsTurns, CALLS.length);
        assert.ok(statsCost > 0);

        const reports: Record<string, ChargebackReport> = {};
        for (const by of ["team", "developer", "repo", "model"]) {
          const run = await runJson<ChargebackReport>(["report", "--by", by, "--period", "month"], env);
          assert.equal(run.code, 0);
          const report = reports[by] = run.json;
          assert.equal(report.period, month);
          assert.equal(cents(report.totals.cost_usd!), cents(statsCost), `${by}: totals match stats`);
          assert.equal(report.totals.turns, statsTurns);
          for (
            const kind of [
              "input_tokens",
              "output_tokens",
              "cache_read_tokens",
              "cache_write_tokens",
            ] as const
          ) {
            const all = [...report.rows, ...report.unpriced].reduce((sum, l) => sum + l[kind], 0);
            assert.equal(all, report.totals[kind], `${by}: ${kind} of the groups add up`);
            assert.equal(report.totals[kind], stats.json.reduce((sum, r) => sum + r[kind], 0));
          }
          const groupsCost = report.rows.reduce((sum, l) => sum + l.cost_usd!, 0);
          assert.ok(Math.abs(groupsCost - report.totals.cost_usd!) < 1e-5, `${by}: group costs add up`);
          assert.ok(report.unpriced.every((l) => l.cost_usd === null));
        }
        const byModel = reports.model;
        assert.deepEqual(byModel.unpriced.map((l) => [l.group, l.turns, l.input_tokens, l.output_tokens]), [
          ["claude-mystery-9", 1, 4000, 900],
        ]);
        assert.deepEqual(
          byModel.rows.map((l) => [l.group, l.turns]).sort(),
          [["claude-haiku-4-5", 1], ["claude-opus-4-1", 1], ["claude-sonnet-4-5", 3]],
        );
        const byTeam = reports.team;
        assert.deepEqual(byTeam.rows.map((l) => [l.group, l.turns]).sort(), [[null, 1], ["alpha", 3], [
          "beta",
          1,
        ]]);
        assert.deepEqual(byTeam.unpriced.map((l) => [l.group, l.turns]), [["beta", 1]]);
        const alpha = byTeam.rows.find((l) => l.group === "alpha")!;
        assert.equal(alpha.input_tokens, 1200 + 800 + 2000);
        assert.equal(alpha.cache_read_tokens, 500);
        assert.equal(alpha.cache_write_tokens, 100);
        const byDeveloper = reports.developer;
        const alice = byDeveloper.rows.find((l) => l.group === "alice")!;
        const bob = byDeveloper.rows.find((l) => l.group === "bob")!;
        assert.ok(Math.abs(alice.cost_usd! + bob.cost_usd! - alpha.cost_usd!) < 1e-6);
        assert.deepEqual(
          reports.repo.rows.map((l) => [l.group, l.turns]).sort(),
          [[null, 1], ["/src/payments", 2], ["/src/web", 2]],
        );
        assert.deepEqual(reports.repo.unpriced.map((l) => l.group), ["/src/ml"]);

        // `--format json` is the contract's spelling; `--json` (used above) must print the same report.
        const formatJson = await runRecondo([
          "report",
          "--by",
          "team",
          "--period",
          "month",
          "--format",
          "json",
        ], env);
        assert.equal(formatJson.code, 0, formatJson.stderr);
        assert.deepEqual(JSON.parse(formatJson.stdout), byTeam);

        const csv = await runRecondo(["report", "--by", "team", "--format", "csv"], env);
        assert.equal(csv.code, 0, csv.stderr);
        const lines = csv.stdout.split("\r\n");
        assert.equal(lines.pop(), "", "every line ends with CRLF");
        assert.equal(
          lines[0],
          "team,section,turns,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,reasoning_tokens,cost_usd",
        );
        assert.equal(lines.length, 1 + byTeam.rows.length + byTeam.unpriced.length + 1);
        const total = lines.at(-1)!.split(",");
        assert.equal(total[1], "total");
        assert.equal(cents(Number(total[8])), cents(statsCost));
        assert.ok(lines.includes(`beta,unpriced,1,4000,900,0,0,0,`));

        const bad = await runRecondo(["report", "--by", "project"], env);
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, /--by must be one of team, developer, repo, model, got "project"/);
        const badPeriod = await runRecondo(["report", "--by", "team", "--period", "2026-13"], env);
        assert.match(badPeriod.stderr, /--period must be "month" .* got "2026-13"/);
      } finally {
        await Deno.remove(env.RECONDO_DATA_DIR, { recursive: true }).catch(() => {});
      }
    },
  });
}
