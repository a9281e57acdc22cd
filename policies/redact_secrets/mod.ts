/**
 * `redact-secrets`: the policy module and the pure functions behind it, for callers that redact outside
 * the request hooks (the WebSocket relay, `policies simulate`, benchmarks).
 * @module
 */
export { redactSecrets, type RedactSecretsOptions } from "./redact_secrets.ts";
export {
  type JsonFinding,
  type JsonRedaction,
  type RedactJsonOptions,
  redactJsonValue,
} from "./json_walker.ts";
export { applyRedactions, type Redaction, redactText, type TextRedaction } from "./redact_text.ts";
export {
  type CompiledRules,
  type CompileOptions,
  compileRules,
  type RuleAction,
  scanText,
} from "./scanner.ts";
export { hmacHasher, placeholder, processHasher, type SecretHasher } from "./placeholder.ts";
export { ScanCache } from "./scan_cache.ts";
export { RULES, type RuleSpec } from "./rules.ts";
