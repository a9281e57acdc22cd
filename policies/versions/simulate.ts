/**
 * `recondo policies simulate`: replays captured traffic through a candidate chain, in the order it
 * happened and on its own clock, and reports what the chain would have blocked, throttled, rerouted or
 * modified (redacted), and what that does to spend — before anyone enables it. End hooks run with the
 * recorded usage, so spend caps fill up and token buckets drain as they would have.
 *
 * The caller builds the chain on throwaway services (an in-memory ledger), so a simulation never touches
 * real budgets.
 * @module
 */
import type { Exchange, ProviderName } from "../../core/exchange.ts";
import { priceUsage } from "../../providers/mod.ts";
import type { ParsedResponse, Usage } from "../../providers/types.ts";
import type { PolicyChain } from "../chain.ts";
import type { RequestPatch, RequestView } from "../types.ts";

/** One captured exchange as simulate needs it (read by `storage/ledger/captured_traffic.ts`). */
export interface RecordedExchange {
  id: string;
  startedAt: number;
  host: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  developer: string | null;
  team: string | null;
  provider: ProviderName;
  api: string | null;
  /** The request body as it was sent upstream (after the chain that was running then). */
  body: Uint8Array | null;
  status: number | null;
  model: string | null;
  usage: Usage | null;
  costUsd: number | null;
}

/** One decision worth showing, as an example in the report. */
export interface SimulatedDecision {
  exchangeId: string;
  at: number;
  policy: string;
  kind: string;
  reason: string;
}

export interface SimulationReport {
  exchanges: number;
  from: number | null;
  to: number | null;
  blocked: Record<string, number>;
  throttled: Record<string, number>;
  rerouted: Record<string, number>;
  modified: Record<string, number>;
  errors: Record<string, number>;
  spend: {
    /** What the captured traffic cost. */
    recordedUsd: number;
    /** Cost of the exchanges the candidate would have refused. */
    avoidedUsd: number;
    /** Cost change of rerouted models, re-priced with the recorded usage. */
    rerouteDeltaUsd: number;
    /** recorded − avoided + reroute delta. */
    projectedUsd: number;
  };
  examples: SimulatedDecision[];
}

export interface SimulateOptions {
  /** Moves the chain's clock (the `now` given to `buildChain`) to each exchange's recorded time. */
  setNow(at: number): void;
  /** Examples kept per policy and kind (default 3). */
  examplesPerKind?: number;
}

const bump = (counts: Record<string, number>, key: string) => counts[key] = (counts[key] ?? 0) + 1;

/** Replays `traffic` (oldest first) through `chain` and tallies what it would have done. */
export async function simulateChain(
  chain: PolicyChain,
  traffic: AsyncIterable<RecordedExchange> | Iterable<RecordedExchange>,
  options: SimulateOptions,
): Promise<SimulationReport> {
  const report: SimulationReport = {
    exchanges: 0,
    from: null,
    to: null,
    blocked: {},
    throttled: {},
    rerouted: {},
    modified: {},
    errors: {},
    spend: { recordedUsd: 0, avoidedUsd: 0, rerouteDeltaUsd: 0, projectedUsd: 0 },
    examples: [],
  };
  const shown = new Map<string, number>();
  const keep = options.examplesPerKind ?? 3;
  for await (const recorded of traffic) {
    options.setNow(recorded.startedAt);
    report.exchanges++;
    report.from ??= recorded.startedAt;
    report.to = recorded.startedAt;
    const cost = recorded.costUsd ?? 0;
    report.spend.recordedUsd += cost;
    const exchange = replayExchange(recorded);
    let view = requestView(recorded);
    const outcome = await chain.runRequest(
      exchange,
      view,
      (patch) => (view = patched(exchange, view, patch)),
    );
    let model = recorded.model;
    if (outcome.kind === "block") {
      bump(outcome.block.errorKind === "rate_limited" ? report.throttled : report.blocked, outcome.policy);
      report.spend.avoidedUsd += cost;
      exchange.outcome = "blocked";
      await chain.runEnd(exchange, null);
    } else {
      for (const d of exchange.decisions) {
        if (d.kind !== "modify") continue;
        const toModel = typeof d.detail?.toModel === "string" ? d.detail.toModel : null;
        if (toModel || d.detail?.toUpstream) bump(report.rerouted, d.policy);
        else bump(report.modified, d.policy);
        if (toModel && recorded.usage) {
          const repriced =
            priceUsage(recorded.provider, toModel, recorded.usage, new Date(recorded.startedAt)).usd;
          if (repriced !== null) report.spend.rerouteDeltaUsd += repriced - cost;
          model = toModel;
        }
      }
      exchange.response = { status: recorded.status ?? 200, headers: {} };
      exchange.outcome = "complete";
      await chain.runEnd(exchange, recorded.usage ? parsedFrom(model, recorded.usage) : null);
    }
    for (const d of exchange.decisions) {
      if (d.kind === "error" || d.kind === "timeout") bump(report.errors, d.policy);
      if (d.kind === "allow" && !d.reason) continue;
      const key = `${d.policy}/${d.kind}`;
      if ((shown.get(key) ?? 0) >= keep) continue;
      shown.set(key, (shown.get(key) ?? 0) + 1);
      report.examples.push({
        exchangeId: recorded.id,
        at: d.at,
        policy: d.policy,
        kind: d.kind,
        reason: d.reason,
      });
    }
  }
  report.spend.projectedUsd = report.spend.recordedUsd - report.spend.avoidedUsd +
    report.spend.rerouteDeltaUsd;
  return report;
}

function replayExchange(r: RecordedExchange): Exchange {
  return {
    id: `sim-${r.id}`,
    connectionId: "simulate",
    kind: "http",
    client: { developer: r.developer, team: r.team, address: "simulate", via: "proxy-auth" },
    target: { host: r.host, port: 443, upstreamOrigin: `https://${r.host}` },
    provider: r.provider,
    api: r.api,
    request: { method: r.method, path: r.path, headers: r.headers },
    requestBody: r.body,
    response: null,
    timing: { start: r.startedAt, upstreamConnected: null, firstByte: null, end: null },
    decisions: [],
    wsMessages: [],
    errors: [],
    outcome: null,
  };
}

function requestView(r: RecordedExchange): RequestView {
  let json: unknown = undefined;
  if (r.body) {
    try {
      json = JSON.parse(new TextDecoder().decode(r.body));
    } catch {
      json = undefined;
    }
  }
  return { method: r.method, path: r.path, headers: r.headers, body: r.body, json };
}

function patched(exchange: Exchange, view: RequestView, patch: RequestPatch): RequestView {
  if (patch.upstreamOrigin) exchange.target.upstreamOrigin = patch.upstreamOrigin;
  if (patch.json === undefined) return view;
  return { ...view, json: patch.json, body: new TextEncoder().encode(JSON.stringify(patch.json)) };
}

function parsedFrom(model: string | null, usage: Usage): ParsedResponse {
  return {
    id: null,
    model,
    text: "",
    thinking: "",
    toolCalls: [],
    stopReason: null,
    usage,
    errors: [],
    partial: false,
  };
}
