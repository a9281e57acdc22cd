/**
 * Runs a fuzz target for a number of iterations or seconds, in batches, and collects findings: problems its
 * checks report, throws out of an iteration, and unhandled rejections or uncaught errors while it runs.
 * @module
 */
import { iterationSeed, Rng } from "./rng.ts";

/** What one iteration sent and what its checks found wrong (empty when all held). */
export interface IterationResult {
  /** The input, to replay it and to keep it in the corpus. */
  input: Uint8Array;
  problems: string[];
}

/** A target once started: what it runs against is up (a gateway, say) until `close`. */
export interface TargetRun {
  iterate(rng: Rng): Promise<IterationResult> | IterationResult;
  /** Checks after each batch (connections and timers back to baseline, still serving). */
  afterBatch?(): Promise<string[]>;
  /** Iterations run at once (default 1). */
  concurrency?: number;
  /** Iterations between `afterBatch` checks (default 200). */
  batchSize?: number;
  close(): Promise<void>;
}

export interface FuzzTarget {
  name: string;
  description: string;
  start(): Promise<TargetRun>;
}

export interface Finding {
  target: string;
  seed: number;
  /** The iteration (its seed is `iterationSeed(seed, iteration)`); -1 for a batch check. */
  iteration: number;
  problem: string;
  /** Base64 of the input. */
  input: string;
}

export interface Report {
  target: string;
  seed: number;
  iterations: number;
  seconds: number;
  perSecond: number;
  findings: Finding[];
}

export interface RunOptions {
  seed: number;
  iterations?: number;
  seconds?: number;
  /** First iteration number (to replay one: `from: i, iterations: 1`). */
  from?: number;
  /** Distinct problems kept (default 50). */
  maxFindings?: number;
}

export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Runs `target` until `iterations` are done or `seconds` have passed (whichever is given; both: first). */
export async function runTarget(target: FuzzTarget, options: RunOptions): Promise<Report> {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const max = options.maxFindings ?? 50;
  const record = (iteration: number, problem: string, input: Uint8Array) => {
    // Group by the problem's shape (digits and quoted values vary per input).
    const key = problem.replace(/"[^"]*"/g, '""').replace(/\d+/g, "N").slice(0, 160);
    if (seen.has(key) || findings.length >= max) return;
    seen.add(key);
    findings.push({ target: target.name, seed: options.seed, iteration, problem, input: toBase64(input) });
  };
  let current: { iteration: number; input: Uint8Array } = { iteration: -1, input: new Uint8Array() };
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    record(
      current.iteration,
      `unhandled rejection: ${describe(event.reason)}${stackOf(event.reason)}`,
      current.input,
    );
  };
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    record(
      current.iteration,
      `uncaught error: ${describe(event.error)}${stackOf(event.error)}`,
      current.input,
    );
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);

  const run = await target.start();
  const from = options.from ?? 0;
  const limit = options.iterations ?? Infinity;
  const deadline = options.seconds === undefined ? Infinity : performance.now() + options.seconds * 1000;
  const concurrency = run.concurrency ?? 1;
  const batchSize = run.batchSize ?? 200;
  const started = performance.now();
  let done = 0;
  try {
    while (done < limit && performance.now() < deadline) {
      const batchEnd = Math.min(limit, done + batchSize);
      let next = done;
      const worker = async () => {
        while (next < batchEnd && performance.now() < deadline) {
          const iteration = from + next++;
          const rng = new Rng(iterationSeed(options.seed, iteration));
          let result: IterationResult;
          try {
            current = { iteration, input: new Uint8Array() };
            result = await run.iterate(rng);
          } catch (error) {
            record(iteration, `iteration threw: ${describe(error)}`, current.input);
            continue;
          }
          current = { iteration, input: result.input };
          for (const problem of result.problems) record(iteration, problem, result.input);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      done = next;
      for (const problem of (await run.afterBatch?.()) ?? []) record(-1, problem, new Uint8Array());
    }
  } finally {
    await run.close();
    // Rejections surface on a later turn: give them one before unhooking.
    await new Promise((resolve) => setTimeout(resolve, 0));
    globalThis.removeEventListener("unhandledrejection", onRejection);
    globalThis.removeEventListener("error", onError);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    target: target.name,
    seed: options.seed,
    iterations: done,
    seconds,
    perSecond: done / Math.max(seconds, 1e-9),
    findings,
  };
}

export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The first frames of an error's stack (where an uncaught error came from matters more than the input). */
function stackOf(error: unknown): string {
  if (!(error instanceof Error) || !error.stack) return "";
  return ` (${error.stack.split("\n").slice(1, 5).map((l) => l.trim()).join(" < ")})`;
}
