/**
 * Names a request gives in place of a model, and the model behind each. Two providers let a request name
 * a resource of the customer's instead of a model:
 * - Azure OpenAI: a deployment (`/openai/deployments/prod-chat/…`, or the body's `model` on `/openai/v1/…`);
 * - Amazon Bedrock: an application inference profile (`/model/arn:…:application-inference-profile/<id>/…`,
 *   URL-encoded), which AWS offers for cost allocation.
 *
 * Without the model, a block-list or route entry on `gpt-5*` or `claude-opus-*` never matches that traffic
 * and `spend-cap` cannot price the request it must reserve for. Two sources, the first that knows wins:
 *
 * 1. the config (`azure.deployments`, `bedrock.profiles`: alias → model; an Azure key may be
 *    `<resource host>/<deployment>` when two resources use one name for different models): known from the
 *    first request on;
 * 2. what the alias's own answers said (their `model` field), learned per host and alias as exchanges end:
 *    known from the second request on, in this process.
 *
 * An alias neither source knows resolves to `null`, and policies see the request as before.
 * @module
 */
import type { ProviderName } from "../core/exchange.ts";
import { azureDeployment, bedrockModelId, bedrockPathId } from "./detect.ts";

/** One provider's aliases, kept by the gateway for the life of the process. */
export interface ModelAliases {
  /** The model behind `alias` on `host`, or `null` when neither the config nor an answer said. */
  modelOf(host: string, alias: string): string | null;
  /** Records the model an answer to a request naming `alias` on `host` reported. */
  learn(host: string, alias: string, model: string): void;
}

/** Learned aliases kept per provider and process; beyond it the oldest is forgotten (a bound, not a cache). */
const MAX_LEARNED = 4096;

/**
 * @param configured the current config map; a getter, so a config reload applies at once.
 */
export function createModelAliases(configured: () => Readonly<Record<string, string>>): ModelAliases {
  const learned = new Map<string, string>();
  return {
    modelOf(host, alias) {
      const key = `${bareHost(host)}/${alias}`;
      const map = configured();
      return map[key] ?? map[alias] ?? learned.get(key) ?? null;
    },
    learn(host, alias, model) {
      const key = `${bareHost(host)}/${alias}`;
      if (learned.get(key) === model) return;
      learned.delete(key);
      learned.set(key, model);
      if (learned.size > MAX_LEARNED) learned.delete(learned.keys().next().value!);
    },
  };
}

/** The alias a request names in place of a model, or `null` (other providers, or a plain model id). */
export function requestAlias(provider: ProviderName, path: string, json: unknown): string | null {
  if (provider === "azure") return requestDeployment(path, json);
  if (provider === "bedrock") return bedrockProfileArn(path);
  return null;
}

/**
 * The deployment an Azure request names: the path's `/openai/deployments/{deployment}/…`, else the JSON
 * body's `model` (the `/openai/v1/…` paths), else `null`.
 */
export function requestDeployment(path: string, json: unknown): string | null {
  const fromPath = azureDeployment(path);
  if (fromPath) return fromPath;
  if (json && typeof json === "object" && "model" in json && typeof json.model === "string") {
    return json.model;
  }
  return null;
}

/** The ARN a Bedrock path names when it names no model (an application inference profile), else `null`. */
function bedrockProfileArn(path: string): string | null {
  const id = bedrockPathId(path);
  return id?.startsWith("arn:") && bedrockModelId(id) === null ? id : null;
}

function bareHost(host: string): string {
  return host.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
}
