/**
 * Custom policy modules travel with the chain: publishing collects each module file the chain names and
 * every local file it imports (relative specifiers, followed recursively), keyed by path relative to the
 * config's folder and hashed by content. A gateway writes the exact published sources into a folder named
 * by the bundle's hash and builds the chain from there, so no one copies module files to each host. Bare
 * specifiers (`recondo/policy`, `zod`, `npm:…`) resolve through Recondo's import map as usual.
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from "node:path";
import { BUILT_IN_POLICIES } from "../policies/built_ins.ts";

/** The modules of one chain: path → SHA-256, and the sources by SHA-256. */
export interface ModuleBundle {
  manifest: Record<string, string>;
  sources: Map<string, string>;
}

const LOCAL_IMPORT =
  /(?:import|export)\s[^;]*?from\s*["'](\.{1,2}\/[^"']+)["']|import\s*\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)|import\s+["'](\.{1,2}\/[^"']+)["']/g;

/** SHA-256 of a source, hex. */
export function sourceHash(source: string): string {
  return createHash("sha256").update(source, "utf8").digest("hex");
}

/** Whether an entry's `use` names a module file rather than a built-in. */
export function isModulePath(use: string): boolean {
  return !BUILT_IN_POLICIES.has(use);
}

/**
 * Reads the module files `entries` use, and their local imports, under `baseDir`. Throws naming the file
 * when one is missing or reaches outside `baseDir` (Recondo's own API is imported as `recondo/policy`).
 */
export async function collectModules(
  entries: readonly { use: string }[],
  baseDir: string,
): Promise<ModuleBundle> {
  const manifest: Record<string, string> = {};
  const sources = new Map<string, string>();
  const visit = async (absolute: string, from: string): Promise<void> => {
    const rel = normalize(relative(baseDir, absolute)).split(sep).join("/");
    if (rel.startsWith("../") || rel === ".." || isAbsolute(rel)) {
      throw new Error(
        `Cannot publish ${from}: it imports ${absolute}, outside ${baseDir}; keep custom modules and their ` +
          `local imports in the config's folder, and import Recondo's policy API as "recondo/policy"`,
      );
    }
    if (rel in manifest) return;
    let source: string;
    try {
      source = await Deno.readTextFile(absolute);
    } catch (error) {
      throw new Error(`Cannot publish ${from}: cannot read ${absolute}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const sha = sourceHash(source);
    manifest[rel] = sha;
    sources.set(sha, source);
    for (const match of source.matchAll(LOCAL_IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      await visit(resolve(dirname(absolute), specifier), rel);
    }
  };
  for (const [index, entry] of entries.entries()) {
    if (!isModulePath(entry.use)) continue;
    await visit(isAbsolute(entry.use) ? entry.use : resolve(baseDir, entry.use), `policies[${index}]`);
  }
  return { manifest, sources };
}

/** The bundle's identity: the hash of its sorted manifest. */
export function bundleId(manifest: Record<string, string>): string {
  const sorted = Object.keys(manifest).sort().map((path) => [path, manifest[path]]);
  return sourceHash(JSON.stringify(sorted)).slice(0, 32);
}

/**
 * Writes the bundle's files under `cacheDir/<bundle id>/` (once: an existing folder is reused, a new one
 * appears whole by rename) and returns that folder, the `baseDir` to build the chain from. Each source is
 * checked against its hash first, so what runs is exactly what was published.
 */
export async function materializeModules(
  manifest: Record<string, string>,
  sources: ReadonlyMap<string, string>,
  cacheDir: string,
): Promise<string> {
  const target = join(cacheDir, bundleId(manifest));
  try {
    await Deno.stat(target);
    return target;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(cacheDir, { recursive: true });
  const temp = await Deno.makeTempDir({ dir: cacheDir, prefix: ".partial-" });
  for (const [path, sha] of Object.entries(manifest)) {
    const source = sources.get(sha);
    if (source === undefined) {
      throw new Error(`Policy module ${path} (${sha}) was not published with its chain`);
    }
    if (sourceHash(source) !== sha) throw new Error(`Policy module ${path} does not match its hash ${sha}`);
    const file = join(temp, path);
    if (!file.startsWith(temp + sep)) throw new Error(`Policy module path ${path} leaves its bundle`);
    await Deno.mkdir(dirname(file), { recursive: true });
    await Deno.writeTextFile(file, source);
  }
  try {
    await Deno.rename(temp, target);
  } catch (error) {
    // Another gateway process on this data dir won the race: its copy is the same bytes.
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    if (!(error instanceof Deno.errors.AlreadyExists) && !(await exists(target))) throw error;
  }
  return target;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
