/**
 * `recondo developers list | add <name> [--team T] | token <name> | remove <name>`: the developers and
 * their proxy credentials. With PostgreSQL the change is a new control-plane revision every gateway
 * applies within a second; with SQLite it is written into `recondo.json`, which the running gateway
 * hot-reloads. A new token is printed once and kept only as its keyed hash.
 * @example deno task recondo developers add ana --team payments --json
 * @module
 */
import { dirname } from "node:path";
import { loadOrCreateHmacKey } from "../capture/credentials.ts";
import { configPath, loadConfig } from "../config/load.ts";
import { dataDir, dataPaths } from "../config/paths.ts";
import type { DeveloperConfig } from "../config/schema.ts";
import { hashProxyToken, newProxyToken } from "../core/proxy_token.ts";
import { openDatabase } from "../storage/db/mod.ts";
import { openControlPlane } from "./control_cli.ts";
import type { CommandModule } from "./yargs.ts";

interface DevelopersArgs {
  action: "list" | "add" | "token" | "remove";
  name?: string;
  team?: string;
  json: boolean;
}

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

/** Reads the developers, lets `change` edit them, and writes them back where they live. */
async function withDevelopers<T>(
  change: (developers: DeveloperConfig[], hmacKey: Uint8Array) => T | Promise<T>,
  write: boolean,
): Promise<T> {
  const paths = dataPaths(dataDir());
  const hmacKey = await loadOrCreateHmacKey(paths.secretKey);
  const db = await openDatabase(paths, Deno.env);
  try {
    if (db.engine === "postgres") {
      const plane = await openControlPlane(db);
      const developers = structuredClone((await plane.load()).developers);
      const result = await change(developers, hmacKey);
      if (write) await plane.saveDevelopers(developers);
      return result;
    }
  } finally {
    await db.close();
  }
  const file = configPath();
  const developers = structuredClone((await loadConfig(file)).developers);
  const result = await change(developers, hmacKey);
  if (write) await writeDevelopers(file, developers);
  return result;
}

/** Replaces `developers` in the config file, keeping everything else, atomically (mode 0600). */
async function writeDevelopers(file: string, developers: DeveloperConfig[]): Promise<void> {
  let raw: Record<string, unknown> = {};
  try {
    raw = JSON.parse(await Deno.readTextFile(file));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temp, JSON.stringify({ ...raw, developers }, null, 2) + "\n", { mode: 0o600 });
  await Deno.rename(temp, file);
}

function find(developers: DeveloperConfig[], name: string): DeveloperConfig {
  const found = developers.find((d) => d.name === name);
  if (!found) throw new Error(`No developer named "${name}" (see 'recondo developers list')`);
  return found;
}

function issue(developer: DeveloperConfig, hmacKey: Uint8Array): string {
  const token = newProxyToken();
  delete developer.token;
  developer.tokenHash = hashProxyToken(hmacKey, token);
  return token;
}

export const developersCommand: CommandModule<Record<string, unknown>, DevelopersArgs> = {
  command: "developers <action> [name]",
  describe: "Developers and proxy credentials: list | add <name> [--team] | token <name> | remove <name>",
  builder: (y) =>
    y
      .positional("action", { choices: ["list", "add", "token", "remove"] as const, describe: "What to do" })
      .positional("name", { type: "string", describe: "The developer (add, token, remove)" })
      .option("team", { type: "string", describe: "add: the developer's team" })
      .option("json", { type: "boolean", default: false, describe: "Print JSON" }) as never,
  async handler(args) {
    const json = (value: unknown) => console.log(JSON.stringify(value, null, 2));
    if (args.action === "list") {
      const rows = await withDevelopers((developers) =>
        developers.map((d) => ({
          name: d.name,
          team: d.team,
          hasToken: Boolean(d.token || d.tokenHash),
          apiKeyHashes: d.apiKeyHashes.length,
        })), false);
      if (args.json) return json(rows);
      if (!rows.length) return console.log("No developers.");
      for (const r of rows) {
        console.log(
          `${r.name}\t${r.team ?? "-"}\t${r.hasToken ? "token" : "no token"}\t${r.apiKeyHashes} keys`,
        );
      }
      return;
    }
    const name = String(args.name ?? "");
    if (!NAME.test(name)) throw new Error(`A developer name is 1–64 letters, digits or ._@-, got "${name}"`);
    if (args.team !== undefined && !NAME.test(args.team)) {
      throw new Error(`A team name is 1–64 letters, digits or ._@-, got "${args.team}"`);
    }
    const result = await withDevelopers((developers, hmacKey) => {
      if (args.action === "remove") {
        find(developers, name);
        developers.splice(developers.findIndex((d) => d.name === name), 1);
        return { name, removed: true };
      }
      let developer: DeveloperConfig;
      if (args.action === "add") {
        if (developers.some((d) => d.name === name)) throw new Error(`Developer "${name}" already exists`);
        developer = { name, team: args.team ?? null, apiKeyHashes: [] };
        developers.push(developer);
      } else {
        developer = find(developers, name);
      }
      return { name, team: developer.team, token: issue(developer, hmacKey) };
    }, true);
    if (args.json) return json(result);
    if ("removed" in result) return console.log(`Removed developer "${name}".`);
    console.log(
      `Developer "${name}"${result.team ? ` (team ${result.team})` : ""}: new proxy token, shown once:`,
    );
    console.log(`  export HTTPS_PROXY=http://${encodeURIComponent(name)}:${result.token}@<gateway>:8443`);
  },
};
