/**
 * Error bodies in each provider's own format, so that an agent shows a gateway's message (a block, a
 * spent budget, an unreachable upstream) to the developer instead of a parse failure. Bedrock's is AWS's:
 * `{"message": "…"}` with the exception name in the `x-amzn-errortype` header, and mid-stream an
 * event-stream exception frame (`:message-type: exception`, `:exception-type`).
 * @module
 */
import type { ProviderName } from "../core/exchange.ts";
import { encodeEventStreamMessage } from "./bedrock_event_stream.ts";

/** What went wrong, in provider-neutral terms; each provider maps it to its own type names. */
export type GatewayErrorKind =
  | "blocked"
  | "rate_limited"
  | "too_large"
  | "upstream_unavailable"
  | "upstream_timeout";

const ANTHROPIC_TYPES: Record<GatewayErrorKind, string> = {
  blocked: "permission_error",
  rate_limited: "rate_limit_error",
  too_large: "request_too_large",
  upstream_unavailable: "api_error",
  upstream_timeout: "timeout_error",
};

const OPENAI_TYPES: Record<GatewayErrorKind, string> = {
  blocked: "invalid_request_error",
  rate_limited: "rate_limit_exceeded",
  too_large: "invalid_request_error",
  upstream_unavailable: "server_error",
  upstream_timeout: "server_error",
};

const GOOGLE_STATUS: Record<GatewayErrorKind, string> = {
  blocked: "PERMISSION_DENIED",
  rate_limited: "RESOURCE_EXHAUSTED",
  too_large: "INVALID_ARGUMENT",
  upstream_unavailable: "UNAVAILABLE",
  upstream_timeout: "DEADLINE_EXCEEDED",
};

const BEDROCK_EXCEPTIONS: Record<GatewayErrorKind, string> = {
  blocked: "AccessDeniedException",
  rate_limited: "ThrottlingException",
  too_large: "ValidationException",
  upstream_unavailable: "ServiceUnavailableException",
  upstream_timeout: "ModelTimeoutException",
};

/** The AWS exception name Bedrock would give such an error (a 400 block reads as a bad request). */
export function bedrockExceptionType(status: number, kind: GatewayErrorKind): string {
  return kind === "blocked" && status === 400 ? "ValidationException" : BEDROCK_EXCEPTIONS[kind];
}

/**
 * The JSON body a provider would send for such an error.
 * @example providerErrorBody("anthropic", 403, "blocked", "Blocked by policy block-list")
 */
export function providerErrorBody(
  provider: ProviderName,
  status: number,
  kind: GatewayErrorKind,
  message: string,
): Record<string, unknown> {
  // A block answered with 400 must read as a bad request, not an auth failure: clients word 403 as
  // "Failed to authenticate" (Claude Code) and retry it (Codex), see README "Blocks".
  const badRequest = kind === "blocked" && status === 400;
  switch (provider) {
    case "anthropic":
      return {
        type: "error",
        error: { type: badRequest ? "invalid_request_error" : ANTHROPIC_TYPES[kind], message },
      };
    case "google":
      return {
        error: { code: status, message, status: badRequest ? "INVALID_ARGUMENT" : GOOGLE_STATUS[kind] },
      };
    case "openrouter":
      // OpenRouter's own shape: the HTTP status as a numeric `code` (its SDKs and clients read `message`).
      return { error: { code: status, message, metadata: { recondo_error: kind } } };
    case "bedrock":
      return { message };
    case "openai":
    case "azure":
    case "unknown":
      // Azure OpenAI answers errors in OpenAI's shape (`error.code`, `error.message`), which Codex shows.
      return { error: { message, type: OPENAI_TYPES[kind], param: null, code: kind } };
  }
}

/** A complete `Response` carrying `providerErrorBody`, marked as produced by Recondo. */
export function providerErrorResponse(
  provider: ProviderName,
  status: number,
  kind: GatewayErrorKind,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const aws: Record<string, string> = provider === "bedrock"
    ? { "x-amzn-errortype": bedrockExceptionType(status, kind) }
    : {};
  return new Response(JSON.stringify(providerErrorBody(provider, status, kind, message)), {
    status,
    headers: { "content-type": "application/json", "x-recondo-error": kind, ...aws, ...headers },
  });
}

/**
 * The bytes that end an AWS event stream (Bedrock) with an error, as Bedrock does mid-stream: an exception
 * frame whose `:exception-type` is the exception name in lower camel case (`validationException`).
 */
export function eventStreamErrorFrame(status: number, kind: GatewayErrorKind, message: string): Uint8Array {
  const name = bedrockExceptionType(status, kind);
  return encodeEventStreamMessage(
    {
      ":message-type": "exception",
      ":exception-type": name[0].toLowerCase() + name.slice(1),
      ":content-type": "application/json",
    },
    new TextEncoder().encode(JSON.stringify({ message })),
  );
}
