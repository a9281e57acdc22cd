/**
 * Budget and throttle alerts posted to webhooks: `startAlertNotifier` gives the `AlertSink` policies call,
 * backed by the database outbox in `storage/alerts/`.
 * @module
 */
export { type AlertNotifier, retryDelay, startAlertNotifier } from "./notifier.ts";
export { signBody, verifySignature } from "./signing.ts";
export type { AlertPayload } from "./payload.ts";
