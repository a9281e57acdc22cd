/**
 * UI edits when the database is the control plane (PostgreSQL fleet): a chain edit, a rollback or a
 * developer change is written to the control tables as a new revision, which every gateway attached to the
 * database applies (this one at once, the others on `NOTIFY`). The local gateway's reload then reports
 * whether the version could be built here; every accepted change is audited with its before and after.
 * @module
 */
import type { ControlPlane } from "../control/db_control.ts";
import type { DeveloperConfig } from "../config/schema.ts";
import { log } from "../core/log.ts";
import type { ChangeResult, UiServices } from "../routes/_lib/context.ts";

/** What the editor needs. */
export interface ControlEditingOptions {
  control: ControlPlane;
  reload(): Promise<ChangeResult>;
  currentPolicies(): unknown[];
  currentDevelopers(): readonly DeveloperConfig[];
  audit: UiServices["audit"];
}

type Editing = Pick<UiServices, "savePolicies" | "rollbackPolicies" | "policyHistory" | "saveDevelopers">;

/** The UI services that change the control plane. */
export function createControlEditing(options: ControlEditingOptions): Editing {
  const change = async (
    actor: string,
    action: string,
    target: string,
    before: unknown,
    write: () => Promise<{ after: unknown; label?: string }>,
  ): Promise<ChangeResult> => {
    let written: { after: unknown; label?: string };
    try {
      written = await write();
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
    await options.audit({ actor, action: written.label ?? action, target, before, after: written.after });
    const applied = await options.reload();
    if (!applied.ok) log.warn("ui.control_not_applied_here", { actor, action, reason: applied.reason });
    return applied;
  };
  return {
    savePolicies: (entries, actor, note) =>
      change(actor, note, "policies", options.currentPolicies(), async () => {
        const v = await options.control.publishPolicies(entries, { author: actor, note });
        return { after: v.entries, label: `${note} (version ${v.version})` };
      }),
    rollbackPolicies: (version, actor) =>
      change(actor, `roll back to version ${version}`, "policies", options.currentPolicies(), async () => {
        const v = await options.control.rollbackPolicies(version, { author: actor });
        return { after: v.entries, label: `roll back to version ${version} (version ${v.version})` };
      }),
    policyHistory: (limit) => options.control.history(limit),
    saveDevelopers: (developers, actor, action) =>
      change(actor, action, "developers", redactTokens(options.currentDevelopers()), async () => {
        await options.control.saveDevelopers(developers);
        return { after: redactTokens(developers) };
      }),
  };
}

/** Proxy tokens are secrets: the audit records that one was set, not its value or hash. */
export function redactTokens(developers: readonly DeveloperConfig[]): unknown[] {
  return developers.map(({ token, tokenHash, ...rest }) => ({
    ...rest,
    ...(token || tokenHash ? { token: "(set)" } : {}),
  }));
}
