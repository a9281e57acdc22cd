/**
 * Watches the config file and calls `reload` after it changes (debounced: editors write in bursts).
 * The directory is watched, not the file, so atomic replace-by-rename is seen too.
 * @module
 */
import { basename, dirname } from "node:path";
import { log } from "../core/log.ts";

export function watchConfig(
  path: string,
  reload: () => Promise<unknown>,
  debounceMs = 150,
): { close(): void } {
  let watcher: Deno.FsWatcher;
  try {
    watcher = Deno.watchFs(dirname(path), { recursive: false });
  } catch (error) {
    log.warn("config.watch_unavailable", { path, error });
    return { close() {} };
  }
  const name = basename(path);
  let timer: ReturnType<typeof setTimeout> | undefined;
  (async () => {
    try {
      for await (const event of watcher) {
        if (!event.paths.some((p) => basename(p) === name)) continue;
        clearTimeout(timer);
        timer = setTimeout(() => void reload(), debounceMs);
      }
    } catch (error) {
      log.warn("config.watch_stopped", { path, error });
    }
  })();
  return {
    close() {
      clearTimeout(timer);
      try {
        watcher.close();
      } catch {
        // already closed
      }
    },
  };
}
