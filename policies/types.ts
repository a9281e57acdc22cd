/**
 * The policy API: what a policy module is, what its hooks see, and the verdicts they return.
 * Published to users through `policies/mod.ts`; keep it stable and documented.
 *
 * Hooks run in a fixed order: request hooks in chain order before the request goes upstream; response,
 * event and end hooks in reverse chain order as the response streams back (as Envoy filters do).
 * @module
 */
import type { z } from "zod";
import type { Exchange } from "../core/exchange.ts";
import type { ParsedResponse, StreamEvent } from "../providers/types.ts";
import type { AlertSink } from "./alerts.ts";
import type { SpendLedger } from "./spend_cap/ledger.ts";
import type { RateLimiter } from "./throttle/buckets.ts";

/** Let the exchange continue unchanged. */
export interface Allow {
  kind: "allow";
  /** Optional note recorded with the decision (e.g. a soft budget threshold reached). */
  reason?: string;
  detail?: Record<string, unknown>;
}

/** Change the request before it goes upstream. */
export interface Modify {
  kind: "modify";
  reason: string;
  patch: RequestPatch;
  detail?: Record<string, unknown>;
}

/** Stop the exchange; the client gets `status` with `reason` in the provider's error format. */
export interface Block {
  kind: "block";
  status: number;
  reason: string;
  /** `rate_limited` makes the error a provider rate-limit error; default `blocked`. */
  errorKind?: "blocked" | "rate_limited" | "too_large";
  /** Extra response headers, e.g. `retry-after`. */
  headers?: Record<string, string>;
  detail?: Record<string, unknown>;
}

export type Verdict = Allow | Modify | Block;
/** Response-side hooks cannot modify a request that has already gone. */
export type ResponseVerdict = Allow | Block;

/** Changes a `modify` verdict applies. Every field is optional; later policies see the patched request. */
export interface RequestPatch {
  /** Replace the JSON body (re-serialised by the gateway). */
  json?: unknown;
  /** Set (string) or remove (`null`) request headers; names lower-case. */
  headers?: Record<string, string | null>;
  /** Send the request to this origin instead, e.g. `https://gateway.internal`. */
  upstreamOrigin?: string;
  /**
   * Origins to try in order when the upstream answers 429 or 5xx before any byte reached the client
   * (`route`'s fallback; the proxy replays the buffered body, see `policies/fallback.ts`).
   */
  fallbackOrigins?: string[];
}

/** The request as request hooks see it: the head, and the body when the chain asked for it. */
export interface RequestView {
  method: string;
  path: string;
  headers: Readonly<Record<string, string>>;
  /** Raw body bytes, or `null` when no policy declared `needsRequestBody`. */
  body: Uint8Array | null;
  /** The body parsed as JSON when it is JSON, else `undefined`. */
  json: unknown;
  /**
   * The model the gateway resolved when the request itself does not name it: the model behind an Azure
   * OpenAI deployment or a Bedrock application inference profile (`providers/model_aliases.ts`). Absent or
   * `null`: the body's `model` or the path's model is the model (`requestModel` reads them).
   */
  model?: string | null;
}

/** What every hook gets besides the exchange. */
export interface HookContext {
  /** Aborted when the hook's time budget runs out or the client goes away. */
  signal: AbortSignal;
  /** The chain's clock (injectable in tests). */
  now(): number;
}

/**
 * A policy instance: a named object whose optional methods are hooks. Each hook's return value is a
 * verdict; a throw or a timeout is recorded and fails closed unless the entry says `failMode: "open"`.
 */
export interface Policy {
  /** Shown in decisions and logs; defaults to the module's name. */
  readonly name: string;
  /** Ask the gateway to buffer the request body (bounded by `maxBufferedBodyBytes`) for `onRequest`. */
  readonly needsRequestBody?: boolean;
  /** Before the request goes upstream. May allow, modify or block. */
  onRequest?(
    exchange: Readonly<Exchange>,
    request: RequestView,
    ctx: HookContext,
  ): Verdict | Promise<Verdict>;
  /**
   * For each text message a WebSocket client sends (Codex's `response.create`), before it goes upstream,
   * in chain order. `request.body`/`request.json` hold the message; a modify verdict's `patch.json`
   * replaces it; a block closes the socket with the reason. Policies that want request bodies should
   * usually implement both `onRequest` and this hook.
   */
  onClientMessage?(
    exchange: Readonly<Exchange>,
    message: RequestView,
    ctx: HookContext,
  ): Verdict | Promise<Verdict>;
  /** When the response head arrives, before any byte reaches the client. May allow or block. */
  onResponse?(exchange: Readonly<Exchange>, ctx: HookContext): ResponseVerdict | Promise<ResponseVerdict>;
  /** For each parsed response event as it streams. A block ends the stream with an error event. */
  onEvent?(exchange: Readonly<Exchange>, event: StreamEvent, ctx: HookContext): ResponseVerdict;
  /**
   * After the exchange ended (success or not): settle reservations, record usage. Verdicts are ignored.
   * On a WebSocket connection it runs once per model turn (a per-turn exchange, with that turn's parsed
   * response) and once for the connection itself (with `parsed` null).
   */
  onEnd?(exchange: Readonly<Exchange>, parsed: ParsedResponse | null, ctx: HookContext): void | Promise<void>;
}

/** Services a policy may need from below, injected by the gateway (policies never import storage). */
export interface PolicyServices {
  /** Shared spend ledger for `spend-cap` (`storage/ledger/` implements it for SQLite and PostgreSQL). */
  spendLedger?: SpendLedger;
  /** Shared token buckets for `throttle`. */
  rateLimiter?: RateLimiter;
  /** Budget and throttle alerts (`alerts/`), when the config has an `alerts` block; calls return at once. */
  alerts?: AlertSink;
  /**
   * Keyed hash (hex, e.g. HMAC-SHA256 under a deployment secret) for values that must never be stored in
   * clear. `redact-secrets` derives its placeholders from it, so they match across replicas and restarts;
   * without it each process uses a random key.
   */
  secretHasher?: (value: string) => string;
}

/**
 * A policy module: a name, a zod schema for its options, and a factory that validates them once and
 * returns a `Policy`. Regexes compile in the factory, never per request.
 */
export interface PolicyModule<Options = unknown> {
  name: string;
  description: string;
  options: z.ZodType<Options>;
  create(options: Options, services: PolicyServices): Policy;
}
