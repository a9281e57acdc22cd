/**
 * Applies UI edits to the config file the gateway hot-reloads: the file is rewritten atomically with one
 * top-level key replaced (`policies` or `developers`), then the gateway reloads it. If the gateway rejects
 * the new config (a policy that fails to build), the old file is put back, so a rejected edit changes
 * nothing. Every accepted edit is audited with its value before and after. Edits are serialised.
 *
 * This is the fallback the brief names while the policy versions API (`policies/versions/`) is absent:
 * the config file is the one source of truth the gateway already watches.
 * @module
 */
import { dirname } from "node:path";
import { log } from "../core/log.ts";
import type { ChangeResult } from "../routes/_lib/context.ts";

/** What `createConfigEditor` needs. */
export interface ConfigEditorOptions {
  configPath: string;
  /** Re-reads the config in the gateway; its answer decides whether the edit stays. */
  reload(): Promise<ChangeResult>;
  audit(
    entry: { actor: string; action: string; target: string; before?: unknown; after?: unknown },
  ): Promise<void>;
}

/** Replaces one top-level key of the config file. */
export type ConfigEditor = (
  key: string,
  value: unknown,
  actor: string,
  action: string,
) => Promise<ChangeResult>;

async function readText(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.ui-${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, text, { mode: 0o600 });
  await Deno.rename(tmp, path);
}

/** Builds the editor. */
export function createConfigEditor(options: ConfigEditorOptions): ConfigEditor {
  let tail: Promise<unknown> = Promise.resolve();
  return (key, value, actor, action) => {
    const run = async (): Promise<ChangeResult> => {
      const oldText = await readText(options.configPath);
      let parsed: Record<string, unknown>;
      try {
        parsed = oldText === null ? {} : JSON.parse(oldText);
      } catch (error) {
        return {
          ok: false,
          reason: `Cannot edit ${options.configPath}: not JSON (${(error as Error).message})`,
        };
      }
      const before = parsed[key] ?? null;
      const next = { ...parsed, [key]: value };
      await writeAtomically(options.configPath, `${JSON.stringify(next, null, 2)}\n`);
      const result = await options.reload();
      if (!result.ok) {
        if (oldText === null) await Deno.remove(options.configPath).catch(() => {});
        else await writeAtomically(options.configPath, oldText);
        await options.reload();
        log.warn("ui.config_edit_rejected", { actor, action, reason: result.reason });
        return result;
      }
      await options.audit({
        actor,
        action,
        target: `config.${key}`,
        before: redact(before),
        after: redact(value),
      });
      log.info("ui.config_edited", { actor, action, key });
      return result;
    };
    const result = tail.then(run, run);
    tail = result.catch(() => {});
    return result;
  };
}

/** Proxy tokens are secrets: the audit records that one was set, not its value. */
function redact(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((item) =>
    item && typeof item === "object" && ("token" in item || "tokenHash" in item)
      ? (({ tokenHash: _hash, ...rest }) => ({ ...rest, token: "(set)" }))(item as Record<string, unknown>)
      : item
  );
}
