/**
 * Prepares the S3 bucket the gateway writes bodies to, once, before the first gateway starts (`recondo
 * storage init-bucket`): creates it with Object Lock enabled (which also enables versioning), turns
 * versioning on, sets the default Object Lock retention and the default SSE-KMS key. Safe to run again: each
 * setting is read first and written only when it differs, and the report says what was found and what
 * changed. The gateway's own puts carry retention and key too (`s3.ts`); the bucket defaults make every
 * object locked and encrypted even when a writer forgets, which is what an auditor checks.
 * @example
 * const report = await initBucket(createS3Client(options), options);
 * @module
 */
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { S3StoreOptions } from "./s3.ts";

/** What the bucket should have. */
export type InitBucketOptions = Pick<S3StoreOptions, "bucket" | "region" | "lock" | "kmsKeyId"> & {
  /**
   * Set the bucket's default encryption to SSE-KMS with `kmsKeyId` (default true). Off for servers that do
   * not implement PutBucketEncryption (Ceph RGW before 17.2); the gateway still sends the key on every put.
   */
  defaultEncryption?: boolean;
};

/** One setting before and after. `changed` is false when it already was as asked. */
export interface SettingReport<T> {
  found: T;
  now: T;
  changed: boolean;
}

/** What `initBucket` found and did. */
export interface InitBucketReport {
  bucket: string;
  created: boolean;
  /** `Enabled`, `Suspended` or `null` (never enabled). */
  versioning: SettingReport<string | null>;
  /** Whether Object Lock is enabled on the bucket, and its default retention. */
  objectLock: SettingReport<{ enabled: boolean; mode: string | null; days: number | null }>;
  /** The default encryption: algorithm and KMS key id, or `null` when the bucket has none. */
  encryption: SettingReport<{ algorithm: string; kmsKeyId: string | null } | null>;
}

function errorName(error: unknown): string {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name ?? e?.Code ?? "";
}

/** The S3 error's code and message, for a failure message the CLI prints without the cause. */
function reason(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return `${e?.name ?? "Error"} (HTTP ${e?.$metadata?.httpStatusCode ?? "?"}): ${
    e?.message ?? String(error)
  }`;
}

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

async function bucketExists(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    if (status(error) === 404 || errorName(error) === "NotFound") return false;
    throw new Error(`Cannot check bucket s3://${bucket} (HeadBucket): ${reason(error)}`, { cause: error });
  }
}

async function readObjectLock(
  client: S3Client,
  bucket: string,
): Promise<InitBucketReport["objectLock"]["found"]> {
  try {
    const out = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    const retention = out.ObjectLockConfiguration?.Rule?.DefaultRetention;
    return {
      enabled: out.ObjectLockConfiguration?.ObjectLockEnabled === "Enabled",
      mode: retention?.Mode ?? null,
      days: retention?.Days ?? (retention?.Years ? retention.Years * 365 : null),
    };
  } catch (error) {
    if (errorName(error) === "ObjectLockConfigurationNotFoundError" || status(error) === 404) {
      return { enabled: false, mode: null, days: null };
    }
    throw new Error(`Cannot read the Object Lock configuration of s3://${bucket}: ${reason(error)}`, {
      cause: error,
    });
  }
}

async function readEncryption(
  client: S3Client,
  bucket: string,
): Promise<InitBucketReport["encryption"]["found"]> {
  try {
    const out = await client.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    const rule = out.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
    return rule?.SSEAlgorithm
      ? { algorithm: rule.SSEAlgorithm, kmsKeyId: rule.KMSMasterKeyID ?? null }
      : null;
  } catch (error) {
    const name = errorName(error);
    if (name === "ServerSideEncryptionConfigurationNotFoundError" || status(error) === 404) return null;
    throw new Error(`Cannot read the default encryption of s3://${bucket}: ${reason(error)}`, {
      cause: error,
    });
  }
}

/** Creates or completes the bucket's settings; throws naming the step and the bucket when one fails. */
export async function initBucket(client: S3Client, options: InitBucketOptions): Promise<InitBucketReport> {
  const { bucket, lock, kmsKeyId } = options;
  let created = false;
  if (!(await bucketExists(client, bucket))) {
    try {
      await client.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ObjectLockEnabledForBucket: true,
          // us-east-1 is the one region that refuses an explicit location constraint.
          ...(options.region && options.region !== "us-east-1"
            ? { CreateBucketConfiguration: { LocationConstraint: options.region as never } }
            : {}),
        }),
      );
      created = true;
    } catch (error) {
      throw new Error(`Cannot create bucket s3://${bucket} with Object Lock: ${reason(error)}`, {
        cause: error,
      });
    }
  }

  const versioningFound = (await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status ??
    null;
  if (versioningFound !== "Enabled") {
    try {
      await client.send(
        new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }),
      );
    } catch (error) {
      throw new Error(`Cannot enable versioning on s3://${bucket}: ${reason(error)}`, { cause: error });
    }
  }

  const lockFound = await readObjectLock(client, bucket);
  let lockNow = lockFound;
  const wantLock = lock
    ? { enabled: true, mode: lock.mode, days: lock.days }
    : { ...lockFound, enabled: true };
  if (!lockFound.enabled || lockFound.mode !== wantLock.mode || lockFound.days !== wantLock.days) {
    try {
      await client.send(
        new PutObjectLockConfigurationCommand({
          Bucket: bucket,
          ObjectLockConfiguration: {
            ObjectLockEnabled: "Enabled",
            ...(lock ? { Rule: { DefaultRetention: { Mode: lock.mode, Days: lock.days } } } : {}),
          },
        }),
      );
    } catch (error) {
      throw new Error(
        `Cannot set Object Lock ${lock ? `${lock.mode} ${lock.days} days` : "enabled"} on s3://${bucket}` +
          (lockFound.enabled
            ? ""
            : " (a bucket created without Object Lock may not allow enabling it later)"),
        { cause: error },
      );
    }
    lockNow = await readObjectLock(client, bucket);
  }

  const encryptionFound = await readEncryption(client, bucket);
  let encryptionNow = encryptionFound;
  if (
    kmsKeyId && options.defaultEncryption !== false &&
    (encryptionFound?.algorithm !== "aws:kms" || encryptionFound.kmsKeyId !== kmsKeyId)
  ) {
    try {
      await client.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [{
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: kmsKeyId },
              // One data key per bucket and period instead of one KMS call per object (AWS; others ignore it).
              BucketKeyEnabled: true,
            }],
          },
        }),
      );
    } catch (error) {
      throw new Error(
        `Cannot set SSE-KMS default encryption with key "${kmsKeyId}" on s3://${bucket}: ${reason(error)}. ` +
          "Servers without bucket default encryption (Ceph RGW before 17.2) refuse this; with " +
          "--no-default-encryption the rest is set and the gateway still encrypts every put with the key",
        { cause: error },
      );
    }
    encryptionNow = await readEncryption(client, bucket);
  }

  const versioningNow = (await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status ??
    null;
  return {
    bucket,
    created,
    versioning: { found: versioningFound, now: versioningNow, changed: versioningFound !== versioningNow },
    objectLock: {
      found: lockFound,
      now: lockNow,
      changed: JSON.stringify(lockFound) !== JSON.stringify(lockNow),
    },
    encryption: {
      found: encryptionFound,
      now: encryptionNow,
      changed: JSON.stringify(encryptionFound) !== JSON.stringify(encryptionNow),
    },
  };
}
