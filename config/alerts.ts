/**
 * The `alerts` block of the config: webhooks that receive budget and throttle alerts, the budget
 * percentages that raise them, and how deliveries are retried. Absent: no alerts are raised. A config
 * reload applies a changed block (webhooks, their files re-read, thresholds) to the next alert.
 * @example
 * { "alerts": { "webhooks": [{ "url": "https://hooks.example.com/recondo", "secretFile": "/run/secrets/hook" }],
 *               "thresholds": [50, 80, 100] } }
 * @module
 */
import { z } from "zod";

/** The alert kinds a webhook may subscribe to. */
export const ALERT_KINDS = ["budget.threshold", "throttle.refusing"] as const;
export type AlertKind = typeof ALERT_KINDS[number];

/** An http(s) URL, the only kind a webhook may have. */
export const webhookUrlSchema = z.string().url().refine(
  (u) => /^https?:\/\//.test(u),
  "must be an http:// or https:// URL",
);

export const webhookSchema = z.object({
  url: webhookUrlSchema.optional(),
  /**
   * File holding the URL instead (mode 0600/0400, like the fleet's other secrets): a Slack incoming-webhook
   * URL is itself a credential, so a fleet mounts it rather than writing it into the config.
   */
  urlFile: z.string().min(1).optional(),
  /** File holding the HMAC-SHA256 key that signs each body; without it deliveries go unsigned. */
  secretFile: z.string().min(1).optional(),
  /** Kinds this webhook receives; all when absent. */
  events: z.array(z.enum(ALERT_KINDS)).min(1).optional(),
}).refine((w) => (w.url === undefined) !== (w.urlFile === undefined), "needs exactly one of url and urlFile");

export const alertsSchema = z.object({
  webhooks: z.array(webhookSchema).default([]),
  /** Percentages of each spend cap whose crossing raises one alert per budget period. */
  thresholds: z.array(z.number().positive().max(1000)).default([50, 80, 100]),
  /** Attempts per delivery before it is given up as `failed`. */
  maxAttempts: z.number().int().positive().max(100).default(10),
  /** Delay before the first retry; doubled per attempt up to `retryMaxMs`. */
  retryBaseMs: z.number().int().positive().default(5_000),
  retryMaxMs: z.number().int().positive().default(15 * 60_000),
  /** A webhook that has not answered in this long counts as a failed attempt. */
  timeoutMs: z.number().int().positive().max(120_000).default(10_000),
  /** How often each gateway looks for deliveries due (its own, or those a crashed replica left). */
  pollSeconds: z.number().int().positive().max(3600).default(10),
});

export type AlertsConfig = z.infer<typeof alertsSchema>;
export type WebhookConfig = z.infer<typeof webhookSchema>;
