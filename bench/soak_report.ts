/**
 * The "Soak" section of BENCHMARKS.md from one `SoakResult` (bench/soak_run.ts).
 * @module
 */
import type { SoakResult } from "./soak_run.ts";
import { fixed, thousands } from "./stats.ts";

/** What the soak must show; tests/soak_test.ts asserts the same bounds with the margins it explains. */
export const SOAK_TARGETS = {
  perStreamKb: 200,
  /** RSS one minute after the streams end, as a multiple of idle RSS. */
  afterRssRatio: 1.5,
  p99DelayMs: 50,
};

const mb = (kb: number) => `${fixed(kb / 1024, 0)} MB`;

export interface SoakChecks {
  perStream: boolean;
  rssRecovered: boolean;
  fdsRecovered: boolean;
  p99: boolean;
  allCompleted: boolean;
  exactlyOnce: boolean;
}

/** `poolBound`: the upstream pool's idle-connection bound (file descriptors it may keep after a burst). */
export function checkSoak(result: SoakResult, poolBound: number): SoakChecks {
  const { client, recorded } = result;
  return {
    perStream: result.perStreamKb <= SOAK_TARGETS.perStreamKb,
    rssRecovered: result.after.rssKb <= SOAK_TARGETS.afterRssRatio * result.idle.rssKb,
    fdsRecovered: result.after.fds <= result.idle.fds + poolBound,
    p99: client.delayMs.p99 <= SOAK_TARGETS.p99DelayMs,
    allCompleted: client.completed === result.streams && client.failed === 0,
    exactlyOnce: recorded.rows === result.streams && recorded.distinct === result.streams &&
      recorded.complete === result.streams,
  };
}

export function renderSoak(
  result: SoakResult,
  info: { date: string; machine: string; poolBound: number },
): string {
  const checks = checkSoak(result, info.poolBound);
  const yes = (ok: boolean) => ok ? "yes" : "**no**";
  const { client } = result;
  const rows = [
    ["streams held at once", thousands(result.streams), ""],
    ["stream length / event interval", `${result.minutes} min / ${result.eventIntervalMs} ms`, ""],
    [
      "RSS idle / peak / 1 min after",
      `${mb(result.idle.rssKb)} / ${mb(result.peak.rssKb)} / ${mb(result.after.rssKb)}`,
      "",
    ],
    [
      "RSS per stream above idle (peak)",
      `${fixed(result.perStreamKb, 0)} KB`,
      `≤ ${SOAK_TARGETS.perStreamKb} KB: ${yes(checks.perStream)}`,
    ],
    [
      "RSS 1 min after / idle",
      `${fixed(result.after.rssKb / result.idle.rssKb, 2)}×`,
      `≤ ${SOAK_TARGETS.afterRssRatio}×: ${yes(checks.rssRecovered)}`,
    ],
    [
      "file descriptors idle / peak / 1 min after",
      `${result.idle.fds} / ${thousands(result.peak.fds)} / ${result.after.fds}`,
      `≤ idle + ${info.poolBound} (upstream pool bound): ${yes(checks.fdsRecovered)}`,
    ],
    [
      "event delay p50 / p99 / max",
      `${fixed(client.delayMs.p50)} / ${fixed(client.delayMs.p99)} / ${fixed(client.delayMs.max, 0)} ms`,
      `p99 ≤ ${SOAK_TARGETS.p99DelayMs} ms: ${yes(checks.p99)}`,
    ],
    ["events ≥ 50 ms late", `${thousands(client.lateEvents)} of ${thousands(client.events)}`, ""],
    [
      "first byte p50 / p99",
      `${fixed(client.firstByteMs.p50, 0)} / ${fixed(client.firstByteMs.p99, 0)} ms`,
      "",
    ],
    [
      "exchanges completed",
      `${
        thousands(client.completed)
      } (${client.failed} failed; ${client.eventsMin}–${client.eventsMax} events each)`,
      yes(checks.allCompleted),
    ],
    [
      "recorded in the database",
      `${thousands(result.recorded.rows)} rows, ${thousands(result.recorded.distinct)} distinct streams, ` +
      `${thousands(result.recorded.complete)} complete`,
      `exactly once: ${yes(checks.exactlyOnce)}`,
    ],
    ["gateway CPU", `${fixed(result.gatewayCpuMs / 1000, 1)} s`, ""],
  ];
  return [
    `Measured ${info.date} on ${info.machine}; load average ${result.loadBefore} before the streams, ` +
    `${result.loadAfter} after. \`deno task soak\` (bench/soak.ts).`,
    "",
    "| | measured | target |",
    "| --- | --- | --- |",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
    "- One `main.ts serve` (capture on, SQLite, default policy chain, `RECONDO_LOG=warn`), the Node SSE " +
    "upstream of the gateway benchmark, and one load process that opens every stream on its own " +
    "connection (CONNECT, TLS, HTTP/1.1) over the first seconds and holds them all until the upstream ends " +
    "them. Idle is after 20 warm-up streams and 5 s of quiet; peak is the highest of 1-second /proc samples " +
    'from the streams\' start to a minute after they ended (their end included); "after" is one minute after ' +
    "the last stream ended.",
    "- Exactly once: every request carries its own `x-soak-stream` tag; the database must hold each tag in " +
    "exactly one `exchanges` row, answered 200 and complete.",
  ].join("\n");
}
