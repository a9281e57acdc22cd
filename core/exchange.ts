/**
 * The one object that flows through the gateway for every intercepted request/response pair
 * (or WebSocket connection), in the spirit of mitmproxy's flow. The proxy creates it, policies read it
 * and return verdicts, providers fill in what they parse, and capture persists it once it is complete.
 *
 * Fields are plain data so that an exchange can be serialised into the capture journal as it is.
 * @module
 */

/**
 * Which provider an exchange went to, as recognised from its host. `azure` (Azure OpenAI, Azure AI Foundry)
 * and `openrouter` speak OpenAI's wire formats but bill, price and fail in their own right; `bedrock` is
 * Amazon Bedrock (Anthropic payloads inside, but AWS's prices, error format and SigV4 signing).
 */
export type ProviderName = "anthropic" | "openai" | "google" | "azure" | "openrouter" | "bedrock" | "unknown";

/** Who sent the exchange: from proxy authentication, an API-key mapping, or the client address. */
export interface ClientIdentity {
  /** Developer name from config, or `null` when the client could not be attributed. */
  developer: string | null;
  /** Team of that developer from config, or `null`. */
  team: string | null;
  /** The TCP peer that opened the proxy connection, `host:port`. */
  address: string;
  /** How `developer` was established. */
  via: "proxy-auth" | "api-key" | "address";
}

/** Where the exchange was going: the host the client asked for, not an override origin. */
export interface Target {
  host: string;
  port: number;
  /** The origin actually dialled (differs from `https://host:port` under `RECONDO_UPSTREAM_OVERRIDE` or `route`). */
  upstreamOrigin: string;
}

/** Monotonic-ish wall-clock milestones in epoch milliseconds; `null` until reached. */
export interface Timing {
  start: number;
  upstreamConnected: number | null;
  firstByte: number | null;
  end: number | null;
}

/** A request or response head. Header names are lower-case; credentials are still present here. */
export interface RequestHead {
  method: string;
  /** Path and query as sent by the client, e.g. `/v1/messages?beta=true`. */
  path: string;
  headers: Record<string, string>;
}

export interface ResponseHead {
  status: number;
  headers: Record<string, string>;
}

/** One WebSocket message relayed through the gateway. */
export interface WsMessage {
  from: "client" | "server";
  at: number;
  /** Text frames as a string, binary frames as bytes. */
  data: string | Uint8Array;
}

/** What a policy hook decided; appended for every hook call, including throws and timeouts. */
export interface Decision {
  policy: string;
  hook: "request" | "message" | "response" | "event" | "end";
  kind: "allow" | "modify" | "block" | "error" | "timeout";
  /** Whether the verdict took effect (`false` in observe mode or for a fail-open error). */
  enforced: boolean;
  reason: string;
  at: number;
  /** Free-form, non-secret details a policy wants recorded (rule ids, budget ids, keyed hashes). */
  detail?: Record<string, unknown>;
}

/** An exchange as it moves through the gateway. */
export interface Exchange {
  /** Unique id (UUID v7-like: sortable by time). */
  id: string;
  /** Id of the proxy connection that carried it; several exchanges share one with keep-alive or h2. */
  connectionId: string;
  kind: "http" | "websocket";
  client: ClientIdentity;
  target: Target;
  provider: ProviderName;
  /** Which API of the provider, e.g. `anthropic.messages`, `openai.responses`, `google.generate`. */
  api: string | null;
  request: RequestHead;
  /**
   * The request body once a policy asked to see it whole (or it was small enough to buffer);
   * `null` while streaming through untouched.
   */
  requestBody: Uint8Array | null;
  response: ResponseHead | null;
  timing: Timing;
  decisions: Decision[];
  wsMessages: WsMessage[];
  /** Errors met while handling the exchange (upstream refused, client went away, parser errors). */
  errors: string[];
  /** Set once the exchange ended: `complete` when the client got the whole response. */
  outcome: "complete" | "blocked" | "upstream-error" | "client-aborted" | null;
}
