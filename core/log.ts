/**
 * Structured logging: one JSON object per line on stderr. Never pass a body or a credential here.
 * `RECONDO_LOG=debug|info|warn|error|silent` sets the threshold (default `info`).
 * @module
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel | "silent", number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

function threshold(): number {
  let raw: string | undefined;
  try {
    raw = Deno.env.get("RECONDO_LOG");
  } catch {
    raw = undefined; // no env permission: keep the default
  }
  return ORDER[(raw ?? "info") as LogLevel] ?? ORDER.info;
}

let minLevel = threshold();

/** Re-reads `RECONDO_LOG`; tests use it after changing the variable. */
export function refreshLogLevel(): void {
  minLevel = threshold();
}

function emit(level: LogLevel, event: string, fields: Record<string, unknown>): void {
  if (ORDER[level] < minLevel) return;
  const line = JSON.stringify({ t: new Date().toISOString(), level, event, ...fields }, errorReplacer);
  // The logger is the one place allowed to write to stderr outside cli/.
  console.error(line);
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** `log.info("policy.block", { exchangeId, policy, reason })` */
export const log = {
  debug: (event: string, fields: Record<string, unknown> = {}) => emit("debug", event, fields),
  info: (event: string, fields: Record<string, unknown> = {}) => emit("info", event, fields),
  warn: (event: string, fields: Record<string, unknown> = {}) => emit("warn", event, fields),
  error: (event: string, fields: Record<string, unknown> = {}) => emit("error", event, fields),
};
