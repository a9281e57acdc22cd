import assert from "node:assert/strict";
import { configSchema } from "../../config/schema.ts";
import { objectStoreKind, s3Options } from "./s3_settings.ts";

const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });
const s3Config = (raw: unknown) => configSchema.parse({ capture: { s3: raw } }).capture.s3;

Deno.test("S3 settings come from capture.s3 when no RECONDO_S3_* variable is set", () => {
  const config = s3Config({
    bucket: "audit",
    prefix: "prod/",
    lockMode: "COMPLIANCE",
    lockDays: 30,
    kmsKeyId: "k1",
  });
  assert.deepEqual(s3Options(config, env({ AWS_ENDPOINT_URL: "http://127.0.0.1:7480" })), {
    bucket: "audit",
    prefix: "prod/",
    endpoint: "http://127.0.0.1:7480",
    region: "us-east-1",
    lock: { mode: "COMPLIANCE", days: 30 },
    kmsKeyId: "k1",
  });
  assert.equal(objectStoreKind(config, env({})), "s3", "a bucket in the config selects S3");
});

Deno.test("each RECONDO_S3_* variable overrides its config field", () => {
  const config = s3Config({
    bucket: "audit",
    prefix: "prod/",
    lockMode: "COMPLIANCE",
    lockDays: 30,
    kmsKeyId: "k1",
  });
  const options = s3Options(
    config,
    env({
      RECONDO_S3_BUCKET: "other",
      RECONDO_S3_PREFIX: "staging/",
      RECONDO_S3_LOCK_MODE: "GOVERNANCE",
      RECONDO_S3_LOCK_DAYS: "7",
      RECONDO_S3_KMS_KEY_ID: "k2",
      AWS_REGION: "eu-west-1",
    }),
  );
  assert.deepEqual(options, {
    bucket: "other",
    prefix: "staging/",
    endpoint: null,
    region: "eu-west-1",
    lock: { mode: "GOVERNANCE", days: 7 },
    kmsKeyId: "k2",
  });
  assert.equal(s3Options(config, env({ RECONDO_S3_LOCK_DAYS: "90" })).lock?.days, 90, "one field alone");
  assert.equal(objectStoreKind(config, env({ RECONDO_OBJECTS: "local" })), "local", "RECONDO_OBJECTS wins");
});

Deno.test("S3 settings name what is missing or wrong", () => {
  assert.throws(() => s3Options(undefined, env({})), /RECONDO_S3_BUCKET or capture\.s3\.bucket/);
  assert.throws(
    () => s3Options(undefined, env({ RECONDO_S3_BUCKET: "b", RECONDO_S3_LOCK_MODE: "STRICT" })),
    /RECONDO_S3_LOCK_MODE must be GOVERNANCE or COMPLIANCE, got "STRICT"/,
  );
  assert.throws(
    () => s3Options(s3Config({ bucket: "bkt", lockMode: "COMPLIANCE" }), env({ RECONDO_S3_LOCK_DAYS: "-1" })),
    /RECONDO_S3_LOCK_DAYS must be a positive integer, got "-1"/,
  );
  assert.throws(() => s3Config({ bucket: "bkt", lockMode: "FOREVER" }), /lockMode/);
  assert.equal(objectStoreKind(undefined, env({})), "local");
  assert.throws(() => objectStoreKind(undefined, env({ RECONDO_OBJECTS: "gcs" })), /got "gcs"/);
});

Deno.test("retention defaults to keeping everything, checked hourly", () => {
  assert.deepEqual(configSchema.parse({}).capture.retention, { days: null, intervalMinutes: 60 });
  assert.throws(() => configSchema.parse({ capture: { retention: { days: 0 } } }), /days/);
});
