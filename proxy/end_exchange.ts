/**
 * The last step of every exchange, however it ended: the chain's end hooks run first (spend settles,
 * thresholds are recorded), then capture gets the exchange with every decision in it. Capture never
 * sees an exchange that hooks are still writing to.
 * @module
 */
import type { CaptureParsed, ExchangeTap } from "../capture/sink.ts";
import type { Exchange } from "../core/exchange.ts";
import { log } from "../core/log.ts";
import type { PolicyChain } from "../policies/chain.ts";
import type { ParsedResponse } from "../providers/types.ts";

/** Resolves when capture has taken the exchange (durably, in strict mode). Never rejects. */
export async function endExchange(
  exchange: Exchange,
  parts: {
    chain: PolicyChain;
    tap: ExchangeTap;
    parsed: ParsedResponse | null;
    capture: CaptureParsed | null;
  },
): Promise<void> {
  try {
    await parts.chain.runEnd(exchange, parts.parsed);
  } catch (error) {
    log.error("policy.end_failed", { exchangeId: exchange.id, error });
  }
  try {
    await parts.tap.end(exchange, parts.capture);
  } catch (error) {
    log.error("capture.end_failed", { exchangeId: exchange.id, error });
  }
}
