/**
 * Which model an Azure OpenAI deployment serves. Azure requests name a deployment, the customer's own name
 * (`/openai/deployments/prod-chat/…`, or the body's `model` on `/openai/v1/…`), never the model behind it,
 * so without this a block-list or route entry on `gpt-4o*` never matches Azure traffic and `spend-cap`
 * cannot price the request it must reserve for. Two sources, the first that knows wins:
 *
 * 1. the config's `azure.deployments` (`{"prod-chat": "gpt-4o"}`, or `"<resource host>/prod-chat"` when two
 *    Azure resources use one deployment name for different models): known from the first request on;
 * 2. what the deployment's own responses said (their `model` field), learned per resource host and
 *    deployment as exchanges end: known from the second request on, in this process.
 *
 * A deployment neither source knows resolves to `null`, and policies see the deployment name as before.
 * @module
 */
import { azureDeployment } from "./detect.ts";

/** The resolver the gateway keeps for the life of the process. */
export interface AzureDeploymentModels {
  /** The model behind `deployment` on `host`, or `null` when neither the config nor a response said. */
  modelOf(host: string, deployment: string): string | null;
  /** Records the model a response of `deployment` on `host` named. */
  learn(host: string, deployment: string, model: string): void;
}

/** Learned deployments kept per process; beyond it the oldest is forgotten (a bound, not a cache policy). */
const MAX_LEARNED = 4096;

/**
 * @param configured the current `azure.deployments` map; a getter, so a config reload applies at once.
 */
export function createAzureDeploymentModels(
  configured: () => Readonly<Record<string, string>>,
): AzureDeploymentModels {
  const learned = new Map<string, string>();
  return {
    modelOf(host, deployment) {
      const key = `${bareHost(host)}/${deployment}`;
      const map = configured();
      return map[key] ?? map[deployment] ?? learned.get(key) ?? null;
    },
    learn(host, deployment, model) {
      const key = `${bareHost(host)}/${deployment}`;
      if (learned.get(key) === model) return;
      learned.delete(key);
      learned.set(key, model);
      if (learned.size > MAX_LEARNED) learned.delete(learned.keys().next().value!);
    },
  };
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

function bareHost(host: string): string {
  return host.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
}
