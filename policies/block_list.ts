/**
 * `block-list`: refuses exchanges by host, path, provider, model, developer or team. The agent gets the
 * refusal in its provider's error format, so the developer sees why.
 *
 * @example
 * { "use": "block-list", "options": { "providers": ["google"], "models": ["gpt-4*"], "teams": ["contractors"] } }
 * @module
 */
import { z } from "zod";
import { compileGlobs } from "./glob.ts";
import { requestModel } from "./request_model.ts";
import type { Policy, PolicyModule } from "./types.ts";

const patterns = z.array(z.string().min(1)).default([]);

const options = z.object({
  providers: patterns,
  /** Model name patterns with `*` wildcards. */
  models: patterns,
  developers: patterns,
  teams: patterns,
  hosts: patterns,
  /** Path patterns with `*`, e.g. `/v1/messages/count_tokens`. */
  paths: patterns,
  /** What the developer reads; `{what}` is replaced by the matched rule. */
  message: z.string().default("Blocked by your organisation's Recondo policy ({what})."),
  /**
   * 400 by default: every client shows a 400's message and stops, while Claude Code words a 403 as
   * "Failed to authenticate" and Codex retries any other 4xx for up to 13 s (measured with the real CLIs, tests/agents_test.ts).
   */
  status: z.number().int().min(400).max(599).default(400),
});

export type BlockListOptions = z.infer<typeof options>;

function create(opts: BlockListOptions): Policy {
  const rules: [string, (v: string | null | undefined) => boolean][] = [
    ["provider", compileGlobs(opts.providers)],
    ["model", compileGlobs(opts.models)],
    ["developer", compileGlobs(opts.developers)],
    ["team", compileGlobs(opts.teams)],
    ["host", compileGlobs(opts.hosts)],
    ["path", compileGlobs(opts.paths)],
  ];
  return {
    name: "block-list",
    needsRequestBody: opts.models.length > 0,
    onRequest(exchange, request) {
      const values: Record<string, string | null> = {
        provider: exchange.provider,
        model: opts.models.length > 0 ? requestModel(request) : null,
        developer: exchange.client.developer,
        team: exchange.client.team,
        host: exchange.target.host,
        path: request.path.split("?")[0],
      };
      for (const [field, matches] of rules) {
        if (!matches(values[field])) continue;
        const what = `${field} ${values[field]}`;
        return {
          kind: "block",
          status: opts.status,
          reason: opts.message.replaceAll("{what}", what),
          detail: { field, value: values[field] },
        };
      }
      return { kind: "allow" };
    },
  };
}

export const blockList: PolicyModule<BlockListOptions> = {
  name: "block-list",
  description: "Refuse requests by provider, model, developer, team, host or path.",
  options,
  create,
};
