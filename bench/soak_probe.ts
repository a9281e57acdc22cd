/**
 * A debug entry for `bench/soak.ts --entry`: runs the real command line (`serve`) and, beside it, samples
 * the process's `Deno.memoryUsage()` (RSS, JS heap, external memory) into a JSON-lines file and writes a V8
 * heap snapshot on SIGUSR2. Nothing of it is in `main.ts`: production pays nothing for it.
 *
 *   deno task soak --no-write --streams 500 --minutes 3 --interval-ms 200 \
 *     --entry "bench/soak_probe.ts serve" --env=SOAK_PROBE_DIR=/tmp/probe
 *   kill -USR2 "$(cat /tmp/probe/pid)"     # a heap snapshot now, /tmp/probe/heap-<seconds>.heapsnapshot
 *
 * `SOAK_PROBE_DIR` (required) receives `pid`, `memory.jsonl` (one line every `SOAK_PROBE_EVERY_MS`,
 * default 2000: `{ t, rss, heapUsed, heapTotal, external }`, bytes, `t` seconds since start) and the
 * snapshots. `SOAK_PROBE_SNAPSHOT_AT` (e.g. `60,170`) also takes snapshots at those seconds after start.
 * Every `SOAK_PROBE_MALLOC_EVERY_MS` (default 10000) glibc's `malloc_stats()` (per arena: bytes taken
 * from the system and bytes in use, so what the allocator keeps free) is appended to `malloc.txt`.
 * @module
 */
import { writeHeapSnapshot } from "node:v8";
import { join } from "node:path";
import { runCli } from "../cli/main.ts";

const dir = Deno.env.get("SOAK_PROBE_DIR");
if (!dir) throw new Error("bench/soak_probe.ts needs SOAK_PROBE_DIR (where samples and snapshots go)");
const everyMs = Number(Deno.env.get("SOAK_PROBE_EVERY_MS") ?? 2000);
const started = performance.now();
const seconds = () => Math.round((performance.now() - started) / 1000);

await Deno.mkdir(dir, { recursive: true });
await Deno.writeTextFile(join(dir, "pid"), String(Deno.pid));
const samples = await Deno.open(join(dir, "memory.jsonl"), { create: true, append: true });
const encoder = new TextEncoder();

function sample(): void {
  const { rss, heapUsed, heapTotal, external } = Deno.memoryUsage();
  samples.writeSync(
    encoder.encode(JSON.stringify({ t: seconds(), rss, heapUsed, heapTotal, external }) + "\n"),
  );
}

function snapshot(): void {
  sample();
  const file = writeHeapSnapshot(join(dir!, `heap-${seconds()}.heapsnapshot`));
  sample();
  console.error(`soak_probe: wrote ${file}`);
}

/**
 * glibc's `malloc_stats()` writes to fd 2: point fd 2 at `malloc.txt` for the call (FFI `dup`/`dup2`),
 * then back.
 */
function mallocStats(): (() => void) | null {
  if (Deno.build.os !== "linux") return null;
  const libc = Deno.dlopen("libc.so.6", {
    malloc_stats: { parameters: [], result: "void" },
    dup: { parameters: ["i32"], result: "i32" },
    dup2: { parameters: ["i32", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
    open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
    write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  });
  const path = encoder.encode(join(dir!, "malloc.txt") + "\0");
  // O_WRONLY | O_CREAT | O_APPEND: the descriptor is what `dup2` needs (Deno's files hide theirs).
  const fd = libc.symbols.open(path, 0o1 | 0o100 | 0o2000, 0o644);
  return () => {
    const mark = encoder.encode(`--- t=${seconds()}\n`);
    libc.symbols.write(fd, mark, BigInt(mark.length));
    const saved = libc.symbols.dup(2);
    libc.symbols.dup2(fd, 2);
    libc.symbols.malloc_stats();
    libc.symbols.dup2(saved, 2);
    libc.symbols.close(saved);
  };
}

const malloc = mallocStats();
if (malloc) {
  Deno.unrefTimer(setInterval(malloc, Number(Deno.env.get("SOAK_PROBE_MALLOC_EVERY_MS") ?? 10_000)));
}
const timer = setInterval(sample, everyMs);
Deno.unrefTimer(timer);
Deno.addSignalListener("SIGUSR2", snapshot);
for (const at of (Deno.env.get("SOAK_PROBE_SNAPSHOT_AT") ?? "").split(",").filter(Boolean)) {
  Deno.unrefTimer(setTimeout(snapshot, Number(at) * 1000));
}

await runCli(Deno.args);
