/**
 * Storage growth (issue #12 §3): how many bytes capture keeps for long Claude Code sessions, and what each
 * turn costs it as the request grows. Sessions of 50, 150 and 400 turns (bench/claude_code_session.ts) go
 * through capture's public API, as the gateway hands them over: `createCapture` with local objects and
 * SQLite, `sink.begin` → request and response chunks → `end` with the parsed answer, one turn at a time,
 * each persisted before the next. Bytes stored are read from the data directory afterwards (everything but
 * the journal and keys), so the benchmark measures whatever layout capture uses, whole bodies or segments.
 *
 * `deno task bench:storage` runs it alone and rewrites the "Storage growth" section of BENCHMARKS.md;
 * `deno task bench` runs it after the other benchmarks.
 * @module
 */
import process from "node:process";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { createCapture } from "../capture/mod.ts";
import { dataPaths } from "../config/paths.ts";
import type { Exchange } from "../core/exchange.ts";
import { newId } from "../core/ids.ts";
import { createResponseParser } from "../providers/mod.ts";
import { claudeCodeSession, loadClaudeCodeTemplate, type SessionTurn } from "./claude_code_session.ts";
import { fixed, percentile } from "./stats.ts";

export const SESSION_TURNS = [50, 150, 400];
/** Turns whose per-turn CPU is reported as "turn 10" (median of 8–12) and as "last" (median of the last 5). */
const EARLY = { from: 8, to: 12 };
const LAST = 5;
/** The goal: bytes stored at most this many times the gzip size of the last request, at 150 turns. */
export const GOAL = { turns: 150, timesLastGzip: 2 };

/** One session's measurements. */
export interface SessionResult {
  turns: number;
  lastRequestBytes: number;
  lastRequestGzipBytes: number;
  /** Every request and response body gzipped on its own: what storing whole bodies takes. */
  wholeBodiesGzipBytes: number;
  /** Every request body as sent, summed. */
  requestBytesSum: number;
  stored: { objectBytes: number; databaseBytes: number; otherBytes: number };
  /** Capture CPU (all threads) per turn, ms, indexed by turn − 1. */
  cpuMs: number[];
  /** Wall time from `begin` until the turn was persisted, ms. */
  wallMs: number[];
}

/** Bytes of all files under `dir`, recursively (0 when it does not exist). */
async function treeBytes(dir: string, skip: (path: string) => boolean = () => false): Promise<number> {
  let total = 0;
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (skip(path)) continue;
      if (entry.isDirectory) total += await treeBytes(path, skip);
      else if (entry.isFile) total += (await Deno.stat(path)).size;
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return total;
}

export function exchangeFor(turn: SessionTurn, at: number): Exchange {
  return {
    id: newId(at),
    connectionId: "storage-growth",
    kind: "http",
    client: { developer: "bench", team: "bench", address: "127.0.0.1:40000", via: "address" },
    target: { host: "api.anthropic.com", port: 443, upstreamOrigin: "https://api.anthropic.com" },
    provider: "anthropic",
    api: "anthropic.messages",
    request: { method: "POST", path: turn.path, headers: turn.headers },
    requestBody: null,
    response: { status: 200, headers: turn.responseHeaders },
    timing: { start: at, upstreamConnected: at + 1, firstByte: at + 300, end: at + 900 },
    decisions: [],
    wsMessages: [],
    errors: [],
    outcome: "complete",
  };
}

const cpuNowMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Captures one session of `turns` turns into a fresh data dir under `work`. */
export async function measureSession(
  work: string,
  turns: number,
  seed: number,
  options: { inspect?: (paths: ReturnType<typeof dataPaths>) => Promise<void> } = {},
): Promise<SessionResult> {
  const dir = await Deno.makeTempDir({ dir: work, prefix: `storage-${turns}-` });
  const paths = dataPaths(dir);
  // In-process: the same pipeline and persistence the gateway's capture worker runs, with stats that are
  // current at every poll (the worker reports them every 200 ms). cpuUsage covers every thread either way.
  const capture = await createCapture({
    paths,
    config: { capture: { durability: "batched", flushIntervalMs: 50 } },
    env: new Map([["RECONDO_STORE", "sqlite"], ["RECONDO_OBJECTS", "local"]]),
    signIntervalMs: 3_600_000,
    inProcess: true,
  });
  const template = await loadClaudeCodeTemplate();
  const result: SessionResult = {
    turns,
    lastRequestBytes: 0,
    lastRequestGzipBytes: 0,
    wholeBodiesGzipBytes: 0,
    requestBytesSum: 0,
    stored: { objectBytes: 0, databaseBytes: 0, otherBytes: 0 },
    cpuMs: [],
    wallMs: [],
  };
  try {
    let at = Date.now();
    for (const turn of claudeCodeSession(template, turns, seed)) {
      at += 30_000; // 30 s apart: one session, well inside capture's idle gap
      const exchange = exchangeFor(turn, at);
      const parser = createResponseParser("anthropic.messages", turn.responseHeaders["content-type"]);
      parser.push(turn.responseBody);
      const parsed = { request: null, response: parser.finish() };
      const written = capture.stats().written;
      const cpuBefore = cpuNowMs();
      const wallBefore = performance.now();
      const tap = capture.sink.begin(exchange);
      // Chunked as a client's TLS records would arrive (16 KB), so capture joins them as it does live.
      for (let i = 0; i < turn.requestBody.length; i += 16_384) {
        tap.requestChunk(turn.requestBody.slice(i, i + 16_384));
      }
      tap.responseChunk(turn.responseBody);
      await tap.end(exchange, parsed);
      while (capture.stats().written === written) {
        const stats = capture.stats();
        if (stats.failed > 0) throw new Error(`capture failed to persist turn ${turn.turn} of ${turns}`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      result.cpuMs.push(cpuNowMs() - cpuBefore);
      result.wallMs.push(performance.now() - wallBefore);
      result.requestBytesSum += turn.requestBody.length;
      const requestGzip = gzipSync(turn.requestBody).length;
      result.wholeBodiesGzipBytes += requestGzip + gzipSync(turn.responseBody).length;
      result.lastRequestBytes = turn.requestBody.length;
      result.lastRequestGzipBytes = requestGzip;
    }
  } finally {
    await capture.close();
  }
  const database = (path: string) => path.startsWith(paths.database);
  const notStored = (path: string) =>
    path === paths.journal || path === join(dir, "keys") || path === paths.caDir || path === paths.objects ||
    database(path);
  result.stored = {
    objectBytes: await treeBytes(paths.objects),
    databaseBytes: await treeBytes(dir, (path) => !database(path)),
    otherBytes: await treeBytes(dir, notStored),
  };
  await options.inspect?.(paths);
  await Deno.remove(dir, { recursive: true });
  return result;
}

/** Bytes stored in all: objects, database files and anything else capture keeps outside journal and keys. */
export function storedBytes(result: SessionResult): number {
  return result.stored.objectBytes + result.stored.databaseBytes + result.stored.otherBytes;
}

/** Median capture CPU per turn at turn 10 (turns 8–12) and over the last 5 turns, in ms. */
export function cpuPerTurn(result: SessionResult): { early: number; last: number } {
  const early = result.cpuMs.slice(EARLY.from - 1, EARLY.to);
  return { early: percentile(early, 50), last: percentile(result.cpuMs.slice(-LAST), 50) };
}

const kb = (bytes: number) => `${fixed(bytes / 1024, 0)} KB`;
const mb = (bytes: number) => `${fixed(bytes / 1024 / 1024, 1)} MB`;

/** The markdown body of the "Storage growth" section. */
export function renderStorageGrowth(results: SessionResult[], header: string): string {
  const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const lines = [
    header,
    "",
    row([
      "session",
      "last request (gzip)",
      "all request bodies",
      "whole bodies, each gzipped",
      "stored: objects + database",
      "stored ÷ gzip of last request",
      "stored ÷ whole bodies",
      "capture CPU ms/turn at turn 10",
      "at the last turn",
      "last ÷ turn 10",
    ]),
    row(Array(10).fill("---:")),
  ];
  for (const r of results) {
    const stored = storedBytes(r);
    const cpu = cpuPerTurn(r);
    const other = r.stored.otherBytes ? ` + ${kb(r.stored.otherBytes)} other` : "";
    lines.push(row([
      `${r.turns} turns`,
      `${kb(r.lastRequestBytes)} (${kb(r.lastRequestGzipBytes)})`,
      mb(r.requestBytesSum),
      mb(r.wholeBodiesGzipBytes),
      `${mb(stored)} (${mb(r.stored.objectBytes)} + ${mb(r.stored.databaseBytes)}${other})`,
      `${fixed(stored / r.lastRequestGzipBytes, 1)}×`,
      `${fixed(stored / r.wholeBodiesGzipBytes, 2)}×`,
      fixed(cpu.early, 2),
      fixed(cpu.last, 2),
      `${fixed(cpu.last / cpu.early, 1)}×`,
    ]));
  }
  const goal = results.find((r) => r.turns === GOAL.turns);
  if (goal) {
    const times = storedBytes(goal) / goal.lastRequestGzipBytes;
    lines.push(
      "",
      `Goal: at ${GOAL.turns} turns, bytes stored ≤ ${GOAL.timesLastGzip}× the gzip size of the last request: ` +
        `${fixed(times, 1)}× — ${times <= GOAL.timesLastGzip ? "met" : "**not met**"}.`,
    );
  }
  return lines.join("\n");
}

function methodNotes(): string[] {
  return [
    "Each session is one Claude Code conversation built from the recorded request in " +
    "tests/fixtures/clients/claude-code/claude/ (bench/claude_code_session.ts): its system prompt, tools and " +
    "first user message (~88 KB of JSON) are the stable prefix; each turn adds the assistant's `tool_use` and " +
    "a 2–6 KB `tool_result` of code-like text, the `cache_control` breakpoint moves to the newest message, and " +
    "the billing line, `previous_message_id` and request id change per request as in the recording. Answers " +
    "are Anthropic SSE streams calling the next tool, parsed by Recondo's response parser as the proxy does.",
    "Capture: `createCapture` (SQLite, local object store, batched durability) in this process " +
    "(`inProcess`, the same pipeline and persistence the gateway runs in its capture worker), fed through " +
    "`sink.begin` → request chunks of 16 KB → response → `end`; each turn waits until capture reports it " +
    "written. CPU per turn is this process's user + system time (all threads, zlib's pool included) from " +
    "`begin` until written: median of turns 8–12 and of the last 5 turns.",
    "Stored: after `close()`, the sizes of the files in the data directory: the object store, the SQLite " +
    'database (with any -wal/-shm), and anything else capture keeps ("other"), not the journal, keys or CA. ' +
    "Whole bodies, each gzipped: every request and response body gzipped on its own (zlib level 6) and summed, " +
    "i.e. what storing each body whole costs. Gzip of the last request: the same for the session's last " +
    "request alone.",
  ];
}

async function machineLine(): Promise<string> {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(await Deno.readTextFile("/proc/cpuinfo"))?.[1] ?? "unknown CPU";
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  return `${navigator.hardwareConcurrency} × ${cpu.trim()} (load average before the run ${load})`;
}

/** Runs every session and returns the "Storage growth" markdown section. */
export async function storageGrowthBench(work: string): Promise<string> {
  const machine = await machineLine();
  const date = new Date().toISOString().slice(0, 16).replace("T", " ");
  const results: SessionResult[] = [];
  for (const [i, turns] of SESSION_TURNS.entries()) {
    console.error(`bench: storage growth, ${turns} turns…`);
    results.push(await measureSession(work, turns, i + 1));
  }
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  const header =
    `Measured ${date} UTC on ${machine}, load average after it ${load}; deno ${Deno.version.deno}. ` +
    "One run, each session in a fresh data directory.";
  return [renderStorageGrowth(results, header), "", ...methodNotes().map((n) => `- ${n}`)].join("\n");
}

async function main(): Promise<number> {
  const { writeSections } = await import("./benchmarks_md.ts");
  const work = await Deno.makeTempDir({ prefix: "recondo-storage-bench-" });
  try {
    const markdown = await storageGrowthBench(work);
    console.log(`## Storage growth\n\n${markdown}\n`);
    if (!Deno.args.includes("--no-write")) {
      console.error(`bench: wrote ${await writeSections({ "Storage growth": markdown })}`);
    }
    return 0;
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());
