/**
 * The alert notifier: implements the policies' `AlertSink` off the hot path. A sink call only compares a
 * settlement with the thresholds (or notes a refusal) and queues a draft; a background pump then lets the
 * database decide whether this replica raises the alert (`claimAlert`), and delivers due webhooks
 * (`leaseDelivery`, POST, `recordAttempt`) with exponential backoff. Every replica also polls for due
 * deliveries, so one a crashed replica claimed but never sent is retried by another.
 * @example
 * const notifier = await startAlertNotifier(db, config.alerts, { gatewayId: "gw-1" });
 * startGateway({ services: { ...createPolicyServices(db), alerts: notifier.sink } });
 * @module
 */
import { log } from "../core/log.ts";
import type { AlertsConfig } from "../config/alerts.ts";
import type { AlertSink } from "../policies/alerts.ts";
import type { Db } from "../storage/db/db.ts";
import {
  claimAlert,
  dueDeliveries,
  type DueDelivery,
  leaseDelivery,
  type NewAlert,
  nextDueAt,
  recordAttempt,
} from "../storage/alerts/alert_store.ts";
import {
  budgetAlert,
  budgetAlertKey,
  crossedThresholds,
  throttleAlert,
  throttleAlertKey,
} from "./payload.ts";
import { postAlert, resolveWebhooks, type Webhook } from "./webhooks.ts";

/** Dedupe keys remembered per replica, so a refusal storm does not write one claim per refused request. */
const SEEN_LIMIT = 10_000;
/** A lease outlives the send's timeout by this much before another replica may retry it. */
const LEASE_MARGIN_MS = 5_000;

