/**
 * Example policy: "require a ticket id in the branch name". Coding agents tell the model which git branch
 * they are on (Claude Code: `Current branch: feat/ABC-123-login`; Codex and Gemini CLI similar), so the
 * gateway can refuse work on branches that do not name a ticket — the developer sees why in their agent.
 *
 * Use it from `recondo.json` by path (relative to the config file):
 * ```json
 * { "use": "./policies/require_ticket_branch.ts", "options": { "teams": ["payments"], "pattern": "PAY-\\d+" } }
 * ```
 * @module
 */
import { z } from "zod";
import { compileGlobs, type PolicyModule, type RequestView, type Verdict } from "recondo/policy";

const options = z.object({
  /** The ticket id as a regular expression (case-sensitive), searched anywhere in the branch name. */
  pattern: z.string().default("[A-Z][A-Z0-9]+-\\d+").refine((p) => {
    try {
      new RegExp(p);
      return true;
    } catch {
      return false;
    }
  }, "is not a valid regular expression"),
  /** Teams this applies to (globs); empty: everyone. */
  teams: z.array(z.string()).default([]),
  /** Branches that need no ticket. */
  exempt: z.array(z.string()).default(["main", "master", "develop"]),
  /** When the agent does not say which branch it is on: let the request through, or refuse it. */
  whenUnknown: z.enum(["allow", "block"]).default("allow"),
});

type Options = z.infer<typeof options>;

/** Where agents state the branch in the context they send (the same forms capture recognises). */
const BRANCH_PATTERNS = [
  /Current branch:\s*([^\s"\\]+)/,
  /<branch>([^<"\\]+)<\/branch>/,
  /gitBranch":\s*"([^"]+)/,
];

/** The branch named in a request body, or `null`. Exported for tests. */
export function branchOf(request: RequestView): string | null {
  if (!request.body) return null;
  const text = new TextDecoder().decode(request.body);
  for (const pattern of BRANCH_PATTERNS) {
    const match = pattern.exec(text);
    if (match) return match[1];
  }
  return null;
}

const policy: PolicyModule<Options> = {
  name: "require-ticket-branch",
  description: "Refuse agent requests made from a git branch whose name has no ticket id.",
  options,
  create(opts) {
    // Compiled once here, never per request.
    const ticket = new RegExp(opts.pattern);
    const inTeam = opts.teams.length === 0 ? () => true : compileGlobs(opts.teams);
    const exempt = compileGlobs(opts.exempt);
    return {
      name: "require-ticket-branch",
      needsRequestBody: true,
      onRequest(exchange, request): Verdict {
        if (!exchange.api || !inTeam(exchange.client.team)) return { kind: "allow" };
        const branch = branchOf(request);
        if (branch === null) {
          if (opts.whenUnknown === "allow") return { kind: "allow" };
          return {
            kind: "block",
            status: 400,
            reason:
              "Recondo: this request does not say which git branch you are on; work on a ticket branch.",
          };
        }
        if (exempt(branch) || ticket.test(branch)) return { kind: "allow", detail: { branch } };
        return {
          kind: "block",
          status: 400,
          reason:
            `Recondo: branch "${branch}" names no ticket (expected /${opts.pattern}/, e.g. feat/ABC-123-short-name). ` +
            "Create or switch to a ticket branch, then retry.",
          detail: { branch },
        };
      },
    };
  },
};

export default policy;
