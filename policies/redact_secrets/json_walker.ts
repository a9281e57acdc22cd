/**
 * `redactJsonValue`: redacts secrets anywhere in a JSON value, whatever the provider's format (Anthropic
 * messages, OpenAI responses/chat, Gemini contents, Code Assist's wrapping, Codex's WebSocket
 * `response.create`): every string is a place a secret can leave by. Strings that are JSON themselves (tool
 * call arguments, tool results) are parsed and walked, so a secret inside them is found with its real
 * characters and replaced without breaking either level of JSON. Property names give context:
 * `{"client_secret": "…"}` is a secret even without a known prefix.
 *
 * Strings go through a `ScanCache`: a string seen before costs a lookup, and its remembered findings are
 * applied again (so every occurrence is still redacted), which keeps the cost of a 200-turn conversation's
 * resent history close to the gateway's own JSON parse.
 * @module
 */
import { asCommandLine, type CommandLine, splitFindings } from "./command_line.ts";
import { NOT_SECRET_NAME, PLACEHOLDER_VALUE, SECRET_NAME } from "./names.ts";
import { placeholder, type SecretHasher, shortHash } from "./placeholder.ts";
import { applyRedactions, type Redaction, redactText } from "./redact_text.ts";
import type { ScanCache } from "./scan_cache.ts";
import { type CompiledRules, type RuleAction, shannonEntropy } from "./scanner.ts";

/** One secret in a JSON value: the rule, where (a JSONPath-like location), its keyed hash and action. */
export interface JsonFinding {
  rule: string;
  action: RuleAction;
  hash: string;
  /** e.g. `messages[3].content[0].content`, or `input[2].arguments<json>.cmd` inside a JSON string. */
  path: string;
}

export interface JsonRedaction {
  /** The redacted value; the input itself (same reference) when nothing was replaced. */
  value: unknown;
  changed: boolean;
  findings: JsonFinding[];
  /** Characters run through the rules vs. characters answered from the cache. */
  stats: { scannedChars: number; cachedChars: number };
}

export interface RedactJsonOptions {
  hasher: SecretHasher;
  cache?: ScanCache;
  /** Strings at least this long use the cache; shorter ones are cheaper to scan than to remember. */
  minCachedLength?: number;
  /** Location prefix for findings, e.g. `message` for a WebSocket message. */
  path?: string;
}

/** Fields that carry provider-opaque data (signatures, encrypted reasoning): altering them breaks the turn. */
const OPAQUE_KEYS = new Set(["signature", "encrypted_content", "thoughtSignature", "thought_signature"]);
const SECRET_KEY = new RegExp(`^[A-Za-z0-9_.-]*?${SECRET_NAME}[A-Za-z0-9_.-]*$`, "i");
const AUTHORIZATION_KEY = /^(?:proxy-)?authorization$/i;
const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;
const NESTED = Symbol("nested JSON");
const KEY = Symbol("property name");
const MAX_NESTED_JSON = 3;

/**
 * Redacts a JSON value. Pure apart from the cache; never mutates `value`.
 *
 * @example
 * const out = redactJsonValue(body, compileRules(), { hasher: processHasher(), cache: new ScanCache(32 << 20) });
 * if (out.changed) forward(JSON.stringify(out.value));
 */
