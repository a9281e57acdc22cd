/**
 * Retention against a real S3-compatible server with Object Lock (Ceph RGW, tests/support/s3.ts): bodies
 * still under a lock are kept and reported, not errors; unlocked bodies lose every version, not just
 * gain a delete marker; a body whose lock expires is removed by a later run. A body with a legal hold on
 * any of its versions is kept the same way until the hold is lifted.
 */
import assert from "node:assert/strict";
import {
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
} from "@aws-sdk/client-s3";
import { startS3, type TestS3 } from "../tests/support/s3.ts";
import { testBothEngines } from "./db/test_engines.ts";
import { openS3ObjectStore } from "./objects/s3.ts";
import type { ObjectStore } from "./objects/store.ts";
import { runRetention } from "./retention_run.ts";
import { captureTestTurn } from "./test_retention_turns.ts";

const DAY = 86_400_000;

function store(s3: TestS3, bucket: string, lockDays: number | null): ObjectStore {
  return openS3ObjectStore({
    bucket,
    prefix: "gw/",
    endpoint: s3.endpoint,
    region: s3.region,
    lock: lockDays ? { mode: "COMPLIANCE", days: lockDays } : null,
    kmsKeyId: null,
    credentials: s3.credentials,
  });
}

async function versions(s3: TestS3, bucket: string, sha: string): Promise<number> {
  const key = `gw/objects/${sha.slice(0, 2)}/${sha}.gz`;
  const out = await s3.client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return (out.Versions?.length ?? 0) + (out.DeleteMarkers?.length ?? 0);
}

testBothEngines(
  "retention keeps bodies under S3 Object Lock, removes the rest for good, and the expired ones later",
  async ({ db }) => {
    const s3 = await startS3();
    try {
      const bucket = await s3.createBucket({ objectLock: true });
      const locked = store(s3, bucket, 1);
      const unlocked = store(s3, bucket, null);
      const t0 = Date.now() - 100 * DAY;
      const turn = (i: number) => ({
        at: t0 + i * 1000,
        sessionId: "s3",
        prompt: `p${i}`,
        response: `r${i}`,
      });
      await captureTestTurn(db, locked, turn(1));
      await captureTestTurn(db, unlocked, turn(2));
      await captureTestTurn(db, unlocked, turn(3));
      const rows = await db.query<{ request_sha256: string; response_sha256: string }>(
        "SELECT request_sha256, response_sha256 FROM turns ORDER BY seq",
      );
      const [t1, t2, t3] = rows.map((r) => [r.request_sha256, r.response_sha256]);
      // A short lock on one body, so the test can see a later run remove it once the lock expires.
      const shortUntil = new Date(Date.now() + 3_000);
      await s3.client.send(
        new PutObjectRetentionCommand({
          Bucket: bucket,
          Key: `gw/objects/${t3[0].slice(0, 2)}/${t3[0]}.gz`,
          Retention: { Mode: "COMPLIANCE", RetainUntilDate: shortUntil },
        }),
      );
      assert.ok(await unlocked.retainedUntil(t3[0]));
      assert.equal(await unlocked.retainedUntil(t2[0]), null);
      assert.ok((await unlocked.retainedUntil(t1[0]))!.getTime() > Date.now() + DAY - 60_000);

      const first = await runRetention(db, unlocked, { olderThan: Date.now() - DAY }, {
        reason: "retention: older than 1 days",
      });
      assert.equal(first.turns, 3);
      assert.equal(first.objects_deleted, 3, "t2's two bodies and t3's response");
      assert.equal(first.objects_locked, 3, "t1's two bodies and t3's request");
      assert.equal(first.objects_failed, 0, "a lock is not an error");
      assert.ok(new Date(first.locked_until!).getTime() > Date.now() + DAY - 60_000);
      for (const sha of [...t2, t3[1]]) {
        assert.equal(await versions(s3, bucket, sha), 0, "no version is left");
      }
      for (const sha of [...t1, t3[0]]) assert.ok(await unlocked.has(sha), "locked bodies are still there");
      const pending = await db.query("SELECT sha256 FROM retention_pending_objects");
      assert.equal(pending.length, 3);

      while (Date.now() <= shortUntil.getTime() + 1_000) await new Promise((r) => setTimeout(r, 250));
      const second = await runRetention(db, unlocked, null, { reason: "retention: Object Lock expired" });
      assert.equal(second.turns, 0);
      assert.equal(second.pending_removed, 1);
      assert.equal(second.objects_deleted, 1);
      assert.equal(second.objects_locked, 0, "bodies whose lock is not yet due are not asked about");
      assert.equal(await versions(s3, bucket, t3[0]), 0);
      const left = await db.query<{ sha256: string }>("SELECT sha256 FROM retention_pending_objects");
      assert.deepEqual(left.map((r) => r.sha256).sort(), [...t1].sort());
      const objectDeletions = await db.query("SELECT target_id FROM deletions WHERE target = 'object'");
      assert.equal(objectDeletions.length, 4, "a deletions row for each body actually removed");
      await locked.close();
      await unlocked.close();
    } finally {
      await s3.close();
    }
  },
  "sqlite",
);

