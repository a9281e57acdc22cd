/**
 * `redactText`: scan one string and replace every redact-action secret with its placeholder. The result
 * carries positions and keyed hashes, never the secrets.
 * @module
 */
import { placeholder, type SecretHasher, shortHash } from "./placeholder.ts";
import { type CompiledRules, type RuleAction, scanText } from "./scanner.ts";

/** One secret in a text, without the secret: where it was (in the original text), which rule, its hash. */
export interface Redaction {
  rule: string;
  action: RuleAction;
  /** First 8 hex of the keyed hash. */
  hash: string;
  start: number;
  end: number;
}

export interface TextRedaction {
  /** The text with `redact` findings replaced (unchanged when there were none). */
  text: string;
  /** Every finding, including `observe` and `block` ones (which leave the text as it was). */
  findings: Redaction[];
}

export interface RedactTextOptions {
  hasher: SecretHasher;
}

/**
 * Redacts one text.
 *
 * @example
 * const { text } = redactText("key=AKIA…", compileRules(), { hasher: processHasher() });
 */
export function redactText(text: string, rules: CompiledRules, options: RedactTextOptions): TextRedaction {
  const findings = scanText(text, rules).map((f): Redaction => ({
    rule: f.rule,
    action: f.action,
    hash: shortHash(options.hasher, f.secret),
    start: f.start,
    end: f.end,
  }));
  return { text: applyRedactions(text, findings), findings };
}

/** Replaces the `redact` findings' spans (sorted, non-overlapping, as `scanText` returns them). */
export function applyRedactions(text: string, findings: readonly Redaction[]): string {
  let out = "";
  let at = 0;
  for (const f of findings) {
    if (f.action !== "redact") continue;
    out += text.slice(at, f.start) + placeholder(f.rule, f.hash);
    at = f.end;
  }
  return at === 0 ? text : out + text.slice(at);
}
