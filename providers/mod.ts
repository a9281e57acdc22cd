/**
 * The provider layer's public face: recognise which API an exchange speaks, parse its request and its
 * response as they stream, normalize token usage to one meaning, and price it.
 *
 * @example
 * import { createResponseParser, detectApi, parseRequest, priceUsage } from "../providers/mod.ts";
 * const match = detectApi("api.anthropic.com", "POST", "/v1/messages?beta=true"); // anthropic.messages
 * const request = parseRequest(match.api, bodyBytes, headers);
 * const parser = createResponseParser(match.api, response.headers.get("content-type"));
 * for await (const chunk of response.body) parser.push(chunk); // → StreamEvents for policies
 * const parsed = parser.finish();
 * const cost = priceUsage(match.provider, parsed.model ?? request.model, parsed.usage, new Date());
 * @module
 */
export type * from "./types.ts";
export { azureDeployment, bedrockModelId, bedrockPathId, detectApi, providerOfHost } from "./detect.ts";
export { type GatewayErrorKind, providerErrorBody, providerErrorResponse } from "./errors.ts";
export { createResponseParser, type ResponseParserOptions } from "./response_parser.ts";
export { parseRequest, parseWsClientMessage } from "./request_parser.ts";
export { createResponsesWsSession, type ResponsesWsSession, type WsTurn } from "./responses_ws_session.ts";
export {
  addUsage,
  anthropicUsage,
  CHARS_PER_TOKEN,
  converseUsage,
  estimateTokens,
  estimateUsage,
  geminiUsage,
  mergeUsageReport,
  openaiChatUsage,
  openaiResponsesUsage,
  promptTokens,
  settleUsage,
  type UsageSettlement,
  zeroUsage,
} from "./usage.ts";
export {
  type CostBreakdown,
  normalizeModel,
  PRICE_DATA_VERSION,
  type PricedUsage,
  priceUsage,
} from "./pricing.ts";
export { createPriceOverrides, type PriceOverride, type PriceOverrides } from "./price_overrides.ts";
export {
  type CostCeiling,
  type CostCeilingInput,
  DEFAULT_OUTPUT_CEILING,
  estimateRequestCostCeiling,
} from "./cost_ceiling.ts";