export interface AlertNotifier {
  sink: AlertSink;
  /**
   * Applies a reloaded `alerts` block (`null`: none, so nothing is raised) to the next alert and delivery.
   * Reads the webhooks' files first and throws, changing nothing, when one cannot be read.
   */
  reconfigure(config: AlertsConfig | null): Promise<void>;
  /** The id alerts name as their sender (set once the gateway knows its port). */
  setGatewayId(id: string): void;
  /** Resolves once the queue is empty and no pump runs (tests; shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Delay before retry number `attempts` (1 = the first retry): doubled per attempt, capped. */
export function retryDelay(
  attempts: number,
  config: Pick<AlertsConfig, "retryBaseMs" | "retryMaxMs">,
): number {
  return Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * Starts the notifier; throws when a webhook's URL or secret file cannot be read. With `config` null it
 * raises nothing until a reload brings an `alerts` block.
 */
export async function startAlertNotifier(
  db: Db,
  initial: AlertsConfig | null,
  options: { gatewayId: string; now?: () => number },
): Promise<AlertNotifier> {
  let current = initial ? { config: initial, webhooks: await resolveWebhooks(initial.webhooks) } : null;
  const now = options.now ?? Date.now;
  let gatewayId = options.gatewayId;
  const queue: NewAlert[] = [];
  const seen = new Set<string>();
  let running: Promise<void> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  /** Claims refused in a row (the database unreachable): the next claim waits `retryDelay` of it. */
  let claimFailures = 0;

  const remember = (key: string): boolean => {
    if (seen.has(key)) return false;
    if (seen.size >= SEEN_LIMIT) seen.clear();
    seen.add(key);
    return true;
  };

  /** Queues the alert `build` makes unless this replica already saw `key` (checked before building). */
  const enqueue = (key: string, build: () => NewAlert) => {
    if (closed || !current || !remember(key)) return;
    queue.push(build());
    kick();
  };

  /**
   * Claims queued alerts in order; `false` when the database refused one. That alert stays first in the
   * queue and is claimed again after a backoff: a budget's threshold is crossed once per period, so an
   * alert dropped here would never be raised again.
   */
  const claimQueued = async (): Promise<boolean> => {
    while (queue.length > 0) {
      const alert = queue[0];
      const targets = (current?.webhooks ?? []).filter((w) =>
        !w.events || w.events.includes(alert.kind as never)
      );
      try {
        const raised = await claimAlert(db, alert, targets);
        queue.shift();
        claimFailures = 0;
        if (raised) log.warn("alert.raised", { id: alert.id, kind: alert.kind, key: alert.dedupeKey });
      } catch (error) {
        claimFailures++;
        log.error("alert.claim_failed", { key: alert.dedupeKey, attempt: claimFailures, error });
        return false;
      }
    }
    return true;
  };

  const attempt = async (due: DueDelivery, webhook: Webhook | undefined, config: AlertsConfig) => {
    const at = now();
    const leased = await leaseDelivery(db, due, { at, leaseUntil: at + config.timeoutMs + LEASE_MARGIN_MS });
    if (!leased) return; // another replica is sending it
    const number = due.attempts + 1;
    const key = { alertId: due.alertId, webhookId: due.webhookId };
    if (!webhook) {
      // The webhook left the config since the alert was raised: nothing to send it to.
      await recordAttempt(db, key, {
        ok: false,
        status: null,
        error: "webhook no longer configured",
        at,
        retryAt: null,
      });
      return;
    }
    const result = await postAlert(webhook, due.payload, {
      alertId: due.alertId,
      attempt: number,
      at,
      timeoutMs: config.timeoutMs,
    });
    const done = now();
    if (result.ok) {
      await recordAttempt(db, key, { ok: true, status: result.status, at: done });
      log.info("alert.delivered", { alertId: due.alertId, webhook: webhook.host, attempt: number });
      return;
    }
    const retryAt = number >= config.maxAttempts ? null : done + retryDelay(number, config);
    await recordAttempt(db, key, { ...result, at: done, retryAt });
    log.warn(retryAt === null ? "alert.delivery_failed" : "alert.delivery_retry", {
      alertId: due.alertId,
      webhook: webhook.host,
      attempt: number,
      error: result.error,
    });
  };

  const deliverDue = async () => {
    for (let round = 0; round < 50; round++) {
      const active = current; // one configuration per round, whatever a reload does meanwhile
      if (!active) return;
      const due = await dueDeliveries(db, now());
      if (due.length === 0) return;
      await Promise.all(
        due.map((d) => attempt(d, active.webhooks.find((w) => w.id === d.webhookId), active.config)),
      );
    }
  };

  const schedule = async () => {
    if (closed || !current) return;
    const config = current.config;
    const next = await nextDueAt(db).catch(() => null);
    const poll = config.pollSeconds * 1000;
    let delay = next === null ? poll : Math.max(0, Math.min(poll, next - now()));
    if (queue.length > 0) delay = Math.min(delay, retryDelay(claimFailures, config)); // unclaimed alerts
    clearTimeout(timer);
    const handle = setTimeout(kick, delay);
    Deno.unrefTimer(handle); // a pending retry never keeps the process alive
    timer = handle;
  };

  function kick() {
    if (running || closed || !current) return;
    let claimed = true;
    running = (async () => {
      try {
        claimed = await claimQueued();
        await deliverDue();
      } catch (error) {
        log.error("alert.pump_failed", { error });
      }
    })().finally(() => {
      running = null;
      if (queue.length > 0 && claimed) kick();
      else void schedule();
    });
  }

  const sink: AlertSink = {
    budgetSettled(window, spent, at) {
      if (!current) return;
      for (const threshold of crossedThresholds(window.capMicros, spent, current.config.thresholds)) {
        enqueue(
          budgetAlertKey(window, threshold),
          () => budgetAlert(window, spent.afterMicros, threshold, { gatewayId, at, id: crypto.randomUUID() }),
        );
      }
    },
    throttleRefused(refusal, at) {
      enqueue(
        throttleAlertKey(refusal.bucket, at),
        () => throttleAlert(refusal, { gatewayId, at, id: crypto.randomUUID() }),
      );
    },
  };

  kick(); // deliveries left pending by a previous run
  return {
    sink,
    async reconfigure(config) {
      current = config ? { config, webhooks: await resolveWebhooks(config.webhooks) } : null;
      if (!current) clearTimeout(timer);
      kick(); // deliveries waiting for a webhook that is back, on the new poll interval
    },
    setGatewayId(id) {
      gatewayId = id;
    },
    async idle() {
      while (!closed && (running || queue.length > 0)) await (running ?? Promise.resolve());
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
