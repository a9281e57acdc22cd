/**
 * `recondo verify --all` against `sha256sum` over the same objects (issue #4 §8), so the verify rate is read
 * as a ratio to the plain hashing floor of this machine rather than as an absolute that moves with the CPU.
 * Part of the capture benchmark (bench/capture_bench.ts).
 * @module
 */
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { seedCapturedStore } from "./capture_seed.ts";
import { fixed, thousands } from "./stats.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const SEED = { exchanges: 1500, minBytes: 8 * 1024, maxBytes: 64 * 1024 };

/** What one verify-vs-sha256sum comparison measured. */
export interface VerifyResult {
  /** What verify re-hashed: every body, and every file (the write batches' packs among them). */
  objects: number;
  /** Object files on disk (packs and bodies stored whole): what `sha256sum` reads. */
  files: number;
  turns: number;
  /** Sum of the objects' decompressed sizes. */
  plainBytes: number;
  /** Sum of the object files' sizes as stored (gzip). */
  storedBytes: number;
  verifySeconds: number;
  /** `verify --all` over a store of one exchange: process start-up and opening the store. */
  startupSeconds: number;
  sha256sumPlainSeconds: number;
  sha256sumStoredSeconds: number;
  ok: boolean;
}

async function timedVerify(deno: string, dir: string) {
  const started = performance.now();
  const out = await new Deno.Command(deno, {
    args: ["run", "--allow-all", join(ROOT, "main.ts"), "verify", "--all", "--json"],
    env: { RECONDO_DATA_DIR: dir, RECONDO_STORE: "sqlite", RECONDO_OBJECTS: "local", RECONDO_LOG: "warn" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  const text = new TextDecoder().decode(out.stdout);
  let report: { ok: boolean; checked_objects: number; checked_turns: number };
  try {
    report = JSON.parse(text);
  } catch (cause) {
    const stderr = new TextDecoder().decode(out.stderr);
    throw new Error(`recondo verify --all in ${dir} printed no JSON report: ${stderr || text}`, { cause });
  }
  return { seconds, report, ok: report.ok && out.success };
}

async function timedSha256sum(files: string[]): Promise<number> {
  const started = performance.now();
  const out = await new Deno.Command("sha256sum", { args: files, stdout: "null", stderr: "piped" }).output();
  const seconds = (performance.now() - started) / 1000;
  if (!out.success) throw new Error(`sha256sum failed: ${new TextDecoder().decode(out.stderr)}`);
  return seconds;
}

async function* walkGz(dir: string): AsyncIterable<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walkGz(path);
    else if (entry.name.endsWith(".gz")) yield path;
  }
}

/**
 * Seeds a store through the real capture, times `recondo verify --all` over it (a fresh process, as an
 * operator runs it), then `sha256sum` over the same object files as stored and over their bodies
 * decompressed to plain files beforehand (untimed). A one-exchange store gives verify's fixed start-up cost.
 */
export async function verifyVersusSha256sum(deno: string, dir: string): Promise<VerifyResult> {
  await seedCapturedStore(join(dir, "store"), SEED);
  await seedCapturedStore(join(dir, "one"), { ...SEED, exchanges: 1 });
  const verify = await timedVerify(deno, join(dir, "store"));
  const startup = await timedVerify(deno, join(dir, "one"));

  const plainDir = join(dir, "plain");
  await Deno.mkdir(plainDir);
  const stored: string[] = [];
  const plain: string[] = [];
  let storedBytes = 0;
  let plainBytes = 0;
  for await (const file of walkGz(join(dir, "store", "objects"))) {
    const gz = await Deno.readFile(file);
    const body = gunzipSync(gz);
    storedBytes += gz.length;
    plainBytes += body.length;
    stored.push(file);
    plain.push(join(plainDir, `${plain.length}`));
    await Deno.writeFile(plain.at(-1)!, body);
  }
  // Small bodies sit inside their write batch's pack, so there are fewer files than bodies; verify re-hashes
  // every body and every file (packs included), so it must have counted at least every file on disk.
  if (verify.report.checked_objects < stored.length) {
    throw new Error(
      `verify checked ${verify.report.checked_objects} objects but ${stored.length} .gz files are on disk`,
    );
  }
  return {
    objects: verify.report.checked_objects,
    files: stored.length,
    turns: verify.report.checked_turns,
    plainBytes,
    storedBytes,
    verifySeconds: verify.seconds,
    startupSeconds: startup.seconds,
    sha256sumPlainSeconds: await timedSha256sum(plain),
    sha256sumStoredSeconds: await timedSha256sum(stored),
    ok: verify.ok && startup.ok,
  };
}

/** The verify table and its method note, as markdown lines. */
export function renderVerify(v: VerifyResult): string[] {
  const mb = (bytes: number) => fixed(bytes / 1e6, 1);
  const rate = (seconds: number) => fixed(v.plainBytes / 1e6 / seconds, 0);
  const net = Math.max(0.001, v.verifySeconds - v.startupSeconds);
  const row = (
    name: string,
    turns: string,
    bytes: number,
    seconds: number,
    mbps: string,
    ratio: string,
    objects = v.objects,
  ) =>
    `| ${name} | ${thousands(objects)} | ${turns} | ${mb(bytes)} | ${
      fixed(seconds, 2)
    } | ${mbps} | ${ratio} |`;
  return [
    "| verify | objects | turns | MB read | seconds | body MB/s (decompressed) | verify throughput ÷ this row's |",
    "|---|---:|---:|---:|---:|---:|---:|",
    row(
      `recondo verify --all (${v.ok ? "ok" : "**problems**"})`,
      thousands(v.turns),
      v.storedBytes,
      v.verifySeconds,
      rate(v.verifySeconds),
      "1×",
    ),
    row("… minus start-up (verify of a 1-exchange store)", "—", v.storedBytes, net, rate(net), "—"),
    row(
      "sha256sum over the same bodies, decompressed",
      "—",
      v.plainBytes,
      v.sha256sumPlainSeconds,
      rate(v.sha256sumPlainSeconds),
      `${fixed(v.sha256sumPlainSeconds / v.verifySeconds, 2)}×`,
      v.files,
    ),
    row(
      "sha256sum over the same .gz files as stored",
      "—",
      v.storedBytes,
      v.sha256sumStoredSeconds,
      rate(v.sha256sumStoredSeconds),
      `${fixed(v.sha256sumStoredSeconds / v.verifySeconds, 2)}×`,
      v.files,
    ),
    "",
    `- verify: a store seeded through the real capture with ${SEED.exchanges} exchanges whose request ` +
    `bodies are unique, ${SEED.minBytes / 1024}–${SEED.maxBytes / 1024} KB (${
      thousands(v.objects)
    } objects verified: the request and response bodies, and the ${
      thousands(v.files)
    } files they are stored ` +
    "in, small bodies in their write batch's pack). `recondo verify --all` is a fresh process, start-up " +
    "included: it reads, " +
    "gunzips and SHA-256-hashes every object, recomputes every turn's chain link and checks the signed " +
    "heads. `sha256sum` (one process) only hashes: once over the bodies already decompressed to plain files " +
    "(the bytes verify hashes), once over the stored .gz files (the bytes verify reads). Body MB/s is " +
    "always decompressed body bytes over that row's time, so rows compare; the last column = that row's " +
    "time / verify's time (below 1× means verify is slower). Page cache warm for all rows.",
  ];
}
