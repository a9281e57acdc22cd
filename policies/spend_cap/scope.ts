/**
 * Budget and limit scopes shared by `spend-cap` and `throttle`: `developer:<name>`, `team:<name>`,
 * `provider:<name>` or `global`. A name of `*` means "each one separately" (`developer:*` gives every
 * developer their own budget), so one entry covers a whole organisation.
 * @module
 */
import { z } from "zod";
import type { Exchange } from "../../core/exchange.ts";

const SCOPE = /^(?:global|(developer|team|provider):(.+))$/;

/** The zod schema for a scope string; the message names the accepted forms. */
export const scopeSchema = z.string().regex(
  SCOPE,
  'must be "global", "developer:<name>", "team:<name>" or "provider:<name>"',
);

/**
 * The concrete scope an exchange falls under for a configured scope, or `null` when it does not apply.
 * @example resolveScope("developer:*", exchange) // "developer:alice" for Alice's exchange
 */
export function resolveScope(scope: string, exchange: Readonly<Exchange>): string | null {
  if (scope === "global") return "global";
  const match = SCOPE.exec(scope);
  if (!match) return null;
  const [, kind, name] = match;
  const actual = kind === "developer"
    ? exchange.client.developer
    : kind === "team"
    ? exchange.client.team
    : exchange.provider;
  if (!actual) return null;
  if (name === "*" || name === actual) return `${kind}:${actual}`;
  return null;
}
