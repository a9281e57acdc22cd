/**
 * Builds the islands' browser bundle with `deno bundle --platform browser --minify` into `static/build/`
 * (git-ignored). The file name carries a hash of the entry and every island's source, so an unchanged
 * build is reused across restarts and browsers may cache it forever.
 * @module
 */
import { join } from "node:path";
import { log } from "../core/log.ts";
import { hydrationEntry, type Island } from "./islands.ts";

/** The built bundle: its URL path and size. */
export interface Bundle {
  /** `/static/build/islands-<hash>.js` */
  path: string;
  file: string;
  bytes: number;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Bundles `islands` into `<staticDir>/build/`, or reuses the bundle of the same sources. With
 * `build: false` (what `serve` does) a missing bundle is an error naming `deno task build`, never a
 * `deno bundle` run: that would fetch esbuild from the npm registry.
 */
export async function buildIslands(
  islands: Island[],
  staticDir: string,
  configFile: string,
  options: { build?: boolean } = {},
): Promise<Bundle> {
  const buildDir = join(staticDir, "build");
  await Deno.mkdir(buildDir, { recursive: true });
  const entry = hydrationEntry(islands, buildDir);
  const sources = await Promise.all(islands.map((i) => Deno.readTextFile(i.file)));
  const hash = (await sha256Hex([entry, ...sources, await Deno.readTextFile(configFile)].join("\0"))).slice(
    0,
    16,
  );
  const name = `islands-${hash}.js`;
  const file = join(buildDir, name);
  try {
    const info = await Deno.stat(file);
    return { path: `/static/build/${name}`, file, bytes: info.size };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (options.build === false) {
    throw new Error(
      `The UI's islands bundle ${file} is missing: run \`deno task build\` (recondo build-ui) before serve; ` +
        "serve does not bundle, since that would fetch esbuild from the npm registry",
    );
  }
  // Unique names: several processes (parallel tests, replicas sharing a checkout) may build at once.
  const unique = crypto.randomUUID().slice(0, 8);
  const entryFile = join(buildDir, `_entry-${hash}-${unique}.tsx`);
  await Deno.writeTextFile(entryFile, entry);
  const started = performance.now();
  const tmp = `${file}.${unique}.tmp`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--config",
      configFile,
      "--platform",
      "browser",
      "--minify",
      "-o",
      tmp,
      entryFile,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(entryFile).catch(() => {});
  if (!output.success) {
    throw new Error(
      `Cannot bundle islands with "${Deno.execPath()} bundle": ${
        new TextDecoder().decode(output.stderr).slice(0, 2000)
      }`,
    );
  }
  await Deno.rename(tmp, file);
  await removeOldBundles(buildDir, name);
  const bytes = (await Deno.stat(file)).size;
  log.info("ui.bundle_built", { file: name, bytes, ms: Math.round(performance.now() - started) });
  return { path: `/static/build/${name}`, file, bytes };
}

/** Deletes bundles of earlier sources (older than a minute, so a build running elsewhere keeps its file). */
async function removeOldBundles(buildDir: string, keep: string): Promise<void> {
  for await (const entry of Deno.readDir(buildDir)) {
    if (!entry.isFile || entry.name === keep || !/^islands-[0-9a-f]+\.js$/.test(entry.name)) continue;
    const path = join(buildDir, entry.name);
    const info = await Deno.stat(path).catch(() => null);
    if (info?.mtime && Date.now() - info.mtime.getTime() > 60_000) await Deno.remove(path).catch(() => {});
  }
}
