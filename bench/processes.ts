/**
 * Child processes for the benchmark: every service is spawned through one `ProcessGroup`, so a failed or
 * interrupted run still stops all of them (SIGTERM, then SIGKILL), and `/proc` readings (RSS, CPU time)
 * come from the very process that does the work, never a wrapper.
 * @module
 */

/** A spawned service: its pid, the first JSON line it printed (if asked), and the tail of its stderr. */
export interface Service {
  name: string;
  pid: number;
  child: Deno.ChildProcess;
  /** Last few KB of stderr, for error messages. */
  stderrTail(): string;
  /** Resolves with the next stdout line that parses as JSON (other lines are skipped). */
  nextJson(timeoutMs: number): Promise<unknown>;
  /** Reads and discards the rest of stdout, so a chatty child never blocks on a full pipe. */
  drainStdout(): void;
  /** The exit code once the process has ended, else null. */
  exitCode(): number | null;
}

export interface SpawnOptions {
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

/** Owns every child of a run; `stopAll` is safe to call more than once. */
export class ProcessGroup {
  readonly #services = new Set<Service>();

  spawn(name: string, command: string, options: SpawnOptions): Service {
    const child = new Deno.Command(command, {
      args: options.args,
      env: options.env,
      cwd: options.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let stderr = "";
    const decoder = new TextDecoder();
    void (async () => {
      for await (const chunk of child.stderr) stderr = (stderr + decoder.decode(chunk)).slice(-4000);
    })().catch(() => {});
    const lines = readLines(child.stdout);
    let exitCode: number | null = null;
    const service: Service = {
      name,
      pid: child.pid,
      child,
      stderrTail: () => stderr,
      nextJson: (timeoutMs) =>
        withTimeout(nextJson(lines), timeoutMs, () => `${name} printed no JSON line; stderr: ${stderr}`),
      drainStdout() {
        void (async () => {
          for await (const _ of lines) { /* discard */ }
        })().catch(() => {});
      },
      exitCode: () => exitCode,
    };
    this.#services.add(service);
    void child.status.then((status) => {
      exitCode = status.code;
      this.#services.delete(service);
    });
    return service;
  }

  /** Stops one service and waits for it to exit. */
  async stop(service: Service): Promise<void> {
    await terminate(service.child);
    this.#services.delete(service);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#services].map((service) => this.stop(service)));
  }
}

async function terminate(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    return; // already exited
  }
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
  }, 3000);
  await child.status;
  clearTimeout(killer);
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  // Cast: with preact's DOM lib in the same program, TextDecoderStream's writable widens to BufferSource.
  for await (
    const text of stream.pipeThrough(
      new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>,
    )
  ) {
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    yield* lines;
  }
  if (pending) yield pending;
}

async function nextJson(lines: AsyncGenerator<string>): Promise<unknown> {
  while (true) {
    const next = await lines.next();
    if (next.done) throw new Error("stdout closed before a JSON line");
    try {
      return JSON.parse(next.value);
    } catch {
      // not a JSON line; keep reading
    }
  }
}

/** Rejects with `message()` when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resident set size and CPU time (user + system, all threads) of a live process, from /proc. */
export function procStats(pid: number): { rssKb: number; cpuMs: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name (which may contain spaces) start at field 3; utime and stime are 14, 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssKb: rss ? Number(rss[1]) : Number.NaN, cpuMs: ticks * (1000 / CLOCK_TICKS) };
}

/** One line of `/proc/<pid>/stat`, the fields the benchmark reads (times in clock ticks, RSS in pages). */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime: this process's own CPU, all its threads. */
  ticks: number;
  /** cutime + cstime: CPU of its children that have exited and been waited for. */
  childTicks: number;
  rssPages: number;
}

/** Parses `/proc/<pid>/stat` (the command name may contain spaces and parentheses). */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf("(");
  // Fields after the command name start at field 3 (state); ppid is 4, utime 14 … cstime 17, rss 24.
  const fields = text.slice(text.lastIndexOf(")") + 2).trim().split(" ");
  return {
    pid: Number(text.slice(0, open).trim()),
    ppid: Number(fields[1]),
    ticks: Number(fields[11]) + Number(fields[12]),
    childTicks: Number(fields[13]) + Number(fields[14]),
    rssPages: Number(fields[21]),
  };
}

