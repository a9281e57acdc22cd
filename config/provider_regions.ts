/**
 * Region lists behind the default wildcard intercept patterns whose wildcard sits inside a name
 * (`bedrock-runtime.*.amazonaws.com`, `*-aiplatform.googleapis.com`). An X.509 name constraint can only
 * permit a DNS suffix, so such a pattern is either widened to the suffix after its wildcard
 * (`amazonaws.com`, `googleapis.com`: every AWS or Google API, STS and OAuth included, would then be signable
 * by a CA that sits in every developer's trust store) or enumerated as exact names. We enumerate: a leaked
 * CA key can then impersonate only the model endpoints. The cost is that a region opened after this list
 * was written is tunnelled blind until its host is added to `intercept` (or this list) and the CA is
 * rotated, which `recondo ca rotate` and the startup warning already say.
 * @module
 */

/**
 * AWS regions with a FIPS 140 Bedrock runtime endpoint, `bedrock-runtime-fips.<region>.amazonaws.com`
 * (US, GovCloud and Canada, where AWS offers FIPS endpoints).
 */
export const AWS_FIPS_REGIONS: readonly string[] = [
  "ca-central-1",
  "ca-west-1",
  "us-east-1",
  "us-east-2",
  "us-gov-east-1",
  "us-gov-west-1",
  "us-west-1",
  "us-west-2",
];

/** AWS regions (commercial and GovCloud) where `bedrock-runtime.<region>.amazonaws.com` may answer. */
export const AWS_REGIONS: readonly string[] = [
  "af-south-1",
  "ap-east-1",
  "ap-east-2",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-6",
  "ap-southeast-7",
  "ca-central-1",
  "ca-west-1",
  "eu-central-1",
  "eu-central-2",
  "eu-north-1",
  "eu-south-1",
  "eu-south-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "il-central-1",
  "me-central-1",
  "me-south-1",
  "mx-central-1",
  "sa-east-1",
  "us-east-1",
  "us-east-2",
  "us-gov-east-1",
  "us-gov-west-1",
  "us-west-1",
  "us-west-2",
];

/** Google Cloud regions where `<region>-aiplatform.googleapis.com` (Vertex AI) may answer. */
export const GCP_REGIONS: readonly string[] = [
  "africa-south1",
  "asia-east1",
  "asia-east2",
  "asia-northeast1",
  "asia-northeast2",
  "asia-northeast3",
  "asia-south1",
  "asia-south2",
  "asia-southeast1",
  "asia-southeast2",
  "australia-southeast1",
  "australia-southeast2",
  "europe-central2",
  "europe-north1",
  "europe-north2",
  "europe-southwest1",
  "europe-west1",
  "europe-west10",
  "europe-west12",
  "europe-west2",
  "europe-west3",
  "europe-west4",
  "europe-west6",
  "europe-west8",
  "europe-west9",
  "me-central1",
  "me-central2",
  "me-west1",
  "northamerica-northeast1",
  "northamerica-northeast2",
  "northamerica-south1",
  "southamerica-east1",
  "southamerica-west1",
  "us-central1",
  "us-east1",
  "us-east4",
  "us-east5",
  "us-south1",
  "us-west1",
  "us-west2",
  "us-west3",
  "us-west4",
];
