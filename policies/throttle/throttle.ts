/**
 * `throttle`: requests per minute and tokens per minute per developer, team, provider or everyone, as
 * token buckets shared by every replica through the database. A request takes one request token and its
 * estimated input tokens before it goes upstream; when usage arrives the token bucket is corrected to what
 * the exchange really used (it may go negative, which holds the next requests back until it refills).
 * Refusals are `429` with `retry-after`, in the provider's rate-limit error format, so agents back off.
 *
 * @example
 * { "use": "throttle", "options": { "limits": [{ "scope": "developer:alice", "requestsPerMinute": 60, "tokensPerMinute": 200000 }] } }
 * @module
 */
import { z } from "zod";
import type { Exchange } from "../../core/exchange.ts";
import { estimateTokens } from "../../providers/mod.ts";
import type { ParsedResponse } from "../../providers/types.ts";
import { isBilledApi } from "../spend_cap/billed.ts";
import { resolveScope, scopeSchema } from "../spend_cap/scope.ts";
import type { Block, Policy, PolicyModule, PolicyServices, RequestView, Verdict } from "../types.ts";
import type { BucketSpec, RateLimiter } from "./buckets.ts";

const MINUTE = 60_000;

const limit = z.object({
  scope: scopeSchema,
  requestsPerMinute: z.number().int().positive().optional(),
  tokensPerMinute: z.number().int().positive().optional(),
}).refine(
  (l) => l.requestsPerMinute !== undefined || l.tokensPerMinute !== undefined,
  "needs requestsPerMinute, tokensPerMinute or both",
);

const options = z.object({
  limits: z.array(limit).min(1),
  /** 429 so agents wait `retry-after` and try again (they do: tests/spend_cap_agents_test.ts runs the real CLIs). */
  status: z.number().int().min(400).max(599).default(429),
});

export type ThrottleOptions = z.infer<typeof options>;

interface Taken {
  tokenBuckets: { key: string; capacity: number; windowMs: number }[];
  estimate: number;
}

function usedTokens(parsed: ParsedResponse | null): number | null {
  const u = parsed?.usage;
  if (!u) return null;
  return u.input + u.cacheRead + u.cacheWrite5m + u.cacheWrite1h + u.output;
}

function create(opts: ThrottleOptions, services: PolicyServices): Policy {
  const limiter: RateLimiter | undefined = services.rateLimiter;
  if (!limiter) {
    throw new Error(
      'Cannot load policy "throttle": no rate limiter is available (the gateway must be given PolicyServices from storage/ledger createPolicyServices(db))',
    );
  }
  const taken = new Map<string, Taken>();

  const bucketsFor = (exchange: Readonly<Exchange>, estimate: number) => {
    const buckets: BucketSpec[] = [];
    for (const l of opts.limits) {
      const scope = resolveScope(l.scope, exchange);
      if (!scope) continue;
      if (l.requestsPerMinute) {
        const capacity = l.requestsPerMinute;
        buckets.push({
          key: `${scope}|rpm:${capacity}`,
          capacity,
          windowMs: MINUTE,
          cost: 1,
          require: "full",
        });
      }
      if (l.tokensPerMinute) {
        const capacity = l.tokensPerMinute;
        buckets.push({
          key: `${scope}|tpm:${capacity}`,
          capacity,
          windowMs: MINUTE,
          cost: estimate,
          require: "positive",
        });
      }
    }
    return buckets;
  };

  const admit = async (exchange: Readonly<Exchange>, estimate: number, at: number): Promise<Verdict> => {
    const buckets = bucketsFor(exchange, estimate);
    if (buckets.length === 0) return { kind: "allow" };
    const result = await limiter.take(buckets, at);
    if (result.ok) {
      const tokenBuckets = buckets.filter((b) => b.require === "positive");
      if (tokenBuckets.length > 0) taken.set(exchange.id, { tokenBuckets, estimate });
      return { kind: "allow" };
    }
    const block = refusal(result.key, result.retryAfterMs, opts.status);
    const detail = block.detail as { scope: string; limit: string; retryAfterSeconds: number };
    services.alerts?.throttleRefused({ bucket: result.key, ...detail }, at);
    return block;
  };

  return {
    name: "throttle",
    needsRequestBody: opts.limits.some((l) => l.tokensPerMinute !== undefined),
    onRequest(exchange, request: RequestView, ctx) {
      // Auxiliary calls (model lists, token counts) are not throttled.
      if (!isBilledApi(exchange.api)) return { kind: "allow" };
      return admit(exchange, estimateTokens(request.body?.byteLength ?? 0), ctx.now());
    },
    onClientMessage(exchange, message, ctx) {
      // Only a `response.create` starts a turn; its tokens are charged whole when the turn ends.
      const json = message.json as { type?: unknown; generate?: unknown } | undefined;
      if (json?.type !== "response.create" || json.generate === false) return { kind: "allow" };
      return admit(exchange, 0, ctx.now());
    },
    async onEnd(exchange, parsed, ctx) {
      const record = taken.get(exchange.id);
      taken.delete(exchange.id);
      const used = usedTokens(parsed);
      const buckets = record?.tokenBuckets ??
        (used === null ? [] : bucketsFor(exchange, 0).filter((b) => b.require === "positive"));
      if (buckets.length === 0) return;
      // Give back the estimate and take what was used (nothing when the request never got an answer).
      const delta = (record?.estimate ?? 0) - (used ?? 0);
      if (delta === 0) return;
      await limiter.adjust(buckets.map((b) => ({ ...b, delta })), ctx.now());
    },
  };
}

function refusal(key: string, retryAfterMs: number, status: number): Block {
  const [scope, kind] = key.split("|");
  const [unit, capacity] = kind.split(":");
  const what = unit === "rpm" ? `${capacity} requests per minute` : `${capacity} tokens per minute`;
  const seconds = Math.ceil(retryAfterMs / 1000);
  return {
    kind: "block",
    status,
    errorKind: "rate_limited",
    reason: `Recondo throttle: ${scope} is limited to ${what}; try again in ${seconds} s.`,
    headers: { "retry-after": String(seconds) },
    detail: { bucket: key, scope, limit: what, retryAfterSeconds: seconds },
  };
}

/** The `throttle` module, registered in `built_ins.ts`. */
export const throttle: PolicyModule<ThrottleOptions> = {
  name: "throttle",
  description:
    "Requests and tokens per minute per developer, team, provider or everyone (429 + retry-after).",
  options,
  create,
};
