/**
 * Reads `recondo.json` (`RECONDO_CONFIG`, default `<data dir>/recondo.json`), applies environment
 * overrides, and validates it. Errors name the field and the value so a typo is fixed in one look.
 * @module
 */
import { type Config, configSchema } from "./schema.ts";
import { dataDir, dataPaths } from "./paths.ts";

export interface Env {
  get(name: string): string | undefined;
}

/** Where the config file is: `RECONDO_CONFIG`, else `<data dir>/recondo.json`. */
export function configPath(env: Env = Deno.env): string {
  return env.get("RECONDO_CONFIG") ?? dataPaths(dataDir(env)).config;
}

/** Validates a parsed JSON value as a config; throws `Error` naming the first bad field and its value. */
export function parseConfig(raw: unknown, source = "config"): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(
    /^\./,
    "",
  );
  const value = valueAt(raw, issue.path);
  const shown = value === undefined ? "" : ` (got ${JSON.stringify(value)})`;
  throw new Error(
    `Invalid ${source}: ${field || "(root)"} ${issue.message.replace(/^Invalid input: /, "")}${shown}`,
  );
}

/** Loads, overrides from env (`RECONDO_LISTEN`), validates. A missing file means all defaults. */
export async function loadConfig(path: string, env: Env = Deno.env): Promise<Config> {
  let raw: unknown = {};
  try {
    const text = await Deno.readTextFile(path);
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new Error(`Invalid ${path}: not JSON (${(error as Error).message})`, { cause: error });
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const listen = env.get("RECONDO_LISTEN");
  if (listen && raw && typeof raw === "object") raw = { ...raw, listen };
  return parseConfig(raw, path);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
