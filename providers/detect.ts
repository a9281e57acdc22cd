/**
 * Recognises the provider API of an exchange from its host, method and path. Gemini paths carry a colon
 * (`models/gemini-2.5-flash:streamGenerateContent`), which peers have matched wrongly; the path is split
 * on the last colon of its final segment. Also recognised: Azure OpenAI (`*.openai.azure.com`, and
 * `*.cognitiveservices.azure.com` where Azure AI Foundry serves the same paths; deployments in the path),
 * OpenRouter (`openrouter.ai/api/v1/…`, OpenAI-compatible) and Vertex AI (`aiplatform.googleapis.com`,
 * `{region}-aiplatform.googleapis.com`): its Anthropic models speak the Messages format via `:rawPredict` /
 * `:streamRawPredict` with the model in the path (`publishers/anthropic/models/claude-sonnet-4-5@20250929`),
 * its Gemini models `:generateContent` / `:streamGenerateContent`, with or without
 * `projects/{project}/locations/{location}` before `publishers`. Amazon Bedrock
 * (`bedrock-runtime.<region>.amazonaws.com`) is its own provider, `bedrock`, though Claude's payloads inside are
 * Anthropic's: its prices (regional premiums, inference profiles), error format and SigV4 signing are AWS's,
 * and stats should tell the two apart. Its model id is in the path
 * (`/model/us.anthropic.claude-…-v1%3A0/invoke-with-response-stream`).
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
  "aiplatform.googleapis.com": "google",
  "openrouter.ai": "openrouter",
};

/** Host suffixes of regional or per-tenant endpoints. */
const SUFFIX_PROVIDERS: [string, ProviderName][] = [
  [".openai.azure.com", "azure"],
  [".cognitiveservices.azure.com", "azure"],
  // Vertex AI's regional endpoints, `{region}-aiplatform.googleapis.com`; the global one is listed above.
  ["-aiplatform.googleapis.com", "google"],
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
  if (provider === "azure") return detectAzure(post, path, isWebSocket);
  if (provider === "openrouter") return detectOpenRouter(post, path);
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

/**
 * Azure OpenAI: `/openai/deployments/{deployment}/chat/completions` (and `/responses`), `/openai/responses`,
 * `/openai/v1/responses`, `/openai/v1/chat/completions`; `?api-version=` is ignored. The deployment is the
 * customer's name for a model, not a model (`azureDeployment`), so `pathModel` stays null: the model comes
 * from the response's `model` field.
 */
function detectAzure(post: boolean, path: string, isWebSocket: boolean): ApiMatch {
  const deployment = AZURE_DEPLOYMENT_PATH.exec(path);
  const rest = deployment ? `/${deployment[2]}` : path.replace(/^\/openai(?:\/v1)?/, "");
  if (rest === "/responses" && isWebSocket) return turn("azure", "openai.responses_ws");
  if (rest === "/responses" && post) return turn("azure", "openai.responses");
  if (rest === "/chat/completions" && post) return turn("azure", "openai.chat_completions");
  return aux("azure", "openai.auxiliary");
}

const AZURE_DEPLOYMENT_PATH = /^\/openai\/deployments\/([^/?]+)\/([^?]+)/;

/**
 * The Azure deployment a request names in its path (`/openai/deployments/{deployment}/…`), or null. On the
 * `/openai/v1/…` paths the body's `model` names the deployment instead.
 * @example azureDeployment("/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21") // "gpt-4o-prod"
 */
export function azureDeployment(pathWithQuery: string): string | null {
  const match = AZURE_DEPLOYMENT_PATH.exec(pathWithQuery);
  return match ? safeDecode(match[1]) : null;
}

/** OpenRouter's OpenAI-compatible API under `/api/v1`: Chat Completions and Responses. */
function detectOpenRouter(post: boolean, path: string): ApiMatch {
  if (post && path === "/api/v1/chat/completions") return turn("openrouter", "openai.chat_completions");
  if (post && path === "/api/v1/responses") return turn("openrouter", "openai.responses");
  return aux("openrouter", "openai.auxiliary");
}

/**
 * Bedrock runtime: `POST /model/{modelId}/{invoke|invoke-with-response-stream|converse|converse-stream}`.
 * The model id may be an ARN: see {@link bedrockModelId}.
 */
function detectBedrock(post: boolean, path: string): ApiMatch {
  const match = /^\/model\/([^/]+)\/([a-z-]+)$/.exec(path);
  const api = match ? BEDROCK_OPERATIONS[match[2]] : undefined;
  if (!post || !match || !api) return aux("bedrock", "bedrock.auxiliary");
  return { ...turn("bedrock", api), pathModel: bedrockModelId(safeDecode(match[1])) };
}

const BEDROCK_PATH_ID = /^\/model\/([^/?]+)\//;

/**
 * The model id (or ARN) a Bedrock runtime path names, decoded: `/model/{modelId}/…`, else `null`.
 * @example bedrockPathId("/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke") // "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
 */
export function bedrockPathId(path: string): string | null {
  const raw = BEDROCK_PATH_ID.exec(path)?.[1];
  return raw ? safeDecode(raw) : null;
}

/**
 * The model a Bedrock model id names, as sent in the path (decoded). A plain id or a system inference
 * profile names its model (`us.anthropic.claude-…-v1:0`, also as `arn:…:inference-profile/us.anthropic…`):
 * that id is what AWS bills. An application inference profile (`arn:…:application-inference-profile/<id>`)
 * or a provisioned or custom model ARN names only an opaque resource: `null`, so the model the answer
 * itself reports (Claude's `model` field on InvokeModel) is the turn's.
 * @example bedrockModelId("arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0") // "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
 */
export function bedrockModelId(id: string): string | null {
  if (!id.startsWith("arn:")) return id;
  // arn:partition:service:region:account:resource, where the resource may hold colons (`…-v1:0`).
  const resource = id.split(":").slice(5).join(":");
  const slash = resource.indexOf("/");
  const type = slash >= 0 ? resource.slice(0, slash) : resource;
  return type === "inference-profile" || type === "foundation-model" ? resource.slice(slash + 1) : null;
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
