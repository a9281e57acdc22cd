/**
 * What an exchange adds to `/metrics` (`proxy/metrics.ts`): its count and duration once it ended, and its
 * policy decisions as they are made, over HTTP and WebSocket alike (the Grafana dashboard's block panels
 * read `recondo_policy_decisions_total`).
 * @module
 */
import type { Exchange } from "../core/exchange.ts";
import type { Metrics } from "./metrics.ts";

/** Counts an ended exchange by provider, status and outcome, and observes its duration. */
export function recordExchange(exchange: Exchange, metrics: Metrics): void {
  const status = String(exchange.response?.status ?? 0);
  metrics.exchanges.inc({ provider: exchange.provider, status, outcome: exchange.outcome ?? "unknown" });
  if (exchange.timing.end) {
    metrics.exchangeDuration.observe(
      { provider: exchange.provider },
      (exchange.timing.end - exchange.timing.start) / 1000,
    );
  }
}

/** How many of an exchange's decisions are counted already: a connection's grow message by message. */
const counted = new WeakMap<Exchange, number>();

/**
 * Counts the decisions added to `exchange` since the last call (`recondo_policy_decisions_total`). Call it
 * after every hook run: an HTTP exchange's request, response and end, each message of a WebSocket.
 */
export function countDecisions(exchange: Exchange, metrics: Metrics): void {
  const from = counted.get(exchange) ?? 0;
  for (const decision of exchange.decisions.slice(from)) {
    metrics.decisions.inc({
      policy: decision.policy,
      kind: decision.kind,
      enforced: String(decision.enforced),
    });
  }
  counted.set(exchange, exchange.decisions.length);
}
