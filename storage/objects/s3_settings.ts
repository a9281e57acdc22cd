/**
 * Where the S3 object store's settings come from: `capture.s3` in `recondo.json`, each field overridden by
 * its environment variable when that is set (the environment wins, so one config file can serve staging
 * and production, and secrets-adjacent settings can stay out of the file). Endpoint, region and
 * credentials always come from the standard `AWS_*` variables and the SDK's default chain.
 *
 * | config (`capture.s3`) | environment             |
 * | --------------------- | ----------------------- |
 * | `bucket`              | `RECONDO_S3_BUCKET`     |
 * | `prefix`              | `RECONDO_S3_PREFIX`     |
 * | `lockMode`            | `RECONDO_S3_LOCK_MODE`  |
 * | `lockDays`            | `RECONDO_S3_LOCK_DAYS`  |
 * | `kmsKeyId`            | `RECONDO_S3_KMS_KEY_ID` |
 * @example
 * const options = s3Options(config.capture.s3, Deno.env);
 * @module
 */
import type { S3Config } from "../../config/schema.ts";
import type { S3StoreOptions } from "./s3.ts";

/** Environment lookup, `Deno.env` in production. */
export type Env = { get(name: string): string | undefined };

/** Merges `capture.s3` with `RECONDO_S3_*` and `AWS_*` (environment wins); throws naming a bad value. */
export function s3Options(config: S3Config | undefined, env: Env): S3StoreOptions {
  const bucket = env.get("RECONDO_S3_BUCKET") || config?.bucket;
  if (!bucket) throw new Error("The S3 object store needs RECONDO_S3_BUCKET or capture.s3.bucket");
  const mode = env.get("RECONDO_S3_LOCK_MODE") || config?.lockMode || null;
  let lock: S3StoreOptions["lock"] = null;
  if (mode) {
    if (mode !== "GOVERNANCE" && mode !== "COMPLIANCE") {
      throw new Error(`RECONDO_S3_LOCK_MODE must be GOVERNANCE or COMPLIANCE, got "${mode}"`);
    }
    const rawDays = env.get("RECONDO_S3_LOCK_DAYS");
    const days = rawDays ? Number(rawDays) : config?.lockDays ?? 365;
    if (!Number.isInteger(days) || days <= 0) {
      throw new Error(`RECONDO_S3_LOCK_DAYS must be a positive integer, got "${rawDays}"`);
    }
    lock = { mode, days };
  }
  return {
    bucket,
    prefix: env.get("RECONDO_S3_PREFIX") ?? config?.prefix ?? "",
    endpoint: env.get("AWS_ENDPOINT_URL") ?? null,
    region: env.get("AWS_REGION") ?? env.get("AWS_DEFAULT_REGION") ?? "us-east-1",
    lock,
    kmsKeyId: env.get("RECONDO_S3_KMS_KEY_ID") || config?.kmsKeyId || null,
  };
}

/**
 * Which object store to open: `RECONDO_OBJECTS` when set, else `s3` when the config names a bucket, else
 * `local`.
 */
export function objectStoreKind(config: S3Config | undefined, env: Env): "local" | "s3" {
  const kind = env.get("RECONDO_OBJECTS") ?? (config?.bucket ? "s3" : "local");
  if (kind !== "local" && kind !== "s3") {
    throw new Error(`RECONDO_OBJECTS must be "local" or "s3", got "${kind}"`);
  }
  return kind;
}
