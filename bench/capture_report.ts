/**
 * The load table of the capture benchmark (bench/capture_bench.ts): one row per gateway run, and how each
 * column was measured.
 * @module
 */
import { fixed, thousands } from "./stats.ts";

/** Where a capture-on run stores its records; `null` in results is capture off. */
export type Store = "sqlite" | "postgres";

/** What one gateway run measured. */
export interface VariantResult {
  name: string;
  store: Store | null;
  reqPerSec: number;
  /** Gateway process CPU (all threads) per request answered, from the load's start until drained. */
  cpuMsPerRequest: number;
  clientErrors: number;
  upstreamRequests: number;
  loadSeconds: number;
  /** The rest is null with capture off. */
  writtenDuringLoad: number | null;
  drainSeconds: number | null;
  rows: number | null;
  failed: number | null;
  peakQueued: number | null;
  spilled: number | null;
}

/** The markdown lines of the load table with its notes. */
export function renderLoad(results: VariantResult[]): string[] {
  const offs = results.filter((r) => r.store === null);
  const offReqPerSec = offs.reduce((sum, r) => sum + r.reqPerSec, 0) / Math.max(1, offs.length);
  const dash = (n: number | null, f: (n: number) => string = thousands) => n === null ? "—" : f(n);
  const rows = results.map((r) => {
    const exact = r.rows === null
      ? "—"
      : r.rows === r.upstreamRequests && r.failed === 0
      ? "yes"
      : `**no**: ${r.rows} rows, ${r.failed} failed`;
    const during = r.writtenDuringLoad === null ? null : r.writtenDuringLoad / r.loadSeconds;
    const sustained = r.drainSeconds === null ? null : r.upstreamRequests / (r.loadSeconds + r.drainSeconds);
    return `| ${r.name} | ${thousands(r.reqPerSec)} | ${fixed((r.reqPerSec / offReqPerSec) * 100, 0)}% | ${
      fixed(r.cpuMsPerRequest, 2)
    } | ${thousands(r.upstreamRequests)} | ${r.clientErrors} | ${dash(during)} | ${
      dash(r.drainSeconds, (n) => fixed(n, 1))
    } | ${dash(sustained)} | ${dash(r.peakQueued)} / ${dash(r.spilled)} | ${exact} |`;
  });
  return [
    "| gateway | proxy req/s | vs capture off (mean) | gateway CPU ms/req (load + drain) | requests answered | client errors | persisted/s during load | drain after load (s) | captured/s sustained | peak backlog / spilled | every request stored exactly once |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ...rows,
    "",
    "- Proxy req/s: the load client's completed requests over its measured window (2 KB JSON answers, as in " +
    '"Gateway overhead"); "vs capture off" divides by the mean of the two capture-off runs. Gateway CPU ' +
    "ms/req: the gateway process's CPU (all threads, capture's worker included) from the load's start " +
    "until the backlog drained, per request answered; less sensitive to other load on the machine than " +
    "req/s. PostgreSQL's own server CPU is not in it.",
    "- Persisted/s during load: growth of `recondo_capture_written` (gateway `/metrics`) over the whole load " +
    "window (client start, warm-up, measurement), divided by that window. Drain: from the load's end until " +
    "`recondo_capture_queued` is 0 and written + failed covers every request. Captured/s sustained: every " +
    "request over load time plus drain time. Peak backlog and spilled: highest `recondo_capture_queued` and " +
    "`recondo_capture_spilled` sampled every 250 ms.",
    "- Exactly once: `SELECT COUNT(*) FROM exchanges` in that gateway's fresh database equals the requests the " +
    "upstream counted during that row's run (warm-up included), and `recondo_capture_failed` is 0. " +
    "PostgreSQL is a throwaway 15 cluster over TCP on 127.0.0.1 (tests/support/postgres.ts), objects on local disk.",
  ];
}
