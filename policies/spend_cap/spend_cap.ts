/**
 * `spend-cap`: USD budgets per developer, team, provider or everyone, per calendar day, week or month.
 * Before a request goes upstream it reserves the most the request can cost on every budget it falls
 * under, in one atomic step in the shared database; when the response ends the reservation settles to the
 * priced usage (or is released when nothing was spent). So concurrent requests and several replicas can
 * never overshoot a cap: the database admits a reservation only if `spent + reserved + amount <= cap`.
 * WebSocket turns (Codex) are reserved per `response.create` message and settled when that turn ends.
 *
 * @example
 * { "use": "spend-cap", "options": { "budgets": [{ "scope": "team:alpha", "usd": 25, "period": "day" }] } }
 * @module
 */
import type { Exchange } from "../../core/exchange.ts";
import { log } from "../../core/log.ts";
import {
  estimateRequestCostCeiling,
  parseRequest,
  parseWsClientMessage,
  priceUsage,
} from "../../providers/mod.ts";
import type { ApiName, ParsedResponse } from "../../providers/types.ts";
import type { Policy, PolicyModule, PolicyServices, RequestView, Verdict } from "../types.ts";
import { pathModel } from "../request_model.ts";
import { isBilledApi } from "./billed.ts";
import { recordThresholds, refusal } from "./events.ts";
import type { BudgetWindow } from "./ledger.ts";
import { type SpendCapOptions, spendCapOptions } from "./options.ts";
import { periodWindow } from "./periods.ts";
import { resolveScope } from "./scope.ts";

export { usd } from "./events.ts";

const SWEEP_EVERY_MS = 60_000;

interface Reservation {
  id: string;
  windows: BudgetWindow[];
  model: string | null;
  amountMicros: number;
}

/** The request's model and output limit, as far as the body and path say. */
interface RequestHead {
  model: string | null;
  maxOutputTokens: number | null;
  bytes: number;
}

