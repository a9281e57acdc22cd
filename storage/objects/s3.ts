/**
 * Object store on S3 (or an S3-compatible server such as Ceph RGW). Every put carries the configured
 * Object Lock retention and SSE-KMS key, so bodies are write-once and encrypted with the customer's key
 * from the moment they land. Keys are `<prefix>objects/ab/<sha256>.gz`.
 * @module
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { assertSha256Hex, type ObjectMeta, type ObjectStore } from "./store.ts";
import { type Env, s3Options } from "./s3_settings.ts";

/** S3 settings; `s3Options` builds them from `capture.s3` and the `RECONDO_S3_*` and `AWS_*` variables. */
export interface S3StoreOptions {
  bucket: string;
  /** Key prefix, e.g. `prod/` to share a bucket. */
  prefix: string;
  /** `AWS_ENDPOINT_URL` for S3-compatible servers; path-style addressing is used when set. */
  endpoint: string | null;
  region: string;
  /** Object Lock retention applied to every put, or `null` to rely on the bucket default. */
  lock: { mode: "GOVERNANCE" | "COMPLIANCE"; days: number } | null;
  /** SSE-KMS key id (ARN or alias) applied to every put, or `null` for the bucket default. */
  kmsKeyId: string | null;
  /** Explicit credentials (tests); otherwise the SDK's default chain (env, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * Reads S3 settings from the environment alone (`RECONDO_S3_*`, `AWS_*`); `s3Options` in
 * `s3_settings.ts` also takes `capture.s3` from the config.
 */
export function s3OptionsFromEnv(env: Env): S3StoreOptions {
  return s3Options(undefined, env);
}

/** Opens an S3 object store; does not touch the network until the first call. */
export function openS3ObjectStore(options: S3StoreOptions): ObjectStore {
  return new S3ObjectStore(createS3Client(options), options);
}

/**
 * The SDK client the object store uses (also `recondo storage init-bucket`): the options' region and
 * endpoint (path-style when an endpoint is set), credentials from the options or the SDK's default chain.
 */
export function createS3Client(options: S3StoreOptions): S3Client {
  const config: S3ClientConfig = {
    region: options.region,
    // Checksums only where S3 requires them: older S3-compatible servers reject the newer CRC headers.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  };
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    config.forcePathStyle = true;
  }
  if (options.credentials) config.credentials = options.credentials;
  return new S3Client(config);
}

class S3ObjectStore implements ObjectStore {
  readonly kind = "s3" as const;

  constructor(readonly client: S3Client, readonly options: S3StoreOptions) {}

  #key(sha: string): string {
    assertSha256Hex(sha);
    return `${this.options.prefix}objects/${sha.slice(0, 2)}/${sha}.gz`;
  }

  async put(sha: string, gzipped: Uint8Array, meta: ObjectMeta): Promise<void> {
    if (await this.has(sha)) return;
    const { lock, kmsKeyId } = this.options;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.#key(sha),
        Body: gzipped,
        ContentType: "application/gzip",
        // Object Lock puts must carry an integrity header; MD5 is the one every S3 server accepts.
        ContentMD5: createHash("md5").update(gzipped).digest("base64"),
        Metadata: { sha256: sha, kind: meta.kind, size: String(meta.size) },
        ...(lock
          ? {
            ObjectLockMode: lock.mode,
            ObjectLockRetainUntilDate: new Date(Date.now() + lock.days * 86_400_000),
          }
          : {}),
        ...(kmsKeyId ? { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: kmsKeyId } : {}),
      }),
    );
  }

  async get(sha: string): Promise<Uint8Array | null> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.#key(sha) }),
      );
      if (!out.Body) return null;
      return await out.Body.transformToByteArray();
    } catch (error) {
      if (isNotFound(error)) return null;
      throw new Error(`Cannot read object ${sha} from s3://${this.options.bucket}`, { cause: error });
    }
  }

  async getRange(sha: string, start: number, end: number): Promise<Uint8Array | null> {
    if (end <= start) return new Uint8Array(0);
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: this.#key(sha),
          Range: `bytes=${start}-${end - 1}`,
        }),
      );
      if (!out.Body) return null;
      return await out.Body.transformToByteArray();
    } catch (error) {
      if (isNotFound(error)) return null;
      throw new Error(
        `Cannot read bytes ${start}-${end - 1} of object ${sha} from s3://${this.options.bucket}`,
        {
          cause: error,
        },
      );
    }
  }

  async has(sha: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.#key(sha) }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw new Error(`Cannot check object ${sha} in s3://${this.options.bucket}`, { cause: error });
    }
  }

  async delete(sha: string): Promise<void> {
    const key = this.#key(sha);
    const bucket = this.options.bucket;
    // Object Lock buckets are versioned: a plain DELETE only adds a delete marker and the body stays.
    // Deleting each version by id removes the bytes (and is what Object Lock refuses while it holds).
    const versions = await this.client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    const ids = [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])]
      .filter((v) => v.Key === key && v.VersionId)
      .map((v) => v.VersionId!);
    if (!ids.length) {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      return;
    }
    for (const versionId of ids) {
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
      } catch (error) {
        throw new Error(`Cannot delete object ${sha} (version ${versionId}) from s3://${bucket}`, {
          cause: error,
        });
      }
    }
  }

  async retainedUntil(sha: string): Promise<Date | null> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.#key(sha) }),
      );
      return head.ObjectLockRetainUntilDate ?? null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw new Error(`Cannot read the Object Lock of ${sha} in s3://${this.options.bucket}`, {
        cause: error,
      });
    }
  }

  async legalHold(sha: string): Promise<boolean> {
    const key = this.#key(sha);
    const bucket = this.options.bucket;
    try {
      // A hold is per version, and retention deletes every version: any version on hold keeps the object.
      const listed = await this.client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
      const versions = (listed.Versions ?? []).filter((v) => v.Key === key);
      for (const version of versions) {
        const versionId = version.VersionId && version.VersionId !== "null" ? version.VersionId : undefined;
        const hold = await this.client.send(
          new GetObjectLegalHoldCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
        ).catch((error) => {
          if (isNoHold(error) || isNotFound(error)) return null;
          throw error;
        });
        if (hold?.LegalHold?.Status === "ON") return true;
      }
      return false;
    } catch (error) {
      throw new Error(`Cannot read the legal hold of ${sha} in s3://${bucket}`, { cause: error });
    }
  }

  async *list(): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: `${this.options.prefix}objects/`,
          ContinuationToken: token,
        }),
      );
      for (const item of page.Contents ?? []) {
        const match = item.Key?.match(/([0-9a-f]{64})\.gz$/);
        if (match) yield match[1];
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}

/** No hold was ever set on the version, or the bucket has no Object Lock (so no holds at all). */
function isNoHold(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { name?: string; message?: string };
  return e.name === "NoSuchObjectLockConfiguration" || e.name === "ObjectLockConfigurationNotFoundError" ||
    (e.name === "InvalidRequest" && /object lock/i.test(e.message ?? ""));
}

function isNotFound(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404;
}