/**
 * The process `root` and all its descendants in `stats` (e.g. squid and its certificate helpers), and their
 * CPU in ticks: every member's own time plus the time of its children that already exited and were waited
 * for (cutime + cstime), so a helper that ends between two readings still counts, through its parent.
 */
export function treeOf(
  stats: readonly ProcStat[],
  root: number,
): { pids: number[]; ticks: number; rssPages: number } {
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...children.get(s.ppid) ?? [], s]);
  const rootStat = stats.find((s) => s.pid === root);
  if (!rootStat) throw new Error(`Cannot sum the process tree of pid ${root}: no such process`);
  const members: ProcStat[] = [];
  const queue = [rootStat];
  while (queue.length) {
    const next = queue.shift()!;
    members.push(next);
    queue.push(...children.get(next.pid) ?? []);
  }
  return {
    pids: members.map((m) => m.pid),
    ticks: members.reduce((sum, m) => sum + m.ticks + m.childTicks, 0),
    rssPages: members.reduce((sum, m) => sum + m.rssPages, 0),
  };
}

/** Every process's `/proc/<pid>/stat`, read now. */
export function allProcStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      out.push(parseStat(Deno.readTextFileSync(`/proc/${entry.name}/stat`)));
    } catch {
      // exited while listing
    }
  }
  return out;
}

/**
 * Like `procStats`, summed over `pid` and every process below it (squid's certificate helpers, any worker
 * processes): RSS of all members (shared pages counted in each) and CPU as `treeOf` counts it.
 */
export function procTreeStats(pid: number): { rssKb: number; cpuMs: number; processes: number } {
  const tree = treeOf(allProcStats(), pid);
  return {
    rssKb: tree.rssPages * (PAGE_BYTES / 1024),
    cpuMs: tree.ticks * (1000 / CLOCK_TICKS),
    processes: tree.pids.length,
  };
}

/** Summed RSS of `pids` (a tree listed once by `treeOf`), skipping those that have exited: cheap to poll. */
export function rssOfPids(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += procStats(pid).rssKb;
    } catch {
      // exited since the tree was listed
    }
  }
  return kb;
}

/** The kernel's page size; 4 KiB on x86-64 and the arm64 kernels this runs on. */
const PAGE_BYTES = 4096;

/** USER_HZ; 100 on every Linux this runs on (the kernel ABI fixes it for /proc). */
const CLOCK_TICKS = 100;

/** A TCP port free right now on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Polls `ready` every 50 ms until it returns true (a throw ends the wait); throws `message()` after `timeoutMs`. */
export async function waitUntil(
  ready: () => Promise<boolean>,
  timeoutMs: number,
  message: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(message());
}

/** CPU time used on the whole machine, and by this process plus its reaped children, in ms. */
export function cpuAccount(): { machineBusyMs: number; machineTotalMs: number; oursMs: number } {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line;
  const busy = user + nice + system + irq + softirq + (steal ?? 0);
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime, stime, cutime, cstime: fields 14–17 (children counted once they are waited for).
  const ours = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  const ms = 1000 / CLOCK_TICKS;
  return { machineBusyMs: busy * ms, machineTotalMs: (busy + idle + iowait) * ms, oursMs: ours * ms };
}

/**
 * Waits (up to `maxWaitMs`) until other processes use less than `threshold` of the machine's CPU over a
 * one-second sample; returns the last sample's share, so the report can say how busy the machine was.
 */
export async function waitForQuietMachine(threshold: number, maxWaitMs: number): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  while (true) {
    const before = cpuAccount();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = cpuAccount();
    const others = (after.machineBusyMs - before.machineBusyMs - (after.oursMs - before.oursMs)) /
      Math.max(1, after.machineTotalMs - before.machineTotalMs);
    if (others < threshold || Date.now() >= deadline) return Math.max(0, others);
  }
}
