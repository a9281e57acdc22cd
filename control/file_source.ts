/**
 * The control source of a single node: `recondo.json` itself. Its policies and developers are the
 * snapshot; an edit of the file, or of a module file the chain uses (and that module's local imports),
 * means a new snapshot may exist.
 * @module
 */
import { dirname, join, resolve } from "node:path";
import type { ControlSnapshot, ControlSource } from "../config/control.ts";
import { watchFiles } from "../config/file_watch.ts";
import { type Env, loadConfig } from "../config/load.ts";
import { collectModules, materializeModules } from "./module_bundle.ts";

/**
 * A `ControlSource` over the config file at `configPath`. With `cacheDir`, the chain's module files are
 * copied into a content-addressed folder there, as a fleet's are: an edit of any of them (an imported
 * helper too, which Deno would otherwise serve from its module cache) gives new import URLs.
 */
export function fileControlSource(
  configPath: string,
  env: Env = Deno.env,
  options: { cacheDir?: string } = {},
): ControlSource {
  const baseDir = dirname(resolve(configPath));
  return {
    kind: "file",
    async load(): Promise<ControlSnapshot> {
      const config = await loadConfig(configPath, env);
      // A module that cannot be read, or that imports files outside the config's folder, is built from
      // where it is (the chain build then names any problem) and only the config file is watched.
      const bundle = await collectModules(config.policies, baseDir).catch(() => null);
      const files = Object.keys(bundle?.manifest ?? {});
      const dir = bundle && files.length && options.cacheDir
        ? await materializeModules(bundle.manifest, bundle.sources, options.cacheDir)
        : baseDir;
      return {
        version: null,
        policies: config.policies,
        developers: config.developers,
        baseDir: dir,
        moduleFiles: files.map((path) => join(baseDir, path)),
      };
    },
    watch: (changed) => watchFiles([configPath], changed),
  };
}
