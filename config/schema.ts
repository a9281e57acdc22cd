/**
 * The shape of `recondo.json`, validated with zod. Every field has a default, so `{}` is a valid config.
 * Policy options are validated later, by each module's own schema, when the chain is built.
 * @module
 */
import { z } from "zod";
import { alertsSchema } from "./alerts.ts";
import { hostPatternProblem } from "./host_patterns.ts";
import { uiSchema } from "./ui_schema.ts";

/**
 * The provider API hosts intercepted by default: exact names and wildcard patterns (`*` = one or more DNS
 * label characters, see host_patterns.ts) for the enterprise endpoints (Bedrock, Vertex AI, Azure, OpenRouter).
 */
export const DEFAULT_INTERCEPT_HOSTS: readonly string[] = [
  "api.anthropic.com",
  "api.openai.com",
  "chatgpt.com",
  "generativelanguage.googleapis.com",
  "cloudcode-pa.googleapis.com",
  "bedrock-runtime.*.amazonaws.com",
  "bedrock-runtime-fips.*.amazonaws.com",
  "*-aiplatform.googleapis.com",
  "aiplatform.googleapis.com",
  "*.openai.azure.com",
  "*.cognitiveservices.azure.com",
  "openrouter.ai",
];

/** The defaults plus the config's `intercept` entries, lower-cased, without duplicates. */
export function interceptEntries(config: { intercept: readonly string[] }): string[] {
  return [...new Set([...DEFAULT_INTERCEPT_HOSTS, ...config.intercept].map((h) => h.toLowerCase()))];
}

