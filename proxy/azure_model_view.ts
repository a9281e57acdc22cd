/**
 * The proxy's half of Azure deployment resolution (`providers/azure_deployments.ts`): it puts the model
 * behind a request's deployment into the view policies see, and tells the resolver what each answer said.
 * @module
 */
import type { Exchange } from "../core/exchange.ts";
import type { RequestView } from "../policies/types.ts";
import { type AzureDeploymentModels, requestDeployment } from "../providers/azure_deployments.ts";

/**
 * For Azure OpenAI, sets `view.model` to the model behind the request's deployment when it is known
 * (`providers/azure_deployments.ts`); other providers' views pass unchanged.
 */
export function azureModelResolver(
  exchange: Readonly<Exchange>,
  models: AzureDeploymentModels | undefined,
): (view: RequestView) => RequestView {
  if (exchange.provider !== "azure" || !models) return (view) => view;
  return (view) => {
    const deployment = requestDeployment(view.path, view.json);
    const model = deployment ? models.modelOf(exchange.target.host, deployment) : null;
    return model === (view.model ?? null) ? view : { ...view, model };
  };
}

/** Remembers which model an Azure deployment's response named, for the deployment's next requests. */
export function learnAzureModel(
  exchange: Readonly<Exchange>,
  answer: { models: AzureDeploymentModels | undefined; requestJson: unknown; model: string },
): void {
  const { models, requestJson, model } = answer;
  if (exchange.provider !== "azure" || !models) return;
  const deployment = requestDeployment(exchange.request.path, requestJson);
  if (deployment) models.learn(exchange.target.host, deployment, model);
}
