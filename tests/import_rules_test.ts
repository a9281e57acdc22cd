/**
 * Layers import downward only (ARCHITECTURE.md, "Import rules"). This test reads every source file's
 * imports and fails on any edge the table below does not allow, naming the file and the import.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");

/** Which top-level folders each layer may import from (besides itself). */
export const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  config: ["core"],
  providers: ["core"],
  policies: ["core", "providers"],
  storage: ["core", "config", "providers"],
  capture: ["core", "config", "providers", "storage"],
  proxy: ["core", "config", "policies", "providers", "capture"],
  control: ["core", "config", "policies", "storage"],
  alerts: ["core", "config", "policies", "storage"],
  components: ["core"],
  islands: [],
  routes: ["core", "config", "storage", "providers", "policies", "components", "islands"],
  ui: ["core", "config", "storage", "providers", "policies", "control", "routes", "components", "islands"],
  cli: ["*"],
};

/**
 * Edges allowed for `import type` only: storage implements interfaces that policies own (a spend ledger,
 * token buckets) and injects them, so it may name their types but never run policy code.
 */
export const TYPES_ONLY: Record<string, readonly string[]> = {
  storage: ["policies"],
};

const IMPORT =
  /(?:^|\n)\s*(import|export)\s+(type\s+)?[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (/\.tsx?$/.test(entry.name) && !/(_test|^test_.*)\.tsx?$/.test(entry.name)) yield path;
  }
}

async function violations(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const layer of Object.keys(ALLOWED)) {
    const dir = join(root, layer);
    try {
      await Deno.stat(dir);
    } catch {
      continue;
    }
    for await (const file of sourceFiles(dir)) {
      const text = await Deno.readTextFile(file);
      for (const match of text.matchAll(IMPORT)) {
        const typeOnly = Boolean(match[2]);
        const specifier = match[3] ?? match[4];
        if (!specifier.startsWith(".")) continue;
        const target = relative(root, resolve(dirname(file), specifier)).split("/")[0];
        const allowed = ALLOWED[layer];
        if (target === layer || allowed.includes("*") || allowed.includes(target)) continue;
        if (layer === "islands" && typeOnly) continue; // islands may import types from anywhere
        if (typeOnly && TYPES_ONLY[layer]?.includes(target)) continue;
        found.push(`${relative(root, file)} imports ${specifier} (${layer} → ${target})`);
      }
    }
  }
  return found;
}

Deno.test("every layer imports only the layers below it", async () => {
  assert.deepEqual(await violations(ROOT), []);
});

Deno.test("the rule checker reports a policy that imports storage or the proxy", async () => {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(join(root, "policies"));
  await Deno.writeTextFile(
    join(root, "policies", "sneaky.ts"),
    `import { db } from "../storage/db.ts";\nimport type { G } from "../proxy/gateway.ts";\nimport { ok } from "../providers/mod.ts";\n`,
  );
  assert.deepEqual((await violations(root)).sort(), [
    "policies/sneaky.ts imports ../proxy/gateway.ts (policies → proxy)",
    "policies/sneaky.ts imports ../storage/db.ts (policies → storage)",
  ]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("no console output outside cli/, tests and the logger", async () => {
  const offenders: string[] = [];
  for (const layer of Object.keys(ALLOWED).filter((l) => l !== "cli")) {
    const dir = join(ROOT, layer);
    try {
      await Deno.stat(dir);
    } catch {
      continue;
    }
    for await (const file of sourceFiles(dir)) {
      if (file.endsWith("core/log.ts")) continue;
      const text = await Deno.readTextFile(file);
      if (/\bconsole\.(log|error|warn|info|debug)\(/.test(text)) offenders.push(relative(ROOT, file));
    }
  }
  assert.deepEqual(offenders, []);
});
