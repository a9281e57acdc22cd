/**
 * Watches files and calls `changed` after any of them changes (debounced: editors write in bursts). The
 * folders are watched, not the files, so an atomic replace-by-rename is seen too.
 * @module
 */
import { basename, dirname, resolve } from "node:path";
import { log } from "../core/log.ts";

/** Watches `paths` until `close()`. */
export function watchFiles(
  paths: readonly string[],
  changed: () => void,
  debounceMs = 150,
): { close(): void } {
  const wanted = new Set(paths.map((p) => resolve(p)));
  const dirs = [...new Set([...wanted].map((p) => dirname(p)))];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchers: Deno.FsWatcher[] = [];
  for (const dir of dirs) {
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(dir, { recursive: false });
    } catch (error) {
      log.warn("config.watch_unavailable", { path: dir, error });
      continue;
    }
    watchers.push(watcher);
    (async () => {
      try {
        for await (const event of watcher) {
          // Compare whole paths: two watched files may share a name in different folders.
          if (!event.paths.some((p) => wanted.has(resolve(p)) || wanted.has(resolve(dir, basename(p))))) {
            continue;
          }
          clearTimeout(timer);
          timer = setTimeout(changed, debounceMs);
        }
      } catch (error) {
        log.warn("config.watch_stopped", { path: dir, error });
      }
    })();
  }
  return {
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) {
        try {
          watcher.close();
        } catch {
          // already closed
        }
      }
    },
  };
}
