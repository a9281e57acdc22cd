/**
 * The least-privilege IAM policy a gateway needs on its bucket and KMS key, derived from what
 * `s3.ts` calls, printed by `recondo storage init-bucket` for the operator to attach to the gateway's role
 * or user. Bucket administration (create, versioning, Object Lock and encryption settings) is deliberately
 * absent: that is `init-bucket`'s job, run once with an administrator's credentials.
 * @example
 * const policy = gatewayIamPolicy({ bucket: "recondo-audit", prefix: "prod/", kmsKeyId: null });
 * @module
 */

/** An IAM policy document. */
export interface IamPolicy {
  Version: "2012-10-17";
  Statement: {
    Sid: string;
    Effect: "Allow";
    Action: string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string[]>>;
  }[];
}

/** The key's ARN when given one; an id or alias is shown in an ARN with the account and region to fill in. */
function keyResource(kmsKeyId: string, region: string): string {
  if (kmsKeyId.startsWith("arn:")) return kmsKeyId;
  // IAM matches keys by key ARN, never by alias: an alias must be resolved to its key's ARN.
  const key = kmsKeyId.startsWith("alias/") ? "<key-id-behind-" + kmsKeyId + ">" : kmsKeyId;
  return `arn:aws:kms:${region}:<account-id>:key/${key}`;
}

/** The policy for a gateway writing under `prefix` in `bucket`, with SSE-KMS when `kmsKeyId` is set. */
export function gatewayIamPolicy(
  options: { bucket: string; prefix: string; kmsKeyId: string | null; region?: string },
): IamPolicy {
  const objects = `arn:aws:s3:::${options.bucket}/${options.prefix}objects/*`;
  const statements: IamPolicy["Statement"] = [
    {
      Sid: "RecondoWriteAndReadBodies",
      Effect: "Allow",
      Action: [
        // put(): store a gzipped body, content-addressed.
        "s3:PutObject",
        // put() sends ObjectLockMode/RetainUntilDate with each object; S3 requires this for that header.
        "s3:PutObjectRetention",
        // get() for the UI, verify and policy replays; HeadObject in has() is authorised as GetObject too.
        "s3:GetObject",
        // retainedUntil(): HeadObject only returns ObjectLockRetainUntilDate with this permission, and
        // retention uses it to keep a locked body for a later run instead of failing.
        "s3:GetObjectRetention",
        // legalHold(): retention keeps a body under a legal hold (any version) instead of failing to delete.
        "s3:GetObjectLegalHold",
        // delete() by retention: a versioned bucket needs each version deleted by id to remove the bytes;
        // Object Lock still refuses while a lock holds. No s3:BypassGovernanceRetention: never granted.
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
      ],
      Resource: objects,
    },
    {
      Sid: "RecondoListBodies",
      Effect: "Allow",
      Action: [
        // list() (verify, orphan sweeps); also lets HeadObject answer 404 instead of 403 for a missing key,
        // which has() relies on to deduplicate puts.
        "s3:ListBucket",
        // delete() lists a body's versions to delete each one.
        "s3:ListBucketVersions",
      ],
      Resource: `arn:aws:s3:::${options.bucket}`,
      ...(options.prefix
        ? { Condition: { StringLike: { "s3:prefix": [`${options.prefix}objects/*`] } } }
        : {}),
    },
  ];
  if (options.kmsKeyId) {
    statements.push({
      Sid: "RecondoUseTheBucketKey",
      Effect: "Allow",
      Action: [
        // put() with SSE-KMS: S3 asks KMS for a data key on the gateway's behalf.
        "kms:GenerateDataKey",
        // get() of an SSE-KMS object: S3 asks KMS to decrypt its data key.
        "kms:Decrypt",
      ],
      Resource: keyResource(options.kmsKeyId, options.region ?? "<region>"),
      Condition: { StringEquals: { "kms:ViaService": [`s3.${options.region ?? "<region>"}.amazonaws.com`] } },
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}
