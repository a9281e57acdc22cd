/**
 * Turns the `policies` entries of the config into a `PolicyChain`: resolves each `use` to a built-in
 * module or a user module by path, validates its options with the module's zod schema once, and names
 * the failing entry, field and value when something is wrong. Any failure rejects the whole chain, so
 * hot reload can keep the old one running.
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PolicyChain } from "./chain.ts";
import type { ChainEntry } from "./chain.ts";
import { BUILT_IN_POLICIES } from "./built_ins.ts";
import type { PolicyModule, PolicyServices } from "./types.ts";

/** The config shape of one entry (mirrors `config/schema.ts`; policies do not import config). */
export interface PolicyEntryConfig {
  use: string;
  options?: unknown;
  mode: "enforce" | "observe";
  failMode: "closed" | "open";
  enabled: boolean;
  timeoutMs: number;
  name?: string;
}

export interface BuildChainOptions {
  /** Directory that relative module paths are resolved against (the config file's folder). */
  baseDir: string;
  services?: PolicyServices;
  /** Changes on every reload so edited user modules are imported afresh. */
  reloadToken?: string;
  now?: () => number;
}

/** Builds a chain, or throws an `Error` whose message names the entry and the problem. */
export async function buildChain(
  entries: PolicyEntryConfig[],
  options: BuildChainOptions,
): Promise<PolicyChain> {
  const built: ChainEntry[] = [];
  for (const [index, entry] of entries.entries()) {
    if (!entry.enabled) continue;
    const label = `policies[${index}] ("${entry.use}")`;
    const module = await resolveModule(entry.use, options, label);
    const parsed = module.options.safeParse(entry.options ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = ["options", ...issue.path.map(String)].join(".");
      const value = issue.path.reduce<unknown>(
        (v, k) => (v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined),
        entry.options,
      );
      const shown = value === undefined ? "" : ` (got ${JSON.stringify(value)})`;
      throw new Error(
        `Cannot load policy ${label}: ${where} ${
          lowerFirst(issue.message.replace(/^Invalid input: /, ""))
        }${shown}`,
      );
    }
    const policy = module.create(parsed.data, options.services ?? {});
    const name = entry.name ?? policy.name ?? module.name;
    built.push({
      policy: name === policy.name ? policy : Object.assign(Object.create(policy), { name }),
      mode: entry.mode,
      failMode: entry.failMode,
      timeoutMs: entry.timeoutMs,
    });
  }
  return new PolicyChain(built, { now: options.now });
}

async function resolveModule(use: string, options: BuildChainOptions, label: string): Promise<PolicyModule> {
  const builtIn = BUILT_IN_POLICIES.get(use);
  if (builtIn) return builtIn;
  if (!/^(\.{0,2}\/|[a-z]:\\)/i.test(use) && !use.endsWith(".ts") && !use.endsWith(".js")) {
    const known = [...BUILT_IN_POLICIES.keys()].join(", ");
    throw new Error(
      `Cannot load policy ${label}: no built-in module of that name (built-ins: ${known}); use a path for your own module`,
    );
  }
  const path = isAbsolute(use) ? use : resolve(options.baseDir, use);
  let imported: Record<string, unknown>;
  try {
    imported = await import(`${pathToFileURL(path).href}?v=${options.reloadToken ?? "0"}`);
  } catch (error) {
    throw new Error(`Cannot load policy ${label}: importing ${path} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const candidate = (imported.default ?? imported.policy) as Partial<PolicyModule> | undefined;
  if (
    !candidate || typeof candidate.create !== "function" || !candidate.options ||
    typeof candidate.name !== "string"
  ) {
    throw new Error(
      `Cannot load policy ${label}: ${path} must export default a PolicyModule ({ name, description, options, create }) — see policies/mod.ts`,
    );
  }
  return candidate as PolicyModule;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
