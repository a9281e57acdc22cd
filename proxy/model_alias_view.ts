/**
 * The proxy's half of model aliases (`providers/model_aliases.ts`): it puts the model behind the Azure
 * deployment or Bedrock application inference profile a request names into the view policies see, and
 * tells the aliases what each answer said.
 * @module
 */
import type { Exchange } from "../core/exchange.ts";
import type { RequestView } from "../policies/types.ts";
import { type ModelAliases, requestAlias } from "../providers/model_aliases.ts";

/** Each provider's aliases, as the gateway keeps them. */
export interface ProviderAliases {
  azure: ModelAliases;
  bedrock: ModelAliases;
}

function aliasesOf(exchange: Readonly<Exchange>, aliases: ProviderAliases | undefined): ModelAliases | null {
  if (!aliases) return null;
  if (exchange.provider === "azure") return aliases.azure;
  if (exchange.provider === "bedrock") return aliases.bedrock;
  return null;
}

/**
 * Sets `view.model` to the model behind the alias the request names when it is known (again after every
 * patch: a changed body may name another alias); other providers' views pass unchanged.
 */
export function modelAliasResolver(
  exchange: Readonly<Exchange>,
  aliases: ProviderAliases | undefined,
): (view: RequestView) => RequestView {
  const models = aliasesOf(exchange, aliases);
  if (!models) return (view) => view;
  return (view) => {
    const alias = requestAlias(exchange.provider, view.path, view.json);
    const model = alias ? models.modelOf(exchange.target.host, alias) : null;
    return model === (view.model ?? null) ? view : { ...view, model };
  };
}

/** Remembers which model an answer to an aliased request reported, for the alias's next requests. */
export function learnAliasModel(
  exchange: Readonly<Exchange>,
  answer: { aliases: ProviderAliases | undefined; requestJson: unknown; model: string },
): void {
  const models = aliasesOf(exchange, answer.aliases);
  const alias = models ? requestAlias(exchange.provider, exchange.request.path, answer.requestJson) : null;
  if (alias) models!.learn(exchange.target.host, alias, answer.model);
}
