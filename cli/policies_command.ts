/**
 * `recondo policies list | validate [file] | simulate [file] --since 7d | history | publish <file> |
 * rollback <version>`: inspect, check and rehearse the policy chain before it runs, and change it with a
 * recorded version (who, what, when) that the running gateway hot-reloads from `recondo.json`.
 * @module
 */
import { dirname, resolve } from "node:path";
import { configPath, loadConfig, parseConfig } from "../config/load.ts";
import { dataDir, dataPaths } from "../config/paths.ts";
import type { Config } from "../config/schema.ts";
import { buildChain } from "../policies/build_chain.ts";
import type { PolicyChain } from "../policies/chain.ts";
import {
  publishChain,
  type PublishDeps,
  rollbackChain,
  simulateChain,
  type SimulationReport,
  writePoliciesToConfigFile,
} from "../policies/versions/mod.ts";
import { type Db, migrate, openDatabase, openSqlite } from "../storage/db/mod.ts";
import {
  capturedExchanges,
  createPolicyServices,
  createSqlPolicyVersionStore,
} from "../storage/ledger/mod.ts";
import { openObjectStore } from "../storage/objects/mod.ts";
import type { Argv, CommandModule } from "./yargs.ts";
import { openControlPlane } from "./control_cli.ts";

type Env = { get(name: string): string | undefined };

