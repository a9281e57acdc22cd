/**
 * The policy chain engine: runs request hooks in chain order and response hooks in reverse, gives each
 * hook a time budget, records a decision for every call, and applies verdicts according to each entry's
 * `mode` (enforce/observe) and `failMode` (closed/open).
 * @module
 */
import type { Decision, Exchange } from "../core/exchange.ts";
import type { ParsedResponse, StreamEvent } from "../providers/types.ts";
import type {
  Block,
  HookContext,
  Modify,
  Policy,
  RequestPatch,
  RequestView,
  ResponseVerdict,
  Verdict,
} from "./types.ts";
import { unsignablePatch } from "./signed_requests.ts";

/** One configured, instantiated policy. */
export interface ChainEntry {
  policy: Policy;
  mode: "enforce" | "observe";
  failMode: "closed" | "open";
  timeoutMs: number;
}

/** What the request phase decided for the exchange as a whole. */
export type RequestOutcome =
  | { kind: "forward"; patches: RequestPatch[] }
  | { kind: "block"; block: Block; policy: string };

export interface ChainOptions {
  now?: () => number;
}

/** An immutable, ordered chain. Build a new one to change it (hot reload swaps whole chains). */
export class PolicyChain {
  readonly entries: readonly ChainEntry[];
  /** True when some policy asked to see request bodies whole. */
  readonly needsRequestBody: boolean;
  /** True when some policy watches parsed response events (so events are checked before delivery). */
  readonly watchesEvents: boolean;
  readonly #now: () => number;

  constructor(entries: ChainEntry[], options: ChainOptions = {}) {
    this.entries = Object.freeze([...entries]);
    this.needsRequestBody = entries.some((e) => e.policy.needsRequestBody && e.policy.onRequest);
    this.watchesEvents = entries.some((e) => e.policy.onEvent);
    this.#now = options.now ?? Date.now;
  }

