/**
 * The retention scheduler `serve` runs: every `capture.retention.intervalMinutes` it deletes, by policy,
 * the turns that started more than `capture.retention.days` ago (reason `retention: older than N days`)
 * and the bodies no remaining turn names, then retries bodies an earlier run kept under Object Lock. Runs
 * never overlap; a failed run is logged and the next one tries again. Several replicas may run it against
 * one database: a turn is deleted once (see `deleteTurnByPolicy`).
 * @example
 * const stop = startRetention(capture.db, capture.objects, config.capture.retention);
 * // on shutdown
 * await stop();
 * @module
 */
import type { RetentionConfig } from "../config/schema.ts";
import { log } from "../core/log.ts";
import type { Db } from "./db/db.ts";
import type { ObjectStore } from "./objects/store.ts";
import { type RetentionResult, runRetention } from "./retention_run.ts";

const DAY_MS = 86_400_000;

/** Knobs for tests and tuning. */
export interface RetentionJobOptions {
  /** Clock (epoch ms). */
  now?: () => number;
  /** Delay before the first run (default one minute, so start-up is not slowed). */
  firstRunDelayMs?: number;
  /** Turns per batch. */
  batchSize?: number;
  /** Called after every run, with its result or its error. */
  onRun?: (outcome: { result?: RetentionResult; error?: unknown }) => void;
}

/** The reason recorded with each deletion a retention of `days` makes. */
export function retentionReason(days: number): string {
  return `retention: older than ${days} days`;
}

/**
 * Starts the scheduler and returns `stop`, which cancels the next run and waits for a running one to
 * finish its current batch. With `days: null` (keep forever) only Object Lock leftovers of explicit
 * deletions are retried.
 */
export function startRetention(
  db: Db,
  objects: ObjectStore,
  config: RetentionConfig,
  options: RetentionJobOptions = {},
): () => Promise<void> {
  const now = options.now ?? Date.now;
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | null = null;

  async function runOnce(): Promise<void> {
    const started = now();
    try {
      const result = await runRetention(
        db,
        objects,
        config.days === null ? null : { olderThan: started - config.days * DAY_MS },
        {
          reason: config.days === null ? "retention: Object Lock expired" : retentionReason(config.days),
          now,
          batchSize: options.batchSize,
          signal: abort.signal,
        },
      );
      log.info("retention.run", {
        days: config.days,
        turns: result.turns,
        sessions: result.sessions,
        objectsDeleted: result.objects_deleted,
        objectsShared: result.objects_shared,
        objectsLocked: result.objects_locked,
        objectsHeld: result.objects_held,
        lockedUntil: result.locked_until,
        objectsFailed: result.objects_failed,
        ms: now() - started,
      });
      options.onRun?.({ result });
    } catch (error) {
      log.error("retention.failed", { days: config.days, error });
      options.onRun?.({ error });
    }
  }

  function schedule(delayMs: number): void {
    if (abort.signal.aborted) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = runOnce().finally(() => {
        running = null;
        schedule(config.intervalMinutes * 60_000);
      });
    }, delayMs);
  }

  schedule(options.firstRunDelayMs ?? 60_000);
  log.info("retention.started", { days: config.days, intervalMinutes: config.intervalMinutes });
  return async function stopRetention(): Promise<void> {
    abort.abort();
    if (timer !== undefined) clearTimeout(timer);
    await running;
  };
}
