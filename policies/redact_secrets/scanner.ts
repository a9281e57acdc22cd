/**
 * The text scanner: compiles the rules once (keyword prefilter, per-rule actions, allowlist) and finds
 * secret spans in one string. Pure functions, so the WebSocket relay, `simulate` and the benchmark can
 * call them without a gateway.
 * @module
 */
import { shannonEntropy } from "./entropy.ts";
import { RULES, type RuleSpec } from "./rules.ts";

export { shannonEntropy };

/** What happens when a rule matches: replace the secret, refuse the request, or only record it. */
export type RuleAction = "redact" | "block" | "observe";

/** A rule ready to run. */
export interface CompiledRule {
  id: string;
  action: RuleAction;
  regexes: RegExp[];
  minEntropy: number;
  allow: RegExp[];
  validate?: RuleSpec["validate"];
}

/** The compiled rule set: build once per policy instance with `compileRules`. */
export interface CompiledRules {
  rules: CompiledRule[];
  /** Matches any keyword of any rule (case-insensitive); which keyword says which rules may match. */
  keywords: RegExp | null;
  rulesByKeyword: Map<string, number[]>;
  /** Rules without keywords (the opt-in entropy rule) run on every text. */
  alwaysRun: number[];
  /** User allowlist: secrets matching any of these are left alone. */
  allowlist: RegExp[];
  /** The action of each rule id, for findings made outside the regexes (JSON key context). */
  actions: Map<string, RuleAction>;
  /** Whether the argument rules are on: the JSON walker then also reads string arrays as one command line. */
  arguments: boolean;
}

export interface CompileOptions {
  /** Per-rule action overrides; rules not named keep `redact`. */
  actions?: Record<string, RuleAction>;
  /** Rule ids to turn off. */
  disable?: string[];
  /** Turn on the opt-in high-entropy rule. */
  entropy?: boolean;
  /** The argument-position rules (`argument_rules.ts`); on unless `false`. */
  arguments?: boolean;
  /** Regular expressions (JavaScript syntax); a secret matching one is not reported. */
  allowlist?: string[];
  /** Rules to use instead of the shipped ones (tests). */
  specs?: readonly RuleSpec[];
}

/** A secret found in one text. `secret` is transient: hash it and drop it, never store or log it. */
export interface Finding {
  rule: string;
  action: RuleAction;
  start: number;
  end: number;
  secret: string;
}

/**
 * Compiles rules with their options. Throws an `Error` naming the offending rule id or allowlist entry.
 *
 * @example
 * const rules = compileRules({ actions: { "private-key": "block" }, disable: ["jwt"] });
 */
export function compileRules(options: CompileOptions = {}): CompiledRules {
  const specs = options.specs ?? RULES;
  const known = new Set(specs.map((s) => s.id));
  for (const id of [...(options.disable ?? []), ...Object.keys(options.actions ?? {})]) {
    if (!known.has(id)) {
      throw new Error(`Unknown redact-secrets rule "${id}" (rules: ${[...known].join(", ")})`);
    }
  }
  const disabled = new Set(options.disable ?? []);
  const rules: CompiledRule[] = [];
  const rulesByKeyword = new Map<string, number[]>();
  const alwaysRun: number[] = [];
  const actions = new Map<string, RuleAction>();
  for (const spec of specs) {
    if (disabled.has(spec.id) || (spec.optIn && !options.entropy)) continue;
    if (spec.group === "arguments" && options.arguments === false) continue;
    const index = rules.length;
    const action = options.actions?.[spec.id] ?? "redact";
    actions.set(spec.id, action);
    rules.push({
      id: spec.id,
      action,
      regexes: spec.patterns.map((p) => new RegExp(p, `dg${spec.flags ?? ""}`)),
      minEntropy: spec.minEntropy ?? 0,
      allow: spec.allow ?? [],
      validate: spec.validate,
    });
    if (spec.keywords.length === 0) alwaysRun.push(index);
    for (const keyword of spec.keywords) {
      const list = rulesByKeyword.get(keyword) ?? [];
      list.push(index);
      rulesByKeyword.set(keyword, list);
    }
  }
  // A keyword that contains another (`secret_key` ⊃ `secret`) selects both keywords' rules: the combined
  // regex reports only the longest alternative at a position.
  const words = [...rulesByKeyword.keys()].sort((a, b) => b.length - a.length);
  for (const word of words) {
    const merged = new Set<number>();
    for (const other of words) {
      if (word.includes(other)) { for (const i of rulesByKeyword.get(other)!) merged.add(i); }
    }
    rulesByKeyword.set(word, [...merged]);
  }
  const allowlist = (options.allowlist ?? []).map((source, i) => {
    try {
      return new RegExp(source);
    } catch (error) {
      throw new Error(`redact-secrets allowlist[${i}] is not a valid regular expression: ${source}`, {
        cause: error,
      });
    }
  });
  return {
    rules,
    keywords: words.length ? new RegExp(words.map(escapeRegExp).join("|"), "gi") : null,
    rulesByKeyword,
    alwaysRun,
    allowlist,
    actions,
    arguments: rules.some((r) => specs.find((s) => s.id === r.id)?.group === "arguments"),
  };
}

