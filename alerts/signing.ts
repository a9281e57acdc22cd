/**
 * Webhook signatures: HMAC-SHA256, keyed with the webhook's secret, over `<timestamp>.<body>`, where the
 * timestamp is the `X-Recondo-Timestamp` header (Unix seconds) and the body is the exact bytes posted.
 * Binding the timestamp lets a receiver refuse replays older than a few minutes.
 * @example
 * // a receiver
 * const expected = signBody(secret, req.headers.get("x-recondo-timestamp")!, await req.text());
 * const ok = timingSafeEqual(expected, req.headers.get("x-recondo-signature")!);
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "X-Recondo-Signature";
export const TIMESTAMP_HEADER = "X-Recondo-Timestamp";

/** The `X-Recondo-Signature` value for `body` sent at `timestamp`: `sha256=<hex>`. */
export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** True when `signature` is `body`'s signature under `secret` (compared in constant time). */
export function verifySignature(
  secret: string,
  parts: { timestamp: string; body: string; signature: string },
): boolean {
  const expected = new TextEncoder().encode(signBody(secret, parts.timestamp, parts.body));
  const given = new TextEncoder().encode(parts.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
