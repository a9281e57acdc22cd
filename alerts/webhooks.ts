/**
 * The configured webhooks, resolved at start and at each config reload: each URL's stable id (a hash, since a Slack-style URL
 * is itself a secret and is never stored), its host for the Events page, its signing secret read from
 * `secretFile`, and one POST attempt.
 * @module
 */
import { createHash } from "node:crypto";
import { type AlertKind, type WebhookConfig, webhookUrlSchema } from "../config/alerts.ts";
import { checkSecretFile } from "../config/secret_files.ts";
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

/**
 * Reads each webhook's URL file and secret file; throws naming the webhook and the file when one cannot be
 * read, can be read by group or others, is empty, or (a URL file) holds no http(s) URL.
 */
export async function resolveWebhooks(configs: readonly WebhookConfig[]): Promise<Webhook[]> {
  const out: Webhook[] = [];
  for (const [i, config] of configs.entries()) {
    let url = config.url ?? null;
    if (config.urlFile) {
      url = await readSecret(`alerts.webhooks[${i}].urlFile`, config.urlFile);
      const parsed = webhookUrlSchema.safeParse(url);
      if (!parsed.success) {
        // The file's text is a credential: say what is wrong, never what it holds.
        throw new Error(
          `alerts.webhooks[${i}].urlFile names ${config.urlFile}, which holds no http:// or https:// URL`,
        );
      }
    }
    const secret = config.secretFile
      ? await readSecret(`alerts.webhooks[${i}].secretFile`, config.secretFile)
      : null;
    out.push({
      id: createHash("sha256").update(url!).digest("hex").slice(0, 24),
      host: new URL(url!).host,
      url: url!,
      events: config.events ?? null,
      secret,
    });
  }
  return out;
}

/** A secret file's trimmed text; it must be readable, not readable by group or others, and not empty. */
async function readSecret(label: string, path: string): Promise<string> {
  await checkSecretFile(label, path, { key: true }); // its message names the label and the path
  const text = (await Deno.readTextFile(path)).trim();
  if (!text) throw new Error(`${label} names ${path}, which is empty`);
  return text;
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