/**
 * Finds the secrets in `text`: non-overlapping spans in text order; on overlap the longer span wins, then
 * the earlier (more specific) rule.
 */
export function scanText(text: string, compiled: CompiledRules): Finding[] {
  const candidates = rulesToRun(text, compiled);
  if (candidates.length === 0) return [];
  const found: (Finding & { order: number })[] = [];
  for (const index of candidates) {
    const rule = compiled.rules[index];
    for (const regex of rule.regexes) {
      regex.lastIndex = 0;
      for (let m = regex.exec(text); m; m = regex.exec(text)) {
        if (m[0].length === 0) regex.lastIndex++;
        const span = m.indices?.groups?.secret ?? m.indices?.[0];
        if (!span) continue;
        let end = span[1];
        while (end > span[0] && WHITESPACE.test(text[end - 1])) end--;
        const secret = text.slice(span[0], end);
        if (!accepts(rule, secret, m, compiled.allowlist)) continue;
        found.push({ rule: rule.id, action: rule.action, start: span[0], end, secret, order: index });
      }
    }
  }
  found.sort((a, b) => a.start - b.start || (b.end - b.start) - (a.end - a.start) || a.order - b.order);
  const kept: Finding[] = [];
  for (const f of found) {
    const last = kept[kept.length - 1];
    if (last && f.start < last.end) continue;
    kept.push({ rule: f.rule, action: f.action, start: f.start, end: f.end, secret: f.secret });
  }
  return kept;
}

/** Whether a candidate passes the rule's entropy floor, allowlists and structural check. */
function accepts(rule: CompiledRule, secret: string, match: RegExpExecArray, allowlist: RegExp[]): boolean {
  if (PLACEHOLDER.test(secret)) return false;
  if (rule.minEntropy > 0 && shannonEntropy(secret) < rule.minEntropy) return false;
  if (rule.allow.some((r) => r.test(secret)) || allowlist.some((r) => r.test(secret))) return false;
  return !rule.validate || rule.validate(secret, match);
}

const WHITESPACE = /\s/;

/** Our own placeholders are never secrets (agents resend them every turn). */
const PLACEHOLDER = /\[REDACTED:[a-z0-9-]+:[0-9a-f]{8}\]/;

function rulesToRun(text: string, compiled: CompiledRules): number[] {
  const selected = new Set<number>(compiled.alwaysRun);
  const keywords = compiled.keywords;
  if (keywords) {
    const seen = new Set<string>();
    keywords.lastIndex = 0;
    for (let m = keywords.exec(text); m; m = keywords.exec(text)) {
      // Step one character, not past the match, so overlapping keywords are seen too.
      keywords.lastIndex = m.index + 1;
      const word = m[0].toLowerCase();
      if (seen.has(word)) continue;
      seen.add(word);
      for (const index of compiled.rulesByKeyword.get(word) ?? []) selected.add(index);
      if (seen.size === compiled.rulesByKeyword.size) break;
    }
  }
  return [...selected].sort((a, b) => a - b);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}