/** A chain built on throwaway services (an in-memory ledger), so checking or rehearsing spends nothing. */
export async function rehearsalChain(
  config: Config,
  baseDir: string,
  now?: () => number,
): Promise<{ chain: PolicyChain; close(): Promise<void> }> {
  const db = openSqlite(":memory:");
  await migrate(db);
  try {
    const chain = await buildChain(config.policies, { baseDir, services: createPolicyServices(db), now });
    return { chain, close: () => db.close() };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** `policies validate`: the chain's policies, or throws naming the entry and problem. */
export async function validatePolicies(file: string, env: Env = Deno.env): Promise<string> {
  const config = await loadConfig(file, env);
  const { chain, close } = await rehearsalChain(config, dirname(resolve(file)));
  await close();
  const names = chain.entries.map((e) => `${e.policy.name} (${e.mode})`).join(", ") || "no policies";
  return `${file}: valid, ${chain.entries.length} enabled: ${names}`;
}

/** `policies list`: the configured chain, one entry per line. */
export async function listPolicies(file: string, env: Env = Deno.env): Promise<string> {
  const config = await loadConfig(file, env);
  if (config.policies.length === 0) return `${file}: no policies configured`;
  return formatEntries(config.policies);
}

function formatEntries(policies: Config["policies"]): string {
  return policies.map((p, i) =>
    `${i}  ${p.use}  ${p.enabled ? p.mode : "disabled"}  failMode=${p.failMode}  timeout=${p.timeoutMs}ms  ` +
    JSON.stringify(p.options ?? {})
  ).join("\n");
}

/** `7d`, `12h`, `30m` → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*(m|h|d|w)$/.exec(text.trim());
  if (!match) throw new Error(`--since must look like 30m, 12h, 7d or 2w, got "${text}"`);
  return Number(match[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as "m"];
}

/** `policies simulate`: replays captured traffic since `since` through the candidate in `file`. */
export async function simulatePolicies(
  file: string,
  options: { since: string; db: Db; dataDir: string; env?: Env; now?: number },
): Promise<SimulationReport> {
  const env = options.env ?? Deno.env;
  const config = await loadConfig(file, env);
  let clock = 0;
  const { chain, close } = await rehearsalChain(config, dirname(resolve(file)), () => clock);
  try {
    const objects = await openObjectStore(dataPaths(options.dataDir), env, config.capture.s3);
    const since = (options.now ?? Date.now()) - parseDuration(options.since);
    return await simulateChain(chain, capturedExchanges(options.db, objects, { since }), {
      setNow: (at) => clock = at,
    });
  } finally {
    await close();
  }
}

const usd = (n: number) => `$${n.toFixed(2)}`;

/** The report as developers and FinOps read it. */
export function formatSimulation(report: SimulationReport, file: string, since: string): string {
  const table = (title: string, counts: Record<string, number>) =>
    Object.entries(counts).map(([policy, n]) => `| ${title} | ${policy} | ${n} |`);
  const rows = [
    ...table("blocked", report.blocked),
    ...table("throttled", report.throttled),
    ...table("rerouted", report.rerouted),
    ...table("modified/redacted", report.modified),
    ...table("errors", report.errors),
  ];
  const s = report.spend;
  return [
    `Simulated ${file} over ${report.exchanges} captured exchanges of the last ${since}.`,
    "",
    "| would have | policy | exchanges |",
    "|---|---|---|",
    ...(rows.length ? rows : ["| (nothing) | — | 0 |"]),
    "",
    `Spend: recorded ${usd(s.recordedUsd)}, avoided by blocks ${usd(s.avoidedUsd)}, ` +
    `reroute change ${usd(s.rerouteDeltaUsd)}, projected ${usd(s.projectedUsd)}.`,
    ...(report.examples.length ? ["", "Examples:"] : []),
    ...report.examples.map((e) =>
      `  ${new Date(e.at).toISOString()} ${e.policy} ${e.kind}: ${e.reason} (${e.exchangeId})`
    ),
  ].join("\n");
}

/** Versions API deps for the CLI: validate like `policies validate`, apply by writing `recondo.json`. */
function publishDeps(file: string): PublishDeps {
  return {
    async validate(entries) {
      const config = parseConfig({ policies: entries }, "policies");
      const { close } = await rehearsalChain(config, dirname(resolve(file)));
      await close();
    },
    apply: (entries) => writePoliciesToConfigFile(file, entries),
  };
}

async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase(dataPaths(dataDir()), Deno.env);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

interface PoliciesArgs {
  action: string;
  file?: string;
  since: string;
  json: boolean;
  author?: string;
  note?: string;
}

export const policiesCommand: CommandModule<Record<string, unknown>, PoliciesArgs> = {
  command: "policies <action> [file]",
  describe:
    "Policy chain: list | validate [file] | simulate [file] --since 7d | history | publish <file> | rollback <version>",
  builder: (y: Argv) =>
    y.positional("action", {
      choices: ["list", "validate", "simulate", "history", "publish", "rollback"],
      describe: "What to do",
    })
      .positional("file", {
        type: "string",
        describe: "A recondo.json-shaped file (default: the live config); for rollback, the version",
      })
      .option("since", {
        type: "string",
        default: "7d",
        describe: "simulate: how far back to replay (30m, 12h, 7d, 2w)",
      })
      .option("json", { type: "boolean", default: false, describe: "simulate/history: print JSON" })
      .option("author", {
        type: "string",
        describe: "publish/rollback: who makes the change (default $USER)",
      })
      .option("note", { type: "string", describe: "publish/rollback: why" }) as unknown as Argv<PoliciesArgs>,
  async handler(args) {
    const live = configPath();
    const file = args.file ?? live;
    const author = args.author ?? Deno.env.get("USER") ?? "cli";
    switch (args.action) {
      case "list":
        if (!args.file && Deno.env.get("RECONDO_STORE") === "postgres") {
          return await withDb(async (db) => {
            const [latest] = await (await openControlPlane(db)).history(1);
            const entries = parseConfig({ policies: latest?.entries ?? [] }, "policies").policies;
            console.log(`control plane: version ${latest?.version ?? "none"}`);
            console.log(formatEntries(entries) || "no policies published");
          });
        }
        return console.log(await listPolicies(file));
      case "validate":
        return console.log(await validatePolicies(file));
      case "simulate":
        return await withDb(async (db) => {
          const report = await simulatePolicies(file, { since: args.since, db, dataDir: dataDir() });
          console.log(
            args.json ? JSON.stringify(report, null, 2) : formatSimulation(report, file, args.since),
          );
        });
      case "history":
        return await withDb(async (db) => {
          const versions = await createSqlPolicyVersionStore(db).list({ limit: 50 });
          if (args.json) return console.log(JSON.stringify(versions, null, 2));
          for (const v of versions) {
            console.log(
              `v${v.version}  ${new Date(v.createdAt).toISOString()}  ${v.author}  ${v.action}` +
                `${v.basedOn ? ` (from v${v.basedOn})` : ""}  ${v.entries.length} policies  ${v.note ?? ""}`,
            );
          }
        });
      case "publish":
        return await withDb(async (db) => {
          if (!args.file) throw new Error("policies publish needs a file with the new policies");
          const entries = (await loadConfig(args.file)).policies;
          const raw = JSON.parse(await Deno.readTextFile(args.file)).policies ?? entries;
          if (db.engine === "postgres") {
            const plane = await openControlPlane(db);
            const v = await plane.publishPolicies(raw, {
              author,
              note: args.note,
              baseDir: dirname(resolve(args.file)),
            });
            const modules = Object.keys(v.modules ?? {}).length;
            return console.log(
              `Published policy chain v${v.version} to the control plane` +
                (modules ? ` with ${modules} module file${modules === 1 ? "" : "s"}` : "") +
                "; every gateway on this database applies it",
            );
          }
          const v = await publishChain(createSqlPolicyVersionStore(db), {
            entries: raw,
            author,
            note: args.note,
          }, publishDeps(live));
          console.log(`Published policy chain v${v.version} to ${live}`);
        });
      case "rollback":
        return await withDb(async (db) => {
          const to = Number(args.file);
          if (!Number.isInteger(to)) {
            throw new Error(`policies rollback needs a version number, got "${args.file}"`);
          }
          if (db.engine === "postgres") {
            const v = await (await openControlPlane(db)).rollbackPolicies(to, { author, note: args.note });
            return console.log(`Rolled back to v${to} as v${v.version} in the control plane`);
          }
          const v = await rollbackChain(
            createSqlPolicyVersionStore(db),
            to,
            { author, note: args.note },
            publishDeps(live),
          );
          console.log(`Rolled back to v${to} as v${v.version}; wrote ${live}`);
        });
    }
  },
};