export function redactJsonValue(
  value: unknown,
  rules: CompiledRules,
  options: RedactJsonOptions,
): JsonRedaction {
  const findings: JsonFinding[] = [];
  const stats = { scannedChars: 0, cachedChars: 0 };
  // Path segments: array indexes, property names, or NESTED for "inside this JSON string". Formatted only
  // when something is found, so the walk itself allocates nothing per node.
  const segments: (string | number | symbol)[] = [];
  const minCached = options.minCachedLength ?? 8;
  const keyAction = rules.actions.get("secret-assignment");

  const record = (list: readonly Redaction[]) => {
    const path = formatPath(options.path, segments);
    for (const r of list) findings.push({ rule: r.rule, action: r.action, hash: r.hash, path });
  };

  function visit(node: unknown, depth: number, key: string | null): unknown {
    if (typeof node === "string") return visitString(node, depth, key);
    if (Array.isArray(node)) {
      const line = rules.arguments ? asCommandLine(node) : null;
      const redacted = line ? visitCommandLine(node as string[], line) : null;
      if (redacted) return redacted;
      let out: unknown[] | null = null;
      for (let i = 0; i < node.length; i++) {
        segments.push(i);
        const next = visit(node[i], depth, null);
        segments.pop();
        if (next !== node[i]) (out ??= node.slice())[i] = next;
      }
      return out ?? node;
    }
    if (node && typeof node === "object") {
      const object = node as Record<string, unknown>;
      let out: Record<string, unknown> | null = null;
      for (const k of Object.keys(object)) {
        const child = object[k];
        if (OPAQUE_KEYS.has(k) || (k === "data" && isBinaryHolder(object))) continue;
        let name = k;
        if (k.length >= 16 && options.cache?.lookup(k)?.length !== 0) {
          const r = redactText(k, rules, options);
          if (r.findings.length === 0) options.cache?.remember(k, []);
          if (r.findings.length) {
            // The path names no property here: the name itself held the secret.
            segments.push(KEY);
            record(r.findings);
            segments.pop();
            name = r.text;
          }
        }
        segments.push(name);
        const next = visit(child, depth, k);
        segments.pop();
        if (next !== child || name !== k) {
          out ??= { ...object };
          if (name !== k) delete out[k];
          out[name] = next;
        }
      }
      return out ?? node;
    }
    return node;
  }

  function visitString(text: string, depth: number, key: string | null): string {
    if (text.length < 8 || (text.startsWith("data:") && text.includes(";base64,"))) return text;
    const kind = key === null ? KeyKind.Plain : keyKind(key);
    if (kind === KeyKind.Authorization) {
      // `{"Authorization": "Bearer …"}`: the header name is the key, so give the rules the whole header.
      const prefix = "Authorization: ";
      const r = redactText(prefix + text, rules, options);
      record(r.findings);
      return r.text.slice(prefix.length);
    }
    const cache = options.cache && text.length >= minCached ? options.cache : null;
    const hit = cache?.lookup(text);
    if (hit) {
      stats.cachedChars += text.length;
      if (hit.length === 0) return kind === KeyKind.SecretNamed ? underSecretName(text) : text;
      record(hit);
      return applyRedactions(text, hit);
    }
    if (depth < MAX_NESTED_JSON && looksLikeJson(text)) {
      const nested = parseJson(text);
      if (nested !== undefined) {
        segments.push(NESTED);
        const before = findings.length;
        const value = visit(nested, depth + 1, null);
        segments.pop();
        // Nested texts with findings are not cached: their findings carry inner paths, and they are rare.
        if (findings.length === before) {
          cache?.remember(text, []);
          return text;
        }
        return value === nested ? text : reserialize(text, value);
      }
    }
    stats.scannedChars += text.length;
    const result = redactText(text, rules, options);
    cache?.remember(text, result.findings);
    if (result.findings.length === 0 && kind === KeyKind.SecretNamed) return underSecretName(text);
    record(result.findings);
    return result.text;
  }

  /**
   * A string array that reads as a command line: scanned joined, so `["--password", "…"]` is seen as one
   * argument; `null` when a finding crosses two elements (then the elements are walked one by one).
   */
  function visitCommandLine(node: string[], line: CommandLine): string[] | null {
    const cache = options.cache && line.text.length >= minCached ? options.cache : null;
    const hit = cache?.lookup(line.text);
    const found = hit ?? redactText(line.text, rules, options).findings;
    const perElement = splitFindings(line, found);
    if (!perElement) return null;
    if (hit) stats.cachedChars += line.text.length;
    else {
      stats.scannedChars += line.text.length;
      cache?.remember(line.text, found);
    }
    if (found.length === 0) return node;
    let out: string[] | null = null;
    perElement.forEach((list, i) => {
      if (list.length === 0) return;
      segments.push(i);
      record(list);
      segments.pop();
      const text = applyRedactions(node[i], list);
      if (text !== node[i]) (out ??= node.slice())[i] = text;
    });
    return out ?? node;
  }

  /**
   * `{"client_secret": "…"}`: a secret-looking literal under a secret-named property, when no specific rule
   * matched it (a specific rule keeps its own id and action).
   */
  function underSecretName(text: string): string {
    if (!keyAction || !isSecretValue(text)) return text;
    const hash = shortHash(options.hasher, text);
    findings.push({
      rule: "secret-assignment",
      action: keyAction,
      hash,
      path: formatPath(options.path, segments),
    });
    return keyAction === "redact" ? placeholder("secret-assignment", hash) : text;
  }

  const out = visit(value, 0, null);
  return { value: out, changed: out !== value, findings, stats };
}

/** `messages[2].content[0].content`, `input[1].arguments<json>.cmd`; `<key>` marks a property name. */
function formatPath(prefix: string | undefined, segments: readonly (string | number | symbol)[]): string {
  let out = prefix ?? "";
  for (const segment of segments) {
    if (segment === NESTED) out += "<json>";
    else if (segment === KEY) out += out ? ".<key>" : "<key>";
    else if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment !== "string") continue;
    else if (!IDENTIFIER.test(segment)) out += `[${JSON.stringify(segment)}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}

const enum KeyKind {
  Plain,
  SecretNamed,
  Authorization,
}

// Property names repeat across a body and across requests (`type`, `text`, `content`): classify each once.
const keyKinds = new Map<string, KeyKind>();

function keyKind(key: string): KeyKind {
  let kind = keyKinds.get(key);
  if (kind !== undefined) return kind;
  kind = AUTHORIZATION_KEY.test(key)
    ? KeyKind.Authorization
    : SECRET_KEY.test(key) && !NOT_SECRET_NAME.test(key)
    ? KeyKind.SecretNamed
    : KeyKind.Plain;
  if (keyKinds.size < 10_000) keyKinds.set(key, kind);
  return kind;
}

/** `{"api_key": "…"}`-style: under a secret-named property, a secret-looking literal is a secret. */
function isSecretValue(value: string): boolean {
  if (value.length > 4096 || /[\s"'`<>{}()[\]\\;,|&]/.test(value) || PLACEHOLDER_VALUE.test(value)) {
    return false;
  }
  if (value.startsWith("[REDACTED:")) return false;
  return shannonEntropy(value) >= 2.8;
}

/** Objects whose `data` is a base64 payload (images, documents, redacted thinking), not text. */
function isBinaryHolder(object: Record<string, unknown>): boolean {
  return object.type === "redacted_thinking" || object.type === "base64" || "media_type" in object ||
    "mimeType" in object || "mime_type" in object;
}

function looksLikeJson(text: string): boolean {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  // `{…}` or `[…]` (trailing whitespace aside): only those can hold strings worth walking.
  return (first === 123 || first === 91) && (last === 125 || last === 93 || last === 10 || last === 32);
}

function parseJson(text: string): unknown {
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a redacted nested JSON value back as text, indented like the original when it was indented. */
function reserialize(original: string, value: unknown): string {
  const indent = /^[[{]\r?\n([ \t]+)/.exec(original)?.[1];
  const text = JSON.stringify(value, null, indent);
  return original.endsWith("\n") ? text + "\n" : text;
}