testBothEngines(
  "retention keeps a body with a legal hold on any version, reports it, and removes it once the hold is off",
  async ({ db }) => {
    const s3 = await startS3();
    try {
      const bucket = await s3.createBucket({ objectLock: true });
      const objects = store(s3, bucket, null);
      const t0 = Date.now() - 100 * DAY;
      await captureTestTurn(db, objects, { at: t0, sessionId: "h", prompt: "held", response: "held answer" });
      await captureTestTurn(db, objects, {
        at: t0 + 1000,
        sessionId: "h",
        prompt: "free",
        response: "free one",
      });
      const rows = await db.query<{ request_sha256: string; response_sha256: string }>(
        "SELECT request_sha256, response_sha256 FROM turns ORDER BY seq",
      );
      const [held, free] = rows.map((r) => [r.request_sha256, r.response_sha256]);
      const keyOf = (sha: string) => `gw/objects/${sha.slice(0, 2)}/${sha}.gz`;
      // The hold sits on the first version of the held request body; a second version is stored over it,
      // so only a check of every version finds it.
      const first = await s3.client.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: keyOf(held[0]) }),
      );
      const heldVersion = first.Versions![0].VersionId!;
      await s3.client.send(
        new PutObjectLegalHoldCommand({
          Bucket: bucket,
          Key: keyOf(held[0]),
          VersionId: heldVersion,
          LegalHold: { Status: "ON" },
        }),
      );
      await s3.client.send(
        new PutObjectCommand({ Bucket: bucket, Key: keyOf(held[0]), Body: "newer version" }),
      );
      assert.equal(await versions(s3, bucket, held[0]), 2);
      assert.equal(await objects.legalHold(held[0]), true, "the hold on the older version is found");
      assert.equal(await objects.legalHold(held[1]), false);
      assert.equal(await objects.retainedUntil(held[0]), null, "no Object Lock retention, only the hold");
      await assert.rejects(
        s3.client.send(
          new DeleteObjectCommand({ Bucket: bucket, Key: keyOf(held[0]), VersionId: heldVersion }),
        ),
        "the server itself refuses to delete a held version",
      );

      const run = await runRetention(db, objects, { olderThan: Date.now() - DAY }, {
        reason: "retention: test",
      });
      assert.equal(run.turns, 2);
      assert.equal(run.objects_held, 1, "the held request body is kept");
      assert.equal(run.objects_locked, 0);
      assert.equal(run.objects_failed, 0, "a hold is not an error");
      assert.equal(run.objects_deleted, 3, "the other three bodies are removed");
      assert.equal(await versions(s3, bucket, held[0]), 2, "both versions are still there");
      for (const sha of [held[1], ...free]) assert.equal(await versions(s3, bucket, sha), 0);

      const again = await runRetention(db, objects, null, { reason: "retention: test" });
      assert.equal(again.objects_deleted, 0, "still held: kept again");
      assert.equal(again.objects_held, 0, "reported when first kept, not on every run");
      assert.equal(await versions(s3, bucket, held[0]), 2);

      await s3.client.send(
        new PutObjectLegalHoldCommand({
          Bucket: bucket,
          Key: keyOf(held[0]),
          VersionId: heldVersion,
          LegalHold: { Status: "OFF" },
        }),
      );
      const last = await runRetention(db, objects, null, { reason: "retention: test" });
      assert.equal(last.pending_removed, 1, "removed by the run after the hold was lifted");
      assert.equal(await versions(s3, bucket, held[0]), 0);
      assert.deepEqual(await db.query("SELECT sha256 FROM retention_pending_objects"), []);
      await objects.close();
    } finally {
      await s3.close();
    }
  },
  "sqlite",
);
