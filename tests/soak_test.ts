/**
 * The soak in small (issue "Hardening" §5): 300 SSE streams held open at once for 90 s through a real
 * `main.ts serve` with capture on, then a minute of quiet. The gateway's memory per stream stays bounded,
 * its RSS and file descriptors come back after the streams end, events are not held back, and every
 * exchange is recorded exactly once. `deno task soak` is the full-size run (1,000 streams × 10 minutes).
 *
 * About 2.7 minutes. RSS a minute after is held to the bound (1.5× idle). The other thresholds are
 * regression guards chosen from measured runs on the 2-core machine with margins for a test suite running
 * beside it (see each one); they are looser than the targets (200 KB per stream, p99 ≤ 50 ms), which
 * the gateway does not meet yet — the "Soak" section of BENCHMARKS.md has the full-size numbers against
 * those targets.
 */
import assert from "node:assert/strict";
import { runSoak } from "../bench/soak_run.ts";
import { SOAK_TARGETS } from "../bench/soak_report.ts";
import { DEFAULT_MAX_IDLE_PER_HOST } from "../proxy/upstream_client.ts";

const STREAMS = 300;

Deno.test({
  name: "300 SSE streams held for 90 s: bounded memory, RSS and fds recover, events on time, captured once",
  // The gateway and its helpers are child processes, stopped by the runner; nothing leaks into this one.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const result = await runSoak({
      streams: STREAMS,
      minutes: 1.5,
      eventIntervalMs: 500,
      settleMs: 60_000,
      progress: () => {},
    });
    const { samples: _, ...summary } = result;
    const report = JSON.stringify(summary);

    // Every stream completes with all its events, and the database holds each one exactly once.
    assert.equal(result.client.failed, 0, `failed streams: ${report}`);
    assert.equal(result.client.completed, STREAMS, report);
    assert.equal(result.client.eventsMin, result.client.eventsMax, `a stream lost events: ${report}`);
    assert.equal(result.recorded.rows, STREAMS, `rows in exchanges: ${report}`);
    assert.equal(result.recorded.distinct, STREAMS, `distinct streams recorded: ${report}`);
    assert.equal(result.recorded.complete, STREAMS, `complete 200s recorded: ${report}`);

    // Peak RSS above idle per stream: measured 411–422 KB at 300 streams × 1 min (an event every 200 ms),
    // 455 KB before long response bodies moved to files (capture/spilling_body.ts), whose end-of-streams
    // spike is gone. 640 KB leaves room for a smaller run's fixed costs and a busy machine, and still fails
    // on body chunks kept in fetch's 64 KiB read buffers (≥ 11 MB per stream here).
    assert.ok(result.perStreamKb <= 640, `RSS per stream ${result.perStreamKb.toFixed(0)} KB: ${report}`);
    // RSS a minute after the streams end: the bound, 1.5× idle. Measured 0.78× at 300 streams × 1 min
    // (the gateway trims glibc's free memory once the load is gone, proxy/memory_trim.ts), 1.28× without.
    assert.ok(
      result.after.rssKb <= SOAK_TARGETS.afterRssRatio * result.idle.rssKb,
      `RSS a minute after ${(result.after.rssKb / result.idle.rssKb).toFixed(2)}× idle: ${report}`,
    );
    // File descriptors come back to idle plus what the upstream pool may keep (one host, two engines).
    assert.ok(
      result.after.fds <= result.idle.fds + 2 * DEFAULT_MAX_IDLE_PER_HOST,
      `fds did not come back: ${report}`,
    );
    // Event delay p99: measured 87 ms here, 278–547 ms at 1,000 streams (the streams' TLS handshakes all land in their
    // first seconds) with other work on the machine. 1 s bounds a gateway that falls behind for good.
    assert.ok(
      result.client.delayMs.p99 <= 1000,
      `event delay p99 ${result.client.delayMs.p99} ms: ${report}`,
    );
  },
});