function create(opts: SpendCapOptions, services: PolicyServices): Policy {
  const ledger = services.spendLedger;
  if (!ledger) {
    throw new Error(
      'Cannot load policy "spend-cap": no spend ledger is available (the gateway must be given PolicyServices from storage/ledger createPolicyServices(db))',
    );
  }
  /** HTTP reservations by exchange id. */
  const reservations = new Map<string, Reservation>();
  /** Ids whose reserve call has started (a hook timeout may outlive it): released at the end regardless. */
  const pending = new Set<string>();
  /** WebSocket turns by connection: the connection exchange's id and its turns' reservations in order. */
  const sockets = new Map<string, { connection: string; turns: Reservation[] }>();
  let lastSweep = 0;
  let wsCounter = 0;

  const windowsFor = (exchange: Readonly<Exchange>, at: number): BudgetWindow[] => {
    const out: BudgetWindow[] = [];
    for (const budget of opts.budgets) {
      const scope = resolveScope(budget.scope, exchange);
      if (!scope) continue;
      const window = periodWindow(budget.period, at, opts.timeZone);
      out.push({
        key: `${scope}|${budget.period}|${window.label}`,
        scope,
        period: budget.period,
        start: window.start,
        end: window.end,
        capMicros: Math.round(budget.usd * 1e6),
      });
    }
    return out;
  };

  const sweep = (at: number) => {
    if (at - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = at;
    ledger.releaseExpired(at).then(
      (count) => count > 0 && log.warn("spend_cap.expired_reservations", { released: count }),
      (error) => log.error("spend_cap.sweep_failed", { error }),
    );
  };

  /** Reserves the request's ceiling under `id`; the verdict, and the reservation when one was made. */
  const reserve = async (
    exchange: Readonly<Exchange>,
    id: string,
    head: RequestHead,
    at: number,
  ): Promise<{ verdict: Verdict; reservation?: Reservation }> => {
    sweep(at);
    const windows = windowsFor(exchange, at);
    if (windows.length === 0) return { verdict: { kind: "allow" } };
    const ceiling = estimateRequestCostCeiling({
      provider: exchange.provider,
      model: head.model,
      requestBytes: head.bytes,
      maxOutputTokens: head.maxOutputTokens,
      at: new Date(at),
      outputCeiling: opts.outputCeiling,
    });
    if (ceiling.usd === null) {
      const reason = `spend-cap cannot price model ${head.model ?? "(none)"}: ${
        ceiling.reason ?? "unpriced"
      }`;
      if (opts.unpriced === "block") {
        return {
          verdict: { kind: "block", status: opts.status, reason: `Recondo: ${reason}; refused by policy` },
        };
      }
      return {
        verdict: {
          kind: "allow",
          reason: `${reason}; let through unreserved`,
          detail: { model: head.model },
        },
      };
    }
    const amountMicros = Math.max(1, Math.ceil(ceiling.usd * 1e6));
    pending.add(id);
    const result = await ledger.reserve(id, windows, amountMicros, {
      at,
      expiresAt: at + opts.reservationTtlMs,
    });
    if (!result.ok) {
      pending.delete(id);
      const window = windows.find((w) => w.key === result.key)!;
      return { verdict: refusal(window, result.state, amountMicros, opts) };
    }
    const budgets = result.states.map((s) => ({
      key: s.key,
      spentUsd: s.spentMicros / 1e6,
      reservedUsd: s.reservedMicros / 1e6,
    }));
    return {
      verdict: { kind: "allow", detail: { reservedUsd: amountMicros / 1e6, budgets } },
      reservation: { id, windows, model: head.model, amountMicros },
    };
  };

  /** Settles (or releases) one reservation, or charges an unreserved turn, and raises threshold events. */
  const finish = async (
    exchange: Readonly<Exchange>,
    reservation: Reservation | undefined,
    parsed: ParsedResponse | null,
    at: number,
    wasPending: boolean,
  ) => {
    const cost = actualCost(exchange, parsed, reservation, at);
    const id = reservation?.id ?? exchange.id;
    if (cost === null) {
      if (reservation || wasPending) await ledger.release(id, at);
      return;
    }
    const windows = reservation?.windows ?? windowsFor(exchange, at);
    if (windows.length === 0) return;
    for (const s of await ledger.settle(id, windows, cost, at)) {
      const window = windows.find((w) => w.key === s.key);
      const spent = { before: s.spentBeforeMicros, after: s.spentAfterMicros };
      if (!window) continue;
      recordThresholds(exchange, window, spent, opts, at);
      services.alerts?.budgetSettled(window, { beforeMicros: spent.before, afterMicros: spent.after }, at);
    }
  };

  return {
    name: "spend-cap",
    needsRequestBody: true,
    async onRequest(exchange, request, ctx): Promise<Verdict> {
      if (!isBilledApi(exchange.api)) return { kind: "allow" };
      const { verdict, reservation } = await reserve(
        exchange,
        exchange.id,
        httpHead(exchange.api as ApiName, request),
        ctx.now(),
      );
      if (reservation) reservations.set(exchange.id, reservation);
      return verdict;
    },
    async onClientMessage(exchange, message, ctx): Promise<Verdict> {
      const text = message.body ? new TextDecoder().decode(message.body) : "";
      const parsed = parseWsClientMessage(text, message.headers);
      if (!parsed || parsed.prewarm) return { kind: "allow" };
      const head = {
        model: message.model ?? parsed.model,
        maxOutputTokens: parsed.maxOutputTokens,
        bytes: text.length,
      };
      const { verdict, reservation } = await reserve(
        exchange,
        `${exchange.id}:turn:${++wsCounter}`,
        head,
        ctx.now(),
      );
      if (reservation) {
        const socket = sockets.get(exchange.connectionId) ?? { connection: exchange.id, turns: [] };
        socket.turns.push(reservation);
        sockets.set(exchange.connectionId, socket);
      }
      return verdict;
    },
    async onEnd(exchange, parsed, ctx) {
      const at = ctx.now();
      const socket = exchange.kind === "websocket" ? sockets.get(exchange.connectionId) : undefined;
      if (socket && socket.connection === exchange.id) {
        // The connection closed: whatever turns never ended spent nothing we know of.
        sockets.delete(exchange.connectionId);
        for (const turn of socket.turns) await ledger.release(turn.id, at);
        return;
      }
      if (exchange.kind === "websocket") {
        if (!parsed) return; // a warm-up turn: nothing was reserved or spent
        return await finish(exchange, socket?.turns.shift(), parsed, at, false);
      }
      const reservation = reservations.get(exchange.id);
      reservations.delete(exchange.id);
      await finish(exchange, reservation, parsed, at, pending.delete(exchange.id));
    },
  };
}

function httpHead(api: ApiName, request: RequestView): RequestHead {
  // The chain already parsed the body into `request.json`; parsing 300 KB again per turn is not free.
  const source = request.json !== undefined ? request.json : request.body;
  const parsed = source ? parseRequest(api, source, request.headers) : null;
  return {
    model: request.model ?? parsed?.model ?? pathModel(request.path),
    maxOutputTokens: parsed?.maxOutputTokens ?? null,
    bytes: request.body?.byteLength ?? 0,
  };
}

/**
 * What the exchange cost in micro-USD, or `null` when it spent nothing (blocked, failed before an answer,
 * an error status). A response whose usage could not be read is charged its reserved ceiling.
 */
function actualCost(
  exchange: Readonly<Exchange>,
  parsed: ParsedResponse | null,
  reservation: Reservation | undefined,
  at: number,
): number | null {
  if (parsed?.usage) {
    const model = parsed.model ?? reservation?.model ?? null;
    const priced = priceUsage(exchange.provider, model, parsed.usage, new Date(at));
    if (priced.usd !== null) return Math.round(priced.usd * 1e6);
    return reservation?.amountMicros ?? null;
  }
  const status = exchange.response?.status ?? 0;
  if (!reservation || exchange.outcome === "blocked" || status === 0 || status >= 400) return null;
  return reservation.amountMicros;
}

/** The `spend-cap` module, registered in `built_ins.ts`. */
export const spendCap: PolicyModule<SpendCapOptions> = {
  name: "spend-cap",
  description: "USD budgets per developer, team, provider or everyone, per day, week or month.",
  options: spendCapOptions,
  create,
};
