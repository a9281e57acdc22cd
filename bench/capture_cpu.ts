/**
 * Capture's CPU per small exchange (issue #12 §2), side by side in one run: the same stream of exchanges
 * shaped like the gateway benchmark's (a short Anthropic Messages request, a ~2 KB JSON answer, parsed as
 * the proxy parses it) fed through capture's public API (`createCapture` → `sink.begin` → chunks → `end`),
 * once into a sink that drops everything (capture off: the cost of building the exchanges) and once into
 * real capture with its worker thread (journal, hashing, gzip, objects, SQL), rounds alternating. CPU is the
 * process's (all threads, `process.cpuUsage`) from the first exchange until the last is written, per
 * exchange; capture's cost is the difference. Exchanges arrive paced (`rate` per second, in bursts every
 * 10 ms, as 32 connections would) so batches form as they do under load, not as large as a flood makes them.
 *   deno run -A --unstable-no-legacy-abort bench/capture_cpu.ts [--exchanges 3000] [--rate 2000]
 *     [--bodies unique|same] [--store sqlite|postgres] [--rounds 2] [--in-process]
 * `same` repeats the gateway benchmark's identical bodies (stored once); `unique` gives every exchange its
 * own request and response bytes, as real traffic has.
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { createCapture } from "../capture/mod.ts";
import { nullSink } from "../capture/sink.ts";
import { dataPaths } from "../config/paths.ts";
import { startPostgres, type TestPostgres } from "../tests/support/postgres.ts";
import { feedExchanges } from "./capture_exchanges.ts";
import { fixed } from "./stats.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    exchanges: { type: "string", default: "3000" },
    rate: { type: "string", default: "2000" },
    bodies: { type: "string", default: "unique" },
    store: { type: "string", default: "sqlite" },
    rounds: { type: "string", default: "2" },
    "in-process": { type: "boolean", default: false },
  },
});
const EXCHANGES = Number(args.exchanges);
const RATE = Number(args.rate);
const UNIQUE = args.bodies === "unique";

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const systemMs = () => process.cpuUsage().system / 1000;
/** CPU of this (the proxy's) thread alone, from /proc in clock ticks (10 ms on Linux): coarse, fine over a round. */
const mainThreadMs = () => {
  const stat = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

interface Sink {
  sink: typeof nullSink;
  written(): number;
  close(): Promise<void>;
}

async function feed(
  target: Sink,
): Promise<
  { cpuMsPerExchange: number; systemMsPerExchange: number; mainThreadMsPerExchange: number; seconds: number }
> {
  const before = cpuMs();
  const mainBefore = mainThreadMs();
  const systemBefore = systemMs();
  const started = performance.now();
  await feedExchanges(target.sink, { count: EXCHANGES, rate: RATE, unique: UNIQUE, written: target.written });
  const used = cpuMs() - before;
  return {
    cpuMsPerExchange: used / EXCHANGES,
    systemMsPerExchange: (systemMs() - systemBefore) / EXCHANGES,
    mainThreadMsPerExchange: (mainThreadMs() - mainBefore) / EXCHANGES,
    seconds: (performance.now() - started) / 1000,
  };
}

async function openCapture(work: string, postgres: TestPostgres | null): Promise<Sink> {
  const dir = await Deno.makeTempDir({ dir: work });
  const env = new Map([["RECONDO_OBJECTS", "local"]]);
  if (postgres) {
    env.set("RECONDO_STORE", "postgres").set("RECONDO_DB_URL", await postgres.createDatabase());
  } else env.set("RECONDO_STORE", "sqlite");
  const capture = await createCapture({
    paths: dataPaths(dir),
    config: { capture: { durability: "batched", flushIntervalMs: 50 } },
    env,
    signIntervalMs: 3_600_000,
    inProcess: args["in-process"],
  });
  return {
    sink: capture.sink,
    written: () => capture.stats().written + capture.stats().failed,
    close: () => capture.close(),
  };
}

const work = await Deno.makeTempDir({ prefix: "recondo-capture-cpu-" });
const postgres = args.store === "postgres" ? await startPostgres() : null;
const off: number[] = [];
const on: number[] = [];
const onSystem: number[] = [];
const offMain: number[] = [];
const onMain: number[] = [];
try {
  let fed = 0;
  const nothing: Sink = {
    sink: {
      begin(exchange) {
        const tap = nullSink.begin(exchange);
        return { ...tap, end: (ex, parsed) => (fed++, tap.end(ex, parsed)) };
      },
      close: nullSink.close,
    },
    written: () => fed,
    close: () => Promise.resolve(),
  };
  const warm = await openCapture(work, postgres);
  await feed(warm); // warm-up: module loading, JIT, the worker's start
  await warm.close();
  for (let round = 0; round < Number(args.rounds); round++) {
    fed = 0;
    const without = await feed(nothing);
    off.push(without.cpuMsPerExchange);
    offMain.push(without.mainThreadMsPerExchange);
    const capture = await openCapture(work, postgres);
    const result = await feed(capture);
    on.push(result.cpuMsPerExchange);
    onSystem.push(result.systemMsPerExchange);
    onMain.push(result.mainThreadMsPerExchange);
    await capture.close();
  }
} finally {
  await postgres?.close();
  await Deno.remove(work, { recursive: true });
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(JSON.stringify({
  exchanges: EXCHANGES,
  rate: RATE,
  bodies: args.bodies,
  store: args.store,
  inProcess: args["in-process"],
  offCpuMs: off.map((x) => fixed(x, 3)),
  onCpuMs: on.map((x) => fixed(x, 3)),
  onSystemMs: onSystem.map((x) => fixed(x, 3)),
  captureCpuMsPerExchange: fixed(mean(on) - mean(off), 3),
  // Of that, the proxy's thread (collecting bodies, the hand-off to the worker, its acknowledgements).
  captureMainThreadMsPerExchange: fixed(mean(onMain) - mean(offMain), 3),
}));
