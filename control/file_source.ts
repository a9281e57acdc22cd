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
import { collectModules } from "./module_bundle.ts";

/** A `ControlSource` over the config file at `configPath`. */
export function fileControlSource(configPath: string, env: Env = Deno.env): ControlSource {
  const baseDir = dirname(resolve(configPath));
  return {
    kind: "file",
    async load(): Promise<ControlSnapshot> {
      const config = await loadConfig(configPath, env);
      // A module that cannot be read fails the chain build with a clear message; here it is just not watched.
      const manifest = await collectModules(config.policies, baseDir).then((b) => b.manifest, () => ({}));
      return {
        version: null,
        policies: config.policies,
        developers: config.developers,
        baseDir,
        moduleFiles: Object.keys(manifest).map((path) => join(baseDir, path)),
      };
    },
    watch: (changed) => watchFiles([configPath], changed),
  };
}
