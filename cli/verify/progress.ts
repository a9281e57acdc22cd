/**
 * A one-line progress bar on stderr for long runs (`verify --all`), redrawn at most every 100 ms. Only
 * drawn on a terminal, so pipes, CI logs and `--json` consumers see nothing of it.
 * @module
 */

/** A progress display: `update` as work advances, `done` to clear the line. */
export interface Progress {
  update(label: string, done: number, total: number): void;
  done(): void;
}

/** A bar when `enabled` (usually: stderr is a terminal), otherwise a no-op. */
export function progressBar(enabled: boolean = Deno.stderr.isTerminal(), width = 30): Progress {
  if (!enabled) return { update() {}, done() {} };
  const encoder = new TextEncoder();
  let last = 0;
  let drawn = false;
  const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  return {
    update(label, done, total) {
      const now = performance.now();
      if (done < total && now - last < 100) return;
      last = now;
      const fraction = total ? done / total : 1;
      const filled = Math.round(fraction * width);
      write(
        `\r${label.padEnd(8)} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} ${
          Math.floor(fraction * 100)
        }%\x1b[K`,
      );
      drawn = true;
    },
    done() {
      if (drawn) write("\r\x1b[K");
      drawn = false;
    },
  };
}
