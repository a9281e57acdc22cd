/**
 * Example policy: "deny tool calls named X for team Y". The model proposes tool calls in its response;
 * this policy watches the parsed stream and ends it with an error as soon as a denied tool call starts,
 * before the agent receives the call (so it never runs). It also removes denied tools from what the
 * request offers, so the model is not tempted in the first place.
 *
 * ```json
 * { "use": "./policies/deny_tools.ts", "options": { "tools": ["Bash", "WebFetch"], "teams": ["contractors"] } }
 * ```
 * @module
 */
import { z } from "zod";
import { compileGlobs, type PolicyModule, type RequestView, type Verdict } from "recondo/policy";

const options = z.object({
  /** Tool names (globs, case-insensitive), e.g. `Bash`, `mcp__github__*`. */
  tools: z.array(z.string().min(1)).min(1),
  /** Teams the denial applies to (globs); empty: everyone. */
  teams: z.array(z.string()).default([]),
});

type Options = z.infer<typeof options>;

/** The name of a tool definition in any provider's request format. */
function toolName(tool: unknown): string | null {
  if (!tool || typeof tool !== "object") return null;
  const t = tool as { name?: unknown; function?: { name?: unknown } };
  if (typeof t.name === "string") return t.name; // Anthropic, OpenAI Responses
  if (typeof t.function?.name === "string") return t.function.name; // OpenAI Chat Completions
  return null;
}

/** The request without denied tool definitions, or `null` when it offers none of them. */
export function withoutTools(request: RequestView, denied: (name: string) => boolean): unknown | null {
  const json = request.json as { tools?: unknown } | undefined;
  if (!json || typeof json !== "object" || !Array.isArray(json.tools)) return null;
  let removed = false;
  const tools = json.tools.flatMap((tool: unknown) => {
    const declarations = (tool as { functionDeclarations?: unknown[] })?.functionDeclarations;
    if (Array.isArray(declarations)) { // Gemini groups functions in one tool
      const kept = declarations.filter((d) => !denied(toolName(d) ?? ""));
      removed ||= kept.length !== declarations.length;
      return kept.length ? [{ ...(tool as object), functionDeclarations: kept }] : [];
    }
    const name = toolName(tool);
    if (name !== null && denied(name)) {
      removed = true;
      return [];
    }
    return [tool];
  });
  return removed ? { ...json, tools } : null;
}

const policy: PolicyModule<Options> = {
  name: "deny-tools",
  description: "Stop tool calls with the given names for the given teams.",
  options,
  create(opts) {
    const denied = compileGlobs(opts.tools);
    const inTeam = opts.teams.length === 0 ? () => true : compileGlobs(opts.teams);
    return {
      name: "deny-tools",
      needsRequestBody: true,
      onRequest(exchange, request): Verdict {
        if (!inTeam(exchange.client.team)) return { kind: "allow" };
        const json = withoutTools(request, (name) => denied(name));
        if (json === null) return { kind: "allow" };
        return { kind: "modify", reason: "removed denied tools from the request", patch: { json } };
      },
      onEvent(exchange, event) {
        if (event.type !== "tool_call_start" || !inTeam(exchange.client.team) || !denied(event.name)) {
          return { kind: "allow" };
        }
        return {
          kind: "block",
          status: 400,
          reason: `Recondo: the tool "${event.name}" is not allowed for team ${
            exchange.client.team ?? "(none)"
          }.`,
          detail: { tool: event.name, callId: event.id },
        };
      },
    };
  },
};

export default policy;
