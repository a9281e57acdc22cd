/**
 * `recondo storage init-bucket` against a real S3 (Ceph RGW, tests/support/s3.ts): the bucket ends up with
 * Object Lock, versioning, a default COMPLIANCE retention and SSE-KMS default encryption, as read back
 * with the S3 API; an object put with no lock of its own gets the default retention and cannot be
 * deleted; a second run changes nothing and says so; the printed IAM policy names the bucket and key.
 */
import assert from "node:assert/strict";
import {
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { startS3 } from "./support/s3.ts";
import { runJson, runRecondo } from "../cli/inspect/test_seed.ts";
import type { InitBucketReport } from "../storage/objects/init_bucket.ts";
import type { IamPolicy } from "../storage/objects/gateway_policy.ts";

type Output = InitBucketReport & { gatewayPolicy: IamPolicy };

Deno.test({
  name:
    "storage init-bucket sets Object Lock, versioning, default retention and SSE-KMS where the server has it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s3 = await startS3();
    const dir = await Deno.makeTempDir();
    const bucket = `recondo-init-${crypto.randomUUID().slice(0, 8)}`;
    const env = {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: dir,
      RECONDO_DATA_DIR: dir,
      RECONDO_LOG: "warn",
      // HOME moves to the temp dir; keep Deno's module cache where it is.
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
      ...s3.sdkEnv,
      RECONDO_S3_PREFIX: "prod/",
    };
    const args = [
      "storage",
      "init-bucket",
      "--bucket",
      bucket,
      "--lock-mode",
      "COMPLIANCE",
      "--lock-days",
      "2",
      "--kms-key-id",
      s3.kmsKeyId,
    ];
    try {
      // Bucket default encryption is checked where the server has it; Ceph RGW 16.2 (Debian 12) does not
      // implement PutBucketEncryption, and the command must then fail saying so, not pass silently.
      const attempt = await runRecondo([...args, "--json"], env);
      const defaultEncryption = attempt.code === 0;
      if (!defaultEncryption) {
        assert.match(attempt.stderr, /Cannot set SSE-KMS default encryption .*--no-default-encryption/s);
        args.push("--no-default-encryption");
      }
      const first = defaultEncryption
        ? { code: 0, json: JSON.parse(attempt.stdout) as Output }
        : await runJson<
          Output
        >(args, env);
      assert.equal(first.code, 0);
      // The failed attempt already created the bucket and set the lock before refusing the encryption.
      assert.equal(first.json.created, defaultEncryption);
      assert.deepEqual(first.json.objectLock.now, { enabled: true, mode: "COMPLIANCE", days: 2 });
      assert.equal(first.json.versioning.now, "Enabled");

      const lock = await s3.client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
      assert.equal(lock.ObjectLockConfiguration?.ObjectLockEnabled, "Enabled");
      assert.deepEqual(lock.ObjectLockConfiguration?.Rule?.DefaultRetention, { Mode: "COMPLIANCE", Days: 2 });
      const versioning = await s3.client.send(new GetBucketVersioningCommand({ Bucket: bucket }));
      assert.equal(versioning.Status, "Enabled");
      if (defaultEncryption) {
        assert.deepEqual(first.json.encryption.now, { algorithm: "aws:kms", kmsKeyId: "testkey-1" });
        const encryption = await s3.client.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
        const rule = encryption.ServerSideEncryptionConfiguration?.Rules?.[0]
          ?.ApplyServerSideEncryptionByDefault;
        assert.equal(rule?.SSEAlgorithm, "aws:kms");
        assert.equal(rule?.KMSMasterKeyID, "testkey-1");
      }

      // A put that names no lock (and no key where the bucket has a default key): the defaults apply.
      const body = new TextEncoder().encode("captured body");
      const key = "prod/objects/ab/default-lock-check.gz";
      const put = await s3.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentMD5: createHash("md5").update(body).digest("base64"),
          // Without a bucket default, the key on the put, as the gateway sends it (RECONDO_S3_KMS_KEY_ID).
          ...(defaultEncryption
            ? {}
            : { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: s3.kmsKeyId }),
        }),
      );
      const head = await s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(head.ObjectLockMode, "COMPLIANCE");
      assert.ok(head.ObjectLockRetainUntilDate, "HeadObject shows no ObjectLockRetainUntilDate");
      const until = head.ObjectLockRetainUntilDate.getTime() - Date.now();
      assert.ok(
        until > 86_400_000 && until <= 2 * 86_400_000 + 60_000,
        `retained for ${until} ms, not ~2 days`,
      );
      assert.equal(head.ServerSideEncryption, "aws:kms");
      await assert.rejects(
        s3.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: put.VersionId })),
        (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode === 403,
      );

      // Again, with the same settings: nothing changes, and the report says it found them.
      const second = await runJson<Output>(args, env);
      assert.equal(second.code, 0);
      assert.equal(second.json.created, false);
      assert.equal(second.json.versioning.changed, false);
      assert.equal(second.json.objectLock.changed, false);
      assert.equal(second.json.encryption.changed, false);

      const policy = JSON.stringify(second.json.gatewayPolicy);
      assert.match(policy, new RegExp(`arn:aws:s3:::${bucket}/prod/objects/\\*`));
      assert.match(policy, /kms:GenerateDataKey/);
      assert.match(policy, /testkey-1/);
      assert.doesNotMatch(policy, /BypassGovernanceRetention|PutBucket|s3:\*/);
    } finally {
      await s3.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
