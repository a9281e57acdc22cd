/**
 * `redact-secrets`: finds credentials in everything a coding agent sends to a model provider (prompts,
 * system prompts, tool results, tool-call arguments, pasted files, secrets passed to shell commands as
 * arguments), in every provider's request format
 * and in WebSocket client messages, and replaces each with a stable placeholder
 * `[REDACTED:<rule>:<8 hex of a keyed hash>]` before the request leaves. The body stays valid JSON.
 *
 * Per rule: `redact` (default), `block` (refuse the request) or `observe` (record only). Decisions record
 * the rule, the JSON location and the keyed hash; the secret itself is never stored or logged, and capture
 * stores the redacted body because it records what was actually sent.
 *
 * @example
 * { "use": "redact-secrets" }
 * { "use": "redact-secrets", "options": { "rules": { "private-key": "block" }, "disable": ["jwt"] } }
 * { "use": "redact-secrets", "options": { "arguments": false } }
 * @module
 */
import { z } from "zod";
import type { Exchange } from "../../core/exchange.ts";
import type { Policy, PolicyModule, PolicyServices, RequestView, Verdict } from "../types.ts";
import { type JsonFinding, redactJsonValue } from "./json_walker.ts";
import { processHasher } from "./placeholder.ts";
import { redactText } from "./redact_text.ts";
import { RULES } from "./rules.ts";
import { ScanCache } from "./scan_cache.ts";
import { compileRules } from "./scanner.ts";

const RULE_IDS = RULES.map((r) => r.id) as [string, ...string[]];
const ruleId = z.enum(RULE_IDS);

const options = z.object({
  /** Action per rule id; rules not listed redact. */
  rules: z.partialRecord(ruleId, z.enum(["redact", "block", "observe"])).default({}),
  /** Rule ids to turn off. */
  disable: z.array(ruleId).default([]),
  /** Also flag any long high-entropy token (noisy on hashes and blobs, so off by default). */
  entropy: z.boolean().default(false),
  /**
   * Secrets in command-line argument positions (`--token X`, `-p X`, `API_KEY=X cmd`, `-H 'X-Api-Key: X'`,
   * `https://X@host`) whose value looks like a secret; `false` turns these rules off.
   */
  arguments: z.boolean().default(true),
  /** Regular expressions; a secret matching one is left alone (e.g. a known test key). */
  allowlist: z.array(z.string().refine(isRegExp, { message: "must be a valid regular expression" })).default(
    [],
  ),
  /**
   * Memory for texts already scanned (clean texts, LRU), so resent history is not rescanned; 0 turns the
   * cache off. Texts with findings are remembered by digest, never in clear.
   */
  cacheMegabytes: z.number().min(0).default(64),
  /**
   * A body the policy cannot read (compressed, or not text): `block` (default; fail closed, no client
   * sends one) or `allow`.
   */
  uninspectable: z.enum(["block", "allow"]).default("block"),
  /** 400 by default: every client shows a 400's message and stops retrying (as tests/agents_test.ts shows). */
  status: z.number().int().min(400).max(599).default(400),
  /** What the developer reads on a block; `{rules}` and `{where}` are filled in. Never contains the secret. */
  message: z.string().default(
    "Recondo blocked this request because it contains a secret ({rules} at {where}). Remove it and try again.",
  ),
});

export type RedactSecretsOptions = z.infer<typeof options>;

/** At most this many findings are listed in one decision; `total` says how many there were. */
const MAX_LISTED = 50;

function create(opts: RedactSecretsOptions, services: PolicyServices): Policy {
  const rules = compileRules({
    actions: opts.rules as Record<string, "redact" | "block" | "observe">,
    disable: opts.disable,
    entropy: opts.entropy,
    arguments: opts.arguments,
    allowlist: opts.allowlist,
  });
  const hasher = services.secretHasher ?? processHasher();
  // JavaScript strings take two bytes a character.
  const cache = new ScanCache(Math.floor((opts.cacheMegabytes * 1048576) / 2));

  function inspect(request: RequestView, where: string): Verdict {
    if (!request.body || request.body.byteLength === 0) return { kind: "allow" };
    const encoding = (request.headers["content-encoding"] ?? "identity").trim().toLowerCase();
    if (encoding !== "identity" && encoding !== "") {
      return uninspectable(`the ${where} body is ${encoding}-encoded`);
    }
    let findings: JsonFinding[];
    let patched: unknown;
    let stats = { scannedChars: 0, cachedChars: 0 };
    // JSON sent with another content type is still JSON to the provider: redact it as JSON.
    const text = request.json === undefined ? new TextDecoder().decode(request.body) : "";
    const json = request.json !== undefined ? request.json : parseJson(text);
    if (json !== undefined) {
      const result = redactJsonValue(json, rules, { hasher, cache });
      findings = result.findings;
      patched = result.changed ? result.value : undefined;
      stats = result.stats;
    } else {
      // Not JSON: scan the text; it cannot be rewritten, so a secret to redact stops it.
      findings = redactText(text, rules, { hasher }).findings.map((f) => ({ ...f, path: "<body>" }));
      stats.scannedChars = text.length;
      if (findings.some((f) => f.action === "redact")) {
        return uninspectable(
          `the ${where} body is not JSON and holds a secret that cannot be replaced in place`,
        );
      }
    }
    if (findings.length === 0) return { kind: "allow" };
    const detail = {
      findings: findings.slice(0, MAX_LISTED).map(({ rule, path, hash, action }) => ({
        rule,
        path,
        hash,
        action,
      })),
      total: findings.length,
      ...stats,
    };
    const blocking = findings.filter((f) => f.action === "block");
    if (blocking.length > 0) {
      const reason = opts.message
        .replaceAll("{rules}", unique(blocking.map((f) => f.rule)).join(", "))
        .replaceAll("{where}", blocking[0].path || "the body");
      return { kind: "block", status: opts.status, reason, detail };
    }
    const redacted = findings.filter((f) => f.action === "redact");
    const observed = findings.length - redacted.length;
    if (patched !== undefined && redacted.length > 0) {
      const reason = `redacted ${redacted.length} secret${redacted.length === 1 ? "" : "s"} (${
        unique(redacted.map((f) => f.rule)).join(", ")
      })${observed ? `; observed ${observed}` : ""}`;
      return { kind: "modify", reason, patch: { json: patched }, detail };
    }
    return {
      kind: "allow",
      reason: `observed ${findings.length} secret${findings.length === 1 ? "" : "s"} (${
        unique(findings.map((f) => f.rule)).join(", ")
      })`,
      detail,
    };
  }

  function uninspectable(why: string): Verdict {
    if (opts.uninspectable === "allow") return { kind: "allow", reason: `not inspected: ${why}` };
    return {
      kind: "block",
      status: opts.status,
      reason: `Recondo blocked this request: redact-secrets cannot inspect it (${why}).`,
      detail: { uninspectable: why },
    };
  }

  return {
    name: "redact-secrets",
    needsRequestBody: true,
    onRequest(_exchange: Readonly<Exchange>, request: RequestView) {
      return inspect(request, "request");
    },
    onClientMessage(_exchange: Readonly<Exchange>, message: RequestView) {
      return inspect(message, "WebSocket message");
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** The built-in module, registered in `policies/built_ins.ts`. */
export const redactSecrets: PolicyModule<RedactSecretsOptions> = {
  name: "redact-secrets",
  description: "Replace credentials in prompts, tool calls and tool results with stable placeholders.",
  options,
  create,
};
