/**
 * The S3 object store against a real S3-compatible server (Ceph RGW, see tests/support/s3.ts), which
 * enforces Object Lock: what we store under retention cannot be deleted.
 */
import assert from "node:assert/strict";
import { DeleteObjectCommand, HeadObjectCommand, ListObjectVersionsCommand } from "@aws-sdk/client-s3";
import { startS3 } from "../../tests/support/s3.ts";
import { loadBody, sha256Hex, storeBody } from "./content.ts";
import { openS3ObjectStore } from "./s3.ts";

Deno.test({
  name: "S3 store round-trips, deduplicates, encrypts with the KMS key and locks every object",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const s3 = await startS3();
    try {
      const bucket = await s3.createBucket({ objectLock: true });
      const store = openS3ObjectStore({
        bucket,
        prefix: "gw/",
        endpoint: s3.endpoint,
        region: s3.region,
        lock: { mode: "COMPLIANCE", days: 1 },
        kmsKeyId: s3.kmsKeyId,
        credentials: s3.credentials,
      });
      const body = new TextEncoder().encode(JSON.stringify({ messages: [{ role: "user", content: "hi" }] }));
      const sha = await storeBody(store, body, { kind: "request", size: body.length });
      assert.equal(sha, sha256Hex(body));
      assert.deepEqual(await loadBody(store, sha), body);
      assert.equal(await storeBody(store, body.slice(), { kind: "request", size: body.length }), sha);
      const other = new TextEncoder().encode("another body");
      const sha2 = await storeBody(store, other, { kind: "response", size: other.length });
      const listed = [];
      for await (const s of store.list()) listed.push(s);
      assert.deepEqual(listed.sort(), [sha, sha2].sort());
      assert.equal(await store.has("f".repeat(64)), false);
      assert.equal(await loadBody(store, "f".repeat(64)), null);

      const key = `gw/objects/${sha.slice(0, 2)}/${sha}.gz`;
      const head = await s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(head.ObjectLockMode, "COMPLIANCE");
      assert.ok(head.ObjectLockRetainUntilDate! > new Date(Date.now() + 23 * 3600_000));
      assert.equal(head.ServerSideEncryption, "aws:kms");
      assert.equal(head.SSEKMSKeyId, s3.kmsKeyId);
      const versions = await s3.client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
      assert.equal(versions.Versions?.length, 1, "identical bodies were stored once");
      await assert.rejects(
        () =>
          s3.client.send(
            new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versions.Versions![0].VersionId }),
          ),
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 403,
      );
      assert.deepEqual(await loadBody(store, sha), body, "the locked object survived the delete attempt");
      await store.close();
    } finally {
      await s3.close();
    }
  },
});
