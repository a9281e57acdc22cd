/**
 * Hands freed native memory back to the system when the gateway goes quiet after load. glibc keeps what
 * TLS sessions, sockets and V8's external buffers freed during a burst in its arenas (measured: RSS a
 * minute after 1,000 streams ended was 2–3× idle although the JS heap was back to idle); `malloc_trim(0)`
 * returns it. It runs only when the open connections fell to half of their peak since the last trim
 * (and that peak was a real load), then once more a little later for what capture freed behind the
 * traffic: never per request, never on a busy gateway.
 *
 * Needs FFI (`--allow-ffi`, included in the `--allow-all` that `serve`, the image and the unit run with)
 * and glibc; elsewhere it does nothing, silently (the gateway works the same, it just keeps the memory).
 * @module
 */
import { log } from "../core/log.ts";

/** Connections that count as load: fewer, and there is nothing worth trimming. */
const MIN_PEAK_CONNECTIONS = 64;
const CHECK_EVERY_MS = 5_000;
/** The second trim, after capture has written what the burst left it. */
const FOLLOW_UP_MS = 30_000;

/** Options of `startMemoryTrim`. */
export interface MemoryTrimOptions {
  /** Client connections open now. */
  openConnections(): number;
  /** Test seam: what trims (default: glibc's `malloc_trim(0)`, or nothing without FFI or glibc). */
  trim?: () => void;
  checkEveryMs?: number;
  followUpMs?: number;
}

/** Starts watching; returns a stop function. Timers are unref'd: they never keep the process alive. */
export function startMemoryTrim(options: MemoryTrimOptions): () => void {
  const trim = options.trim ?? glibcTrim();
  if (!trim) return () => {};
  const trimmer = createTrimmer(trim, options.followUpMs ?? FOLLOW_UP_MS);
  const check = setInterval(
    () => trimmer.check(options.openConnections()),
    options.checkEveryMs ?? CHECK_EVERY_MS,
  );
  Deno.unrefTimer(check);
  return () => {
    clearInterval(check);
    trimmer.stop();
  };
}

/**
 * The decision, apart from the interval that feeds it: `check(open)` with the connections open now trims
 * when they fell to half of a peak of at least `MIN_PEAK_CONNECTIONS`, and schedules the follow-up.
 */
export function createTrimmer(
  trim: () => void,
  followUpMs: number,
): { check(open: number): void; stop(): void } {
  let peak = 0;
  let followUp: ReturnType<typeof setTimeout> | undefined;
  return {
    check(open) {
      peak = Math.max(peak, open);
      if (peak < MIN_PEAK_CONNECTIONS || open > peak / 2) return;
      const before = peak;
      peak = open;
      trim();
      log.debug("memory.trimmed", { peakConnections: before, openConnections: open });
      clearTimeout(followUp);
      const later = followUp = setTimeout(trim, followUpMs);
      Deno.unrefTimer(later);
    },
    stop: () => clearTimeout(followUp),
  };
}

/** `malloc_trim(0)` through FFI, or null where that is not available (no permission, no glibc). */
export function glibcTrim(): (() => void) | null {
  if (Deno.build.os !== "linux") return null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const libc = Deno.dlopen("libc.so.6", { malloc_trim: { parameters: ["usize"], result: "i32" } });
    return () => void libc.symbols.malloc_trim(0n);
  } catch (error) {
    log.debug("memory.trim_unavailable", { error });
    return null;
  }
}
