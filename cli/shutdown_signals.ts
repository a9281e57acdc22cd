/**
 * Signal handling for `recondo serve`: the first SIGTERM or SIGINT starts a graceful drain (the caller's
 * `drain`, then its shutdown sequence, then exit 0); a second one exits at once with 128 + the signal
 * number (130 for SIGINT, 143 for SIGTERM, as a shell reports death by that signal), cutting whatever
 * was still in flight and skipping the capture flush (the journal replays it on the next start).
 * @module
 */
import { log } from "../core/log.ts";

const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;

/** Resolves with the first signal; a later one calls `exit(128 + n)` immediately. */
export function firstShutdownSignal(
  exit: (code: number) => never = Deno.exit,
): Promise<keyof typeof SIGNALS> {
  return new Promise((resolve) => {
    let received: keyof typeof SIGNALS | null = null;
    for (const name of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) {
      Deno.addSignalListener(name, () => {
        if (received === null) {
          received = name;
          resolve(name);
          return;
        }
        const code = 128 + SIGNALS[name];
        log.warn("gateway.forced_exit", { signal: name, first: received, code });
        exit(code);
      });
    }
  });
}