const hostname = z.string().superRefine((value, ctx) => {
  const problem = hostPatternProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const developerSchema = z.object({
  name: z.string().min(1),
  team: z.string().min(1).nullable().default(null),
  /** Secret for `Proxy-Authorization: Basic name:token`. */
  token: z.string().min(8, "must be at least 8 characters").optional(),
  /**
   * Keyed hash (HMAC-SHA256 with the fleet's HMAC key, hex) of the proxy token: what the UI and CLI store,
   * so the token itself is shown once and never written anywhere.
   */
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 hex characters").optional(),
  /** Keyed hashes (see capture) of provider API keys that belong to this developer. */
  apiKeyHashes: z.array(z.string()).default([]),
});

export const policyEntrySchema = z.object({
  /** A built-in module name (`block-list`) or a path to a user module (`./policies/mine.ts`). */
  use: z.string().min(1),
  options: z.unknown().optional(),
  /** `observe` records what the policy would do without enforcing it. */
  mode: z.enum(["enforce", "observe"]).default("enforce"),
  /** What a throw or timeout means: `closed` blocks the exchange (default), `open` lets it through. */
  failMode: z.enum(["closed", "open"]).default("closed"),
  enabled: z.boolean().default(true),
  /** Time budget for each hook call. */
  timeoutMs: z.number().int().positive().max(60_000).default(2_000),
  /** Optional display name, to tell two entries of the same module apart. */
  name: z.string().min(1).optional(),
});

export const retentionSchema = z.object({
  /** Keep captured turns this many days; `null` keeps them forever (default). */
  days: z.number().int().positive().nullable().default(null),
  /** How often `serve` runs retention. */
  intervalMinutes: z.number().int().positive().max(7 * 24 * 60).default(60),
});

export const s3Schema = z.object({
  bucket: z.string().min(3, "must be an S3 bucket name"),
  /** Key prefix inside the bucket, e.g. `prod/`. */
  prefix: z.string().default(""),
  /** Object Lock retention on every put; `null` relies on the bucket's default. */
  lockMode: z.enum(["GOVERNANCE", "COMPLIANCE"]).nullable().default(null),
  /** Days of Object Lock retention on every put (with `lockMode`). */
  lockDays: z.number().int().positive().default(365),
  /** SSE-KMS key id (ARN or alias) on every put; `null` for the bucket default. */
  kmsKeyId: z.string().min(1).nullable().default(null),
});

export const fleetSchema = z.object({
  /** How often this gateway writes its heartbeat row (PostgreSQL). */
  heartbeatSeconds: z.number().int().positive().max(3600).default(5),
  /** A gateway whose heartbeat is older than this is shown as lost. */
  lostAfterSeconds: z.number().int().positive().default(30),
  /** Periodic control-plane check besides LISTEN/NOTIFY, so a lost notification is caught. */
  pollSeconds: z.number().int().positive().max(3600).default(5),
}).prefault({});

export const otelSchema = z.object({
  /** OTLP/HTTP base URL of a collector, e.g. `http://collector:4318`; export is off while absent. */
  endpoint: z.string().url().optional(),
  /** Headers on every export request, e.g. `{"x-tenant": "eng"}`; put secrets in `headersFile`. */
  headers: z.record(z.string(), z.string()).default({}),
  /** A file of `Name: value` lines (mode 0600/0400) whose headers are added, e.g. an `authorization`. */
  headersFile: z.string().min(1).optional(),
  /** Share of exchanges exported as spans (by trace id, 0–1); metrics always count every exchange. */
  sampling: z.number().min(0).max(1).default(1),
  /** Export prompts and completions as `gen_ai.input.messages`/`gen_ai.output.messages` (default off). */
  capturePrompts: z.boolean().default(false),
  /** Spans waiting for export beyond which new ones are dropped (and counted) while the collector lags. */
  maxQueueSize: z.number().int().positive().max(1_000_000).default(2048),
  /** How often queued spans and the metrics are sent. */
  exportIntervalMs: z.number().int().positive().max(3_600_000).default(5_000),
}).prefault({});

export const configSchema = z.object({
  listen: z.string().regex(/^[^\s:]*:\d{1,5}$/, "must be host:port, e.g. 127.0.0.1:8443").default(
    "127.0.0.1:8443",
  ),
  /** Hosts (or `*` patterns, e.g. `*.llm.example.com`) intercepted in addition to the provider defaults. */
  intercept: z.array(hostname).default([]),
  /** What to do with CONNECT to any other host: a blind TCP tunnel, or a 403 refusal. */
  otherHosts: z.enum(["tunnel", "refuse"]).default("tunnel"),
  developers: z.array(developerSchema).default([]),
  requireProxyAuth: z.boolean().default(false),
  policies: z.array(policyEntrySchema).default([]),
  /**
   * On SIGTERM the gateway drains: `/readyz` turns 503, new connections are refused, idle keep-alive
   * connections close, and in-flight exchanges run to their end for at most this long.
   */
  shutdownGraceSeconds: z.number().int().min(0).max(24 * 3600).default(300),
  /** Fleet behaviour when many gateways share one PostgreSQL (heartbeats, control-plane polling). */
  fleet: fleetSchema,
  /**
   * Azure OpenAI requests name a deployment, not a model. `deployments` maps each deployment name (or
   * `<resource host>/<deployment>` when names collide across resources) to its model, so policies match
   * and price the model from the first request; unmapped deployments are learned from their responses.
   */
  azure: z.object({
    deployments: z.record(z.string().min(1), z.string().min(1)).default({}),
  }).prefault({}),
  /**
   * Bedrock requests through an application inference profile name its ARN, not a model. `profiles` maps
   * each profile ARN to its model id, so policies match and price it from the first request; unmapped
   * profiles are learned from their InvokeModel answers (Converse answers name no model).
   */
  bedrock: z.object({
    profiles: z.record(z.string().regex(/^arn:/, "must be a profile ARN"), z.string().min(1)).default({}),
  }).prefault({}),
  /** Budget and throttle alerts posted to webhooks (`config/alerts.ts`); absent: none are raised. */
  alerts: alertsSchema.optional(),
  /** OpenTelemetry export of every exchange (GenAI spans and client metrics), from the capture worker. */
  otel: otelSchema,
  upstream: z.object({
    /** Chain through another proxy, e.g. `http://corp-proxy:3128`. */
    proxy: z.string().url().optional(),
    /** A response (or upload) that sends no byte for this long is cut. Total time is not limited. */
    idleTimeoutMs: z.number().int().positive().default(300_000),
    /** How long to wait for the upstream's response head. */
    headersTimeoutMs: z.number().int().positive().default(120_000),
    /**
     * Idle keep-alive connections kept per upstream host, by each of the two engines (Deno's fetch and
     * `node:https`); busy connections are never limited. Bounds what a burst leaves open: without it,
     * 1,000 concurrent streams left ~1,000 idle upstream connections (and file descriptors) behind.
     */
    maxIdleConnectionsPerHost: z.number().int().min(0).default(32),
  }).prefault({}),
  limits: z.object({
    /** Largest request body a policy may ask to see whole; larger ones get 413. */
    maxBufferedBodyBytes: z.number().int().positive().default(32 * 1024 * 1024),
    /** Largest request head accepted on the front door. */
    maxHeaderBytes: z.number().int().positive().default(64 * 1024),
    /** A client that has not sent a full request head within this time gets 408. */
    headerTimeoutMs: z.number().int().positive().default(10_000),
  }).prefault({}),
  capture: z.object({
    durability: z.enum(["batched", "strict"]).default("batched"),
    flushIntervalMs: z.number().int().positive().default(50),
    /**
     * Nice value (0–19) of the capture worker's thread on Linux: when CPU is short, proxying goes first and
     * capture catches up behind it (its backlog is bounded and spills to the journal).
     */
    workerNice: z.number().int().min(0).max(19).default(10),
    /**
     * Bytes of finished exchanges posted to the capture worker and not yet in its journal; beyond this,
     * exchanges spill to `<data dir>/journal/spill/` and are posted as room frees up.
     */
    maxInTransitBytes: z.number().int().positive().default(32 * 1024 * 1024),
    /**
     * A capture worker with work pending that takes in nothing, or persists nothing, for this long is
     * wedged and replaced like one that died.
     */
    workerStallMs: z.number().int().positive().default(60_000),
    /** Captured turns older than `days` are deleted by policy, checked every `intervalMinutes`. */
    retention: retentionSchema.prefault({}),
    /** The S3 object store (used when `bucket` is set or `RECONDO_OBJECTS=s3`); `RECONDO_S3_*` wins. */
    s3: s3Schema.optional(),
  }).prefault({}),
  /** The web UI: its own listener, HTTPS and single sign-on (`config/ui_schema.ts`). */
  ui: uiSchema,
});

export type Config = z.infer<typeof configSchema>;
export type DeveloperConfig = z.infer<typeof developerSchema>;
export type PolicyEntry = z.infer<typeof policyEntrySchema>;
export type RetentionConfig = z.infer<typeof retentionSchema>;
export type S3Config = z.infer<typeof s3Schema>;
export type FleetConfig = z.infer<typeof fleetSchema>;
export type OtelConfig = z.infer<typeof otelSchema>;
