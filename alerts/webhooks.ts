/**
 * The configured webhooks, resolved once at start: each URL's stable id (a hash, since a Slack-style URL
 * is itself a secret and is never stored), its host for the Events page, its signing secret read from
 * `secretFile`, and one POST attempt.
 * @module
 */
import { createHash } from "node:crypto";
import type { AlertKind, WebhookConfig } from "../config/alerts.ts";
import { SIGNATURE_HEADER, signBody, TIMESTAMP_HEADER } from "./signing.ts";

/** A webhook ready to post to. */
export interface Webhook {
  id: string;
  host: string;
  url: string;
  events: readonly AlertKind[] | null;
  secret: string | null;
}

/** The outcome of one POST. */
export type Attempt =
  | { ok: true; status: number }
  | { ok: false; status: number | null; error: string };

/** Reads each webhook's secret file; throws naming the webhook and the file when one cannot be read. */
export async function resolveWebhooks(configs: readonly WebhookConfig[]): Promise<Webhook[]> {
  const out: Webhook[] = [];
  for (const [i, config] of configs.entries()) {
    let secret: string | null = null;
    if (config.secretFile) {
      try {
        secret = (await Deno.readTextFile(config.secretFile)).trim();
      } catch (error) {
        throw new Error(`Cannot read alerts.webhooks[${i}].secretFile "${config.secretFile}"`, {
          cause: error,
        });
      }
      if (!secret) throw new Error(`alerts.webhooks[${i}].secretFile "${config.secretFile}" is empty`);
    }
    out.push({
      id: createHash("sha256").update(config.url).digest("hex").slice(0, 24),
      host: new URL(config.url).host,
      url: config.url,
      events: config.events ?? null,
      secret,
    });
  }
  return out;
}

/** Posts `body` once, signed when the webhook has a secret; a 2xx answer is a delivery. */
export async function postAlert(
  webhook: Webhook,
  body: string,
  options: { alertId: string; attempt: number; at: number; timeoutMs: number },
): Promise<Attempt> {
  const timestamp = String(Math.floor(options.at / 1000));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "Recondo-Alerts/1",
    "x-recondo-alert-id": options.alertId,
    "x-recondo-delivery-attempt": String(options.attempt),
    [TIMESTAMP_HEADER]: timestamp,
  };
  if (webhook.secret) headers[SIGNATURE_HEADER] = signBody(webhook.secret, timestamp, body);
  try {
    const res = await fetch(webhook.url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (error) {
    return { ok: false, status: null, error: error instanceof Error ? error.message : String(error) };
  }
}
