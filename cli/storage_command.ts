/**
 * `recondo storage init-bucket`: prepares the S3 bucket once, with an administrator's credentials, before
 * the gateways start (Object Lock, versioning, default retention, SSE-KMS; see
 * `storage/objects/init_bucket.ts`), then prints the least-privilege IAM policy the gateways' own
 * credentials need. Bucket, prefix, lock and key come from the flags, else from the same settings `serve`
 * reads (`RECONDO_S3_*`, then `capture.s3` in the config); endpoint, region and credentials from `AWS_*`.
 * Run it again any time: it reports what it found and changes only what differs.
 * @module
 */
import type { Argv, CommandModule } from "./yargs.ts";
import { configPath, loadConfig } from "../config/load.ts";
import { s3Options } from "../storage/objects/s3_settings.ts";
import { createS3Client } from "../storage/objects/s3.ts";
import { initBucket, type InitBucketReport } from "../storage/objects/init_bucket.ts";
import { gatewayIamPolicy } from "../storage/objects/gateway_policy.ts";

interface InitBucketArgs {
  bucket?: string;
  prefix?: string;
  "lock-mode"?: string;
  "lock-days"?: number;
  "kms-key-id"?: string;
  endpoint?: string;
  region?: string;
  "default-encryption": boolean;
  json: boolean;
}

/** Flags first, then the environment, as `s3Options` reads them. */
function withFlags(args: InitBucketArgs): { get(name: string): string | undefined } {
  const flags: Record<string, string | undefined> = {
    RECONDO_S3_BUCKET: args.bucket,
    RECONDO_S3_PREFIX: args.prefix,
    RECONDO_S3_LOCK_MODE: args["lock-mode"],
    RECONDO_S3_LOCK_DAYS: args["lock-days"] === undefined ? undefined : String(args["lock-days"]),
    RECONDO_S3_KMS_KEY_ID: args["kms-key-id"],
    AWS_ENDPOINT_URL: args.endpoint,
    AWS_REGION: args.region,
  };
  return { get: (name) => flags[name] ?? Deno.env.get(name) };
}

function describe<T>(label: string, setting: { found: T; now: T; changed: boolean }, show: (v: T) => string) {
  return setting.changed
    ? `  ${label}: ${show(setting.found)} -> ${show(setting.now)} (changed)`
    : `  ${label}: ${show(setting.now)} (already set)`;
}

function printReport(report: InitBucketReport): void {
  console.log(`s3://${report.bucket}: ${report.created ? "created with Object Lock" : "exists"}`);
  console.log(describe("versioning", report.versioning, (v) => v ?? "never enabled"));
  console.log(
    describe(
      "object lock",
      report.objectLock,
      (v) =>
        !v.enabled
          ? "not enabled"
          : v.mode
          ? `enabled, default retention ${v.mode} ${v.days} days`
          : "enabled, no default retention",
    ),
  );
  console.log(
    describe(
      "default encryption",
      report.encryption,
      (v) => v ? `${v.algorithm}${v.kmsKeyId ? ` key ${v.kmsKeyId}` : ""}` : "none",
    ),
  );
}

const initBucketCommand: CommandModule<object, InitBucketArgs> = {
  command: "init-bucket",
  describe:
    "Create or complete the S3 bucket (Object Lock, versioning, retention, SSE-KMS); print the IAM policy",
  builder: (y) =>
    y
      .option("bucket", {
        type: "string",
        describe: "Bucket (default RECONDO_S3_BUCKET or capture.s3.bucket)",
      })
      .option("prefix", { type: "string", describe: "Key prefix the gateways write under (for the policy)" })
      .option("lock-mode", {
        type: "string",
        choices: ["COMPLIANCE", "GOVERNANCE"],
        describe: "Default Object Lock mode (default RECONDO_S3_LOCK_MODE or capture.s3.lockMode)",
      })
      .option("lock-days", { type: "number", describe: "Default retention in days (with --lock-mode)" })
      .option("kms-key-id", {
        type: "string",
        describe: "SSE-KMS key for default encryption (ARN, id or alias)",
      })
      .option("endpoint", { type: "string", describe: "S3 endpoint (default AWS_ENDPOINT_URL)" })
      .option("region", { type: "string", describe: "Region (default AWS_REGION, else us-east-1)" })
      .option("default-encryption", {
        type: "boolean",
        default: true,
        describe: "Set SSE-KMS as the bucket default (--no-default-encryption where the server lacks it)",
      })
      .option("json", { type: "boolean", default: false, describe: "Print the report and policy as JSON" }),
  async handler(args) {
    if (args["lock-days"] !== undefined && !args["lock-mode"] && !Deno.env.get("RECONDO_S3_LOCK_MODE")) {
      throw new RangeError("--lock-days needs --lock-mode (or RECONDO_S3_LOCK_MODE)");
    }
    const env = withFlags(args);
    const config = await loadConfig(configPath(Deno.env), Deno.env);
    const options = s3Options(config.capture.s3, env);
    const client = createS3Client(options);
    try {
      const report = await initBucket(client, { ...options, defaultEncryption: args["default-encryption"] });
      const policy = gatewayIamPolicy({
        bucket: options.bucket,
        prefix: options.prefix,
        kmsKeyId: options.kmsKeyId,
        region: options.region,
      });
      if (args.json) {
        console.log(JSON.stringify({ ...report, gatewayPolicy: policy }, null, 2));
        return;
      }
      printReport(report);
      console.log("\nIAM policy for the gateways' credentials (least privilege; no bucket administration):");
      console.log(JSON.stringify(policy, null, 2));
    } finally {
      client.destroy();
    }
  },
};

export const storageCommand: CommandModule<object, object> = {
  command: "storage <command>",
  describe: "Object storage administration (the S3 bucket the gateways write to)",
  builder: (y: Argv) => y.command(initBucketCommand).demandCommand(1),
  handler: () => {},
};