  /**
   * Runs every `onRequest` hook in order. A modify verdict's patch is applied to the view before the next
   * hook runs (via `applyPatch`), so later policies see what will actually be sent.
   */
  async runRequest(
    exchange: Exchange,
    view: RequestView,
    applyPatch: (patch: RequestPatch) => RequestView,
    signal?: AbortSignal,
  ): Promise<RequestOutcome> {
    const patches: RequestPatch[] = [];
    let current = view;
    for (const entry of this.entries) {
      const hook = entry.policy.onRequest;
      if (!hook) continue;
      const verdict = await this.#call(
        exchange,
        entry,
        "request",
        signal,
        (ctx) => hook.call(entry.policy, exchange, current, ctx),
      );
      if (!verdict) continue;
      if (verdict.kind === "block") return { kind: "block", block: verdict, policy: entry.policy.name };
      if (verdict.kind === "modify") {
        patches.push(verdict.patch);
        current = applyPatch(verdict.patch);
      }
    }
    return { kind: "forward", patches };
  }

  /**
   * Runs `onClientMessage` hooks in chain order for one WebSocket client message. Returns the message to
   * forward (patched by modify verdicts) or the block.
   */
  async runClientMessage(
    exchange: Exchange,
    message: RequestView,
  ): Promise<{ kind: "forward"; message: RequestView } | { kind: "block"; block: Block; policy: string }> {
    let current = message;
    for (const entry of this.entries) {
      const hook = entry.policy.onClientMessage;
      if (!hook) continue;
      const verdict = await this.#call(
        exchange,
        entry,
        "message",
        undefined,
        (ctx) => hook.call(entry.policy, exchange, current, ctx),
        false,
      );
      if (!verdict) continue;
      if (verdict.kind === "block") return { kind: "block", block: verdict, policy: entry.policy.name };
      if (verdict.kind === "modify" && verdict.patch.json !== undefined) {
        const text = JSON.stringify(verdict.patch.json);
        current = { ...current, json: verdict.patch.json, body: new TextEncoder().encode(text) };
      }
    }
    return { kind: "forward", message: current };
  }

  /** True when some policy inspects WebSocket client messages. */
  get watchesClientMessages(): boolean {
    return this.entries.some((e) => e.policy.onClientMessage);
  }

  /** Runs `onResponse` hooks in reverse order when the response head arrives. */
  async runResponse(exchange: Exchange, signal?: AbortSignal): Promise<Block | null> {
    for (const entry of [...this.entries].reverse()) {
      const hook = entry.policy.onResponse;
      if (!hook) continue;
      const verdict = await this.#call(
        exchange,
        entry,
        "response",
        signal,
        (ctx) => hook.call(entry.policy, exchange, ctx),
      );
      if (verdict?.kind === "block") return verdict;
    }
    return null;
  }

  /**
   * Runs `onEvent` hooks in reverse order for one parsed event. Synchronous on purpose: it sits between
   * upstream bytes and the client, so it cannot wait on I/O. Time budgets are checked after the fact.
   */
  runEvent(exchange: Exchange, event: StreamEvent): Block | null {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i];
      const hook = entry.policy.onEvent;
      if (!hook) continue;
      const ctx: HookContext = { signal: new AbortController().signal, now: this.#now };
      let verdict: ResponseVerdict;
      try {
        verdict = hook.call(entry.policy, exchange, event, ctx);
      } catch (error) {
        const block = this.#failure(exchange, entry, "event", "error", errorText(error));
        if (block) return block;
        continue;
      }
      // Allows are not recorded per event: a 10,000-event stream would drown the decision log.
      if (verdict.kind === "block") {
        this.#record(exchange, entry, "event", verdict.kind, verdict.reason, verdict.detail);
        if (entry.mode === "enforce") return verdict;
      }
    }
    return null;
  }

  /** Runs `onEnd` hooks in reverse order; failures are recorded but cannot change a finished exchange. */
  async runEnd(exchange: Exchange, parsed: ParsedResponse | null): Promise<void> {
    for (const entry of [...this.entries].reverse()) {
      const hook = entry.policy.onEnd;
      if (!hook) continue;
      await this.#call(exchange, entry, "end", undefined, async (ctx) => {
        await hook.call(entry.policy, exchange, parsed, ctx);
        return { kind: "allow" } as const;
      }, false);
    }
  }

  /** Calls one hook with its time budget, records the decision, and maps failures by `failMode`. */
  async #call<V extends Verdict>(
    exchange: Exchange,
    entry: ChainEntry,
    hook: Decision["hook"],
    outer: AbortSignal | undefined,
    invoke: (ctx: HookContext) => V | Promise<V>,
    recordAllow = true,
  ): Promise<V | Block | null> {
    const budget = new AbortController();
    const onOuterAbort = () => budget.abort(outer?.reason);
    outer?.addEventListener("abort", onOuterAbort, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => {
        budget.abort(new DOMException(`hook exceeded ${entry.timeoutMs} ms`, "TimeoutError"));
        resolve("timeout");
      }, entry.timeoutMs);
    });
    try {
      const result = await Promise.race([
        Promise.resolve().then(() => invoke({ signal: budget.signal, now: this.#now })),
        timeout,
      ]);
      if (result === "timeout") {
        return this.#failure(exchange, entry, hook, "timeout", `exceeded its ${entry.timeoutMs} ms budget`);
      }
      if (result.kind === "allow") {
        if (recordAllow || result.reason) {
          this.#record(exchange, entry, hook, "allow", result.reason ?? "", result.detail);
        }
        return null;
      }
      const unsignable = hook === "request" && result.kind === "modify"
        ? unsignablePatch(exchange.request.headers, result.patch)
        : null;
      if (unsignable) return this.#signedModify(exchange, entry, result as Modify, unsignable);
      this.#record(exchange, entry, hook, result.kind, result.reason, result.detail);
      return entry.mode === "enforce" ? result : null;
    } catch (error) {
      return this.#failure(exchange, entry, hook, "error", errorText(error));
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuterAbort);
    }
  }

  /** Records a throw or timeout; returns the block it turns into when the entry fails closed. */
  #failure(
    exchange: Exchange,
    entry: ChainEntry,
    hook: Decision["hook"],
    kind: "error" | "timeout",
    why: string,
  ) {
    const enforced = entry.failMode === "closed" && entry.mode === "enforce" && hook !== "end";
    exchange.decisions.push({
      policy: entry.policy.name,
      hook,
      kind,
      enforced,
      reason: `${entry.policy.name} ${hook} hook ${kind === "timeout" ? "timed out" : "failed"}: ${why}`,
      at: this.#now(),
    });
    if (!enforced) return null;
    const block: Block = {
      kind: "block",
      status: 503,
      reason:
        `Request stopped by Recondo: policy "${entry.policy.name}" could not decide (${why}); it fails closed`,
    };
    return block;
  }

  /**
   * A `modify` of a SigV4-signed request (signed_requests.ts): a block with a clear message when enforced,
   * the modify recorded only when observed. The decision's detail says which (`signedRequest`).
   */
  #signedModify(exchange: Exchange, entry: ChainEntry, verdict: Modify, why: string): Block | null {
    const enforce = entry.mode === "enforce";
    const reason = `Blocked by Recondo: policy ${entry.policy.name} would modify this AWS SigV4-signed ` +
      `request, but ${why}, which would break its signature (${verdict.reason})`;
    const detail = {
      ...verdict.detail,
      signedRequest: enforce ? "modify-became-block" : "modify-recorded-only",
      unsignable: why,
    };
    if (!enforce) {
      this.#record(exchange, entry, "request", "modify", verdict.reason, detail);
      return null;
    }
    this.#record(exchange, entry, "request", "block", reason, detail);
    return { kind: "block", status: 400, reason, detail };
  }

  #record(
    exchange: Exchange,
    entry: ChainEntry,
    hook: Decision["hook"],
    kind: Decision["kind"],
    reason: string,
    detail?: Record<string, unknown>,
  ): void {
    const decision: Decision = {
      policy: entry.policy.name,
      hook,
      kind,
      enforced: entry.mode === "enforce" && kind !== "allow",
      reason,
      at: this.#now(),
    };
    if (detail) decision.detail = detail;
    exchange.decisions.push(decision);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
