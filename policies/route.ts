/**
 * `route`: rewrites the model a request asks for and sends traffic to another upstream, by rule. The first
 * rule whose `match` fits the exchange applies; every rewrite is a `modify` decision that names the rule,
 * the old and the new model and origin. A rule may name fallback origins, tried in order when the chosen
 * upstream answers 429 or 5xx before any byte reached the client (see `fallback.ts`).
 *
 * @example
 * { "use": "route", "options": { "rules": [
 *   { "match": { "team": "contractors", "model": "claude-opus-*" }, "model": "claude-sonnet-4-5" },
 *   { "match": { "provider": "anthropic" }, "upstream": "https://llm-gw.internal", "fallback": ["https://api.anthropic.com"] }
 * ] } }
 * @module
 */
import { z } from "zod";
import type { Exchange } from "../core/exchange.ts";
import { compileGlobs } from "./glob.ts";
import { requestModel } from "./request_model.ts";
import type { Policy, PolicyModule, RequestPatch, RequestView, Verdict } from "./types.ts";

const origin = z.string().url().refine((u) => /^https?:$/.test(new URL(u).protocol), "must be http(s)");

const rule = z.object({
  /** Every given field must match (globs with `*`, case-insensitive); an empty match fits everything. */
  match: z.object({
    team: z.string().optional(),
    developer: z.string().optional(),
    provider: z.string().optional(),
    model: z.string().optional(),
    host: z.string().optional(),
  }).default({}),
  /** The model to ask for instead (JSON bodies: Anthropic, OpenAI). */
  model: z.string().min(1).optional(),
  /** The origin to send the request to instead, e.g. `https://eu.llm-gw.internal`. */
  upstream: origin.optional(),
  /** Origins to try, in order, when the upstream answers 429 or 5xx before streaming. */
  fallback: z.array(origin).default([]),
}).refine((r) => r.model || r.upstream || r.fallback.length > 0, "needs model, upstream or fallback");

const options = z.object({ rules: z.array(rule).min(1) });

export type RouteOptions = z.infer<typeof options>;

type Field = "team" | "developer" | "provider" | "model" | "host";

function create(opts: RouteOptions): Policy {
  const rules = opts.rules.map((r, index) => ({
    ...r,
    index,
    tests: (Object.entries(r.match) as [Field, string | undefined][])
      .filter(([, pattern]) => pattern !== undefined)
      .map(([field, pattern]) => [field, compileGlobs([pattern!])] as const),
  }));
  const needsModel = rules.some((r) => r.match.model !== undefined || r.model !== undefined);

  const onRequest = (exchange: Readonly<Exchange>, request: RequestView): Verdict => {
    const model = needsModel ? requestModel(request) : null;
    const values: Record<Field, string | null> = {
      team: exchange.client.team,
      developer: exchange.client.developer,
      provider: exchange.provider,
      model,
      host: exchange.target.host,
    };
    const chosen = rules.find((r) => r.tests.every(([field, test]) => test(values[field])));
    if (!chosen) return { kind: "allow" };
    const patch: RequestPatch = {};
    const changes: string[] = [];
    const detail: Record<string, unknown> = { rule: chosen.index };
    const json = request.json;
    if (chosen.model && model !== chosen.model) {
      if (json && typeof json === "object" && !Array.isArray(json) && "model" in json) {
        patch.json = { ...json, model: chosen.model };
        changes.push(`model ${model} → ${chosen.model}`);
        Object.assign(detail, { fromModel: model, toModel: chosen.model });
      } else {
        // Gemini names the model in the path, which a patch cannot change: say so instead of pretending.
        return {
          kind: "allow",
          reason: `route rule ${chosen.index} matched but the model is not in a JSON body; not rewritten`,
          detail,
        };
      }
    }
    if (chosen.upstream) {
      patch.upstreamOrigin = new URL(chosen.upstream).origin;
      changes.push(`upstream ${exchange.target.upstreamOrigin} → ${patch.upstreamOrigin}`);
      Object.assign(detail, {
        fromUpstream: exchange.target.upstreamOrigin,
        toUpstream: patch.upstreamOrigin,
      });
    }
    if (chosen.fallback.length > 0) {
      patch.fallbackOrigins = chosen.fallback.map((u) => new URL(u).origin);
      detail.fallback = patch.fallbackOrigins;
    }
    if (changes.length === 0 && !patch.fallbackOrigins) return { kind: "allow" };
    const what = changes.length > 0 ? changes.join(", ") : `fallback ${patch.fallbackOrigins!.join(", ")}`;
    return { kind: "modify", reason: `route rule ${chosen.index}: ${what}`, patch, detail };
  };

  // Fallback replays the request to another origin, so its body must be buffered, not streamed.
  const needsBody = needsModel || rules.some((r) => r.fallback.length > 0);
  return { name: "route", needsRequestBody: needsBody, onRequest };
}

/** The `route` module, registered in `built_ins.ts`. */
export const route: PolicyModule<RouteOptions> = {
  name: "route",
  description: "Rewrite the model, send traffic to another upstream, fall back on 429/5xx.",
  options,
  create,
};
