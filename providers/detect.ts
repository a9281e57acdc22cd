/**
 * Recognises the provider API of an exchange from its host, method and path. Gemini paths carry a colon
 * (`models/gemini-2.5-flash:streamGenerateContent`), which peers have matched wrongly; the path is split
 * on the last colon of its final segment. Also recognised: Azure OpenAI (`*.openai.azure.com`, model
 * deployments in the path) and Vertex AI (`*aiplatform.googleapis.com`), whose Anthropic models speak the
 * Messages format via `:rawPredict` / `:streamRawPredict`. Amazon Bedrock (`bedrock-runtime.<region>.amazonaws.com`)
 * is its own provider, `bedrock`, though Claude's payloads inside are Anthropic's: its prices (regional
 * premiums, inference profiles), error format and SigV4 signing are AWS's, and stats should tell the two
 * apart. Its model id is in the path (`/model/us.anthropic.claude-…-v1%3A0/invoke-with-response-stream`).
 * @module
 */
import type { ProviderName } from "../core/exchange.ts";
import type { ApiMatch } from "./types.ts";

const HOST_PROVIDERS: Record<string, ProviderName> = {
  "api.anthropic.com": "anthropic",
  "api.openai.com": "openai",
  "chatgpt.com": "openai",
  "generativelanguage.googleapis.com": "google",
  "cloudcode-pa.googleapis.com": "google",
};

/** Host suffixes of regional or per-tenant endpoints. */
const SUFFIX_PROVIDERS: [string, ProviderName][] = [
  [".openai.azure.com", "openai"],
  ["aiplatform.googleapis.com", "google"],
];

/** Bedrock's runtime endpoints, FIPS ones included: `bedrock-runtime[-fips].<region>.amazonaws.com`. */
const BEDROCK_RUNTIME = /^bedrock-runtime(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com$/;

/** Bedrock operations by the last path segment of `/model/{modelId}/<operation>`. */
const BEDROCK_OPERATIONS: Record<string, ApiMatch["api"]> = {
  "invoke": "bedrock.invoke",
  "invoke-with-response-stream": "bedrock.invoke_stream",
  "converse": "bedrock.converse",
  "converse-stream": "bedrock.converse_stream",
};

/** The provider a host belongs to, or `unknown`. A `:port` suffix is ignored. */
export function providerOfHost(host: string): ProviderName {
  const name = host.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
  const exact = HOST_PROVIDERS[name];
  if (exact) return exact;
  if (BEDROCK_RUNTIME.test(name)) return "bedrock";
  for (const [suffix, provider] of SUFFIX_PROVIDERS) if (name.endsWith(suffix)) return provider;
  return "unknown";
}

/**
 * Detects the API an exchange speaks. Returns `null` for hosts that belong to no known provider.
 * @example detectApi("api.anthropic.com", "POST", "/v1/messages?beta=true") // anthropic.messages
 */
export function detectApi(
  host: string,
  method: string,
  pathWithQuery: string,
  isWebSocket = false,
): ApiMatch | null {
  const provider = providerOfHost(host);
  if (provider === "unknown") return null;
  const path = pathWithQuery.split("?")[0].replace(/\/+$/, "");
  const post = method.toUpperCase() === "POST";
  const hostname = host.toLowerCase().replace(/:\d+$/, "");
  if (hostname.endsWith(".openai.azure.com")) return detectAzure(post, path, isWebSocket);
  if (provider === "bedrock") return detectBedrock(post, path);
  if (provider === "anthropic") {
    if (post && path === "/v1/messages") return turn(provider, "anthropic.messages");
    if (post && path === "/v1/messages/count_tokens") return aux(provider, "anthropic.count_tokens");
    return aux(provider, "anthropic.auxiliary");
  }
  if (provider === "openai") {
    const responsesPath = path === "/v1/responses" || path === "/backend-api/codex/responses";
    if (responsesPath && isWebSocket) return turn(provider, "openai.responses_ws");
    if (responsesPath && post) return turn(provider, "openai.responses");
    if (post && path === "/v1/chat/completions") return turn(provider, "openai.chat_completions");
    return aux(provider, "openai.auxiliary");
  }
  return detectGoogle(hostname, post, path);
}

/** Azure OpenAI: `/openai/deployments/{deployment}/chat/completions`, `/openai/responses`, `/openai/v1/…`. */
function detectAzure(post: boolean, path: string, isWebSocket: boolean): ApiMatch {
  const deployment = /^\/openai\/deployments\/([^/]+)\/(.+)$/.exec(path);
  const rest = deployment ? `/${deployment[2]}` : path.replace(/^\/openai(?:\/v1)?/, "");
  const pathModel = deployment ? safeDecode(deployment[1]) : null;
  if (rest === "/responses" && isWebSocket) return { ...turn("openai", "openai.responses_ws"), pathModel };
  if (rest === "/responses" && post) return { ...turn("openai", "openai.responses"), pathModel };
  if (rest === "/chat/completions" && post) {
    return { ...turn("openai", "openai.chat_completions"), pathModel };
  }
  return aux("openai", "openai.auxiliary");
}

/**
 * Bedrock runtime: `POST /model/{modelId}/{invoke|invoke-with-response-stream|converse|converse-stream}`.
 * The model id may be an ARN (`arn:aws:bedrock:…:inference-profile/us.anthropic.claude-…`): what follows its
 * last `/` is the id that prices it.
 */
function detectBedrock(post: boolean, path: string): ApiMatch {
  const match = /^\/model\/([^/]+)\/([a-z-]+)$/.exec(path);
  const api = match ? BEDROCK_OPERATIONS[match[2]] : undefined;
  if (!post || !match || !api) return aux("bedrock", "bedrock.auxiliary");
  const id = safeDecode(match[1]);
  return {
    ...turn("bedrock", api),
    pathModel: id.startsWith("arn:") ? id.slice(id.lastIndexOf("/") + 1) : id,
  };
}

function detectGoogle(host: string, post: boolean, path: string): ApiMatch {
  const lastSegment = path.slice(path.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  const method = colon >= 0 ? lastSegment.slice(colon + 1) : "";
  if (post && host === "cloudcode-pa.googleapis.com") {
    if (method === "streamGenerateContent") return turn("google", "google.code_assist_stream_generate");
    if (method === "generateContent") return turn("google", "google.code_assist_generate");
  }
  if (post && /\/publishers\/anthropic\/models\/[^/]+$/.test(path)) {
    // Vertex AI serving Claude: the body and the stream are the Anthropic Messages format.
    const model = safeDecode(lastSegment.slice(0, colon >= 0 ? colon : undefined));
    if (model === "count-tokens") return aux("anthropic", "anthropic.count_tokens");
    if (method === "rawPredict" || method === "streamRawPredict") {
      return { ...turn("anthropic", "anthropic.messages"), pathModel: model };
    }
    return aux("anthropic", "anthropic.auxiliary");
  }
  if (post && /\/models\/[^/]+$/.test(path)) {
    const model = lastSegment.slice(0, colon >= 0 ? colon : undefined);
    if (method === "streamGenerateContent") {
      return { ...turn("google", "google.stream_generate"), pathModel: model };
    }
    if (method === "generateContent") return { ...turn("google", "google.generate"), pathModel: model };
  }
  return aux("google", "google.auxiliary");
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function turn(provider: ProviderName, api: ApiMatch["api"]): ApiMatch {
  return { provider, api, isModelTurn: true, pathModel: null };
}

function aux(provider: ProviderName, api: ApiMatch["api"]): ApiMatch {
  return { provider, api, isModelTurn: false, pathModel: null };
}
