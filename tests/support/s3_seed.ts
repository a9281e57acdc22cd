/**
 * A capture seeded through the real pipeline into a fresh bucket of a test S3 server (SQLite rows), for the
 * verify tests that damage objects in the bucket.
 * @module
 */
import { seedCapture, type Seeded, type SeedTurn } from "../../cli/inspect/test_seed.ts";
import type { TestS3 } from "./s3.ts";

/** Seeds `turns` with objects in a new bucket of `s3`; returns the seeded store and the bucket. */
export async function seedCaptureInS3(
  s3: TestS3,
  turns: SeedTurn[],
): Promise<{ seeded: Seeded; bucket: string }> {
  const bucket = await s3.createBucket({ objectLock: false });
  // The SDK's default credential chain reads the process environment; the seeding runs in-process.
  // Only the credentials: the endpoint stays per store, so no other SDK client of this process moves.
  Deno.env.set("AWS_ACCESS_KEY_ID", s3.credentials.accessKeyId);
  Deno.env.set("AWS_SECRET_ACCESS_KEY", s3.credentials.secretAccessKey);
  const seeded = await seedCapture("sqlite", turns, {
    RECONDO_OBJECTS: "s3",
    RECONDO_S3_BUCKET: bucket,
    ...s3.sdkEnv,
  });
  return { seeded, bucket };
}
