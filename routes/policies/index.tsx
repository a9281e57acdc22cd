import type { Handlers, PageProps, PolicyModuleInfo, RouteContext } from "../_lib/context.ts";
import { seeOther } from "../_lib/context.ts";
import { displayValue, fieldsOf, readFields } from "../_lib/schema_form.ts";
import type { PolicyEntry } from "../../config/schema.ts";
import { CsrfField } from "../../components/CsrfField.tsx";
import { type FieldView, SchemaFields } from "../../components/SchemaFields.tsx";
import { time } from "../../components/format.ts";
import { diffChains, type PolicyVersion } from "../../policies/versions/mod.ts";

interface Data {
  entries: PolicyEntry[];
  modules: PolicyModuleInfo[];
  version: string;
  canEdit: boolean;
  csrf?: string;
  /** The entry whose options failed validation, with the submitted values and messages. */
  invalid?: { index: number; raw: Record<string, string>; errors: Record<string, string> };
  error?: string;
  history: PolicyVersion[];
}

/** A short hash of the chain, so a form posted against an older chain is refused, not misapplied. */
async function versionOf(entries: PolicyEntry[]): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(entries)));
  return Array.from(new Uint8Array(digest).slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

function schemaOf(modules: PolicyModuleInfo[], use: string): Record<string, unknown> {
  return modules.find((m) => m.name === use)?.jsonSchema ?? {};
}

async function page(ctx: RouteContext, extra: Partial<Data> = {}, status = 200): Promise<Response> {
  const entries = ctx.services.config().policies;
  const history = await ctx.services.policyHistory(20);
  ctx.state.title = "Policies";
  return ctx.render(
    {
      entries,
      modules: ctx.services.policyModules(),
      version: await versionOf(entries),
      canEdit: ctx.state.user?.role === "admin",
      csrf: ctx.state.user?.csrf,
      history,
      ...extra,
    } satisfies Data,
    { status },
  );
}

export const handler: Handlers = {
  GET(_req, ctx) {
    return page(ctx);
  },
  async POST(req, ctx) {
    const form = await req.formData();
    const actor = ctx.state.user!.name;
    const entries = structuredClone(ctx.services.config().policies);
    const action = String(form.get("action") ?? "");
    if (action !== "rollback" && form.get("version") !== await versionOf(entries)) {
      return page(ctx, {
        error: "The chain changed since this page was loaded; nothing was saved. Try again.",
      }, 409);
    }
    const index = Number(form.get("index"));
    const entry = Number.isInteger(index) ? entries[index] : undefined;
    const needEntry = ["up", "down", "toggle", "mode", "failmode", "remove", "options"].includes(action);
    if (needEntry && !entry) {
      return page(ctx, { error: `No policy entry at index ${form.get("index")}` }, 400);
    }
    let label = action;
    switch (action) {
      case "up":
      case "down": {
        const to = action === "up" ? index - 1 : index + 1;
        if (to < 0 || to >= entries.length) return seeOther("/policies");
        [entries[index], entries[to]] = [entries[to], entries[index]];
        label = `move ${entry!.name ?? entry!.use} ${action}`;
        break;
      }
      case "toggle":
        entry!.enabled = !entry!.enabled;
        label = `${entry!.enabled ? "enable" : "disable"} ${entry!.name ?? entry!.use}`;
        break;
      case "mode":
        entry!.mode = entry!.mode === "enforce" ? "observe" : "enforce";
        label = `${entry!.mode} ${entry!.name ?? entry!.use}`;
        break;
      case "failmode":
        entry!.failMode = entry!.failMode === "closed" ? "open" : "closed";
        label = `fail ${entry!.failMode} ${entry!.name ?? entry!.use}`;
        break;
      case "remove":
        entries.splice(index, 1);
        label = `remove ${entry!.name ?? entry!.use}`;
        break;
      case "add": {
        const use = String(form.get("use") ?? "");
        if (!ctx.services.policyModules().some((m) => m.name === use)) {
          return page(ctx, { error: `No built-in policy module "${use.slice(0, 60)}"` }, 400);
        }
        entries.push({
          use,
          options: {},
          mode: "observe",
          failMode: "closed",
          enabled: false,
          timeoutMs: 2_000,
        });
        label = `add ${use} (disabled, observe)`;
        break;
      }
      case "options": {
        const fields = fieldsOf(schemaOf(ctx.services.policyModules(), entry!.use));
        const read = readFields(fields, form, "o.");
        const timeout = Number(form.get("timeoutMs"));
        const errors = { ...read.errors };
        if (!Number.isInteger(timeout) || timeout <= 0 || timeout > 60_000) {
          errors.timeoutMs = `Must be a whole number of milliseconds from 1 to 60000, got "${
            form.get("timeoutMs")
          }"`;
        }
        if (Object.keys(read.errors).length === 0) {
          Object.assign(errors, ctx.services.validatePolicyOptions(entry!.use, read.value) ?? {});
        }
        if (Object.keys(errors).length) {
          return page(ctx, {
            invalid: { index, raw: { ...read.raw, timeoutMs: String(form.get("timeoutMs")) }, errors },
          }, 422);
        }
        entry!.options = read.value;
        entry!.timeoutMs = timeout;
        const name = String(form.get("name") ?? "").trim();
        if (name) entry!.name = name;
        else delete entry!.name;
        label = `edit options of ${entry!.name ?? entry!.use}`;
        break;
      }
      case "rollback": {
        const version = Number(form.get("to"));
        if (!Number.isInteger(version) || version < 1) {
          return page(ctx, { error: "No version to roll back to" }, 400);
        }
        const result = await ctx.services.rollbackPolicies(version, actor);
        if (!result.ok) return page(ctx, { error: `Cannot roll back: ${result.reason}` }, 422);
        return seeOther(`/policies?notice=${encodeURIComponent(`Rolled back to version ${version}`)}`);
      }
      default:
        return page(ctx, { error: `Unknown action "${action.slice(0, 40)}"` }, 400);
    }
    const result = await ctx.services.savePolicies(entries, actor, label);
    if (!result.ok) {
      return page(
        ctx,
        { error: `The gateway rejected the change, nothing was saved: ${result.reason}` },
        422,
      );
    }
    return seeOther(`/policies?notice=${encodeURIComponent(`Saved: ${label}`)}`);
  },
};

function fieldViews(data: Data, index: number, entry: PolicyEntry): FieldView[] {
  const invalid = data.invalid?.index === index ? data.invalid : undefined;
  const options = (entry.options ?? {}) as Record<string, unknown>;
  return fieldsOf(schemaOf(data.modules, entry.use)).map((f) => ({
    ...f,
    value: invalid
      ? invalid.raw[f.name] ?? ""
      : displayValue(f, f.name === "" ? entry.options : options[f.name]),
    error: invalid?.errors[f.name || "(options)"],
  }));
}

function ActionButton(props: { data: Data; index: number; action: string; label: string; aria: string }) {
  return (
    <form method="post" action="/policies" class="inline">
      <CsrfField token={props.data.csrf} />
      <input type="hidden" name="version" value={props.data.version} />
      <input type="hidden" name="index" value={String(props.index)} />
      <input type="hidden" name="action" value={props.action} />
      <button type="submit" aria-label={props.aria} disabled={!props.data.canEdit}>{props.label}</button>
    </form>
  );
}

export default function Policies({ data }: PageProps<Data>) {
  return (
    <>
      <h1>Policies</h1>
      <p>
        Request hooks run top to bottom, response hooks bottom to top. Saving writes a new version of the
        chain; the gateway applies it to the next request, or rejects it and keeps the running chain.
      </p>
      {data.error ? <p class="notice error" role="alert">{data.error}</p> : null}
      {data.canEdit ? null : <p class="notice">You are a viewer: the chain is read-only for you.</p>}
      {data.entries.length === 0 ? <p class="empty">The chain is empty: every exchange is allowed.</p> : null}
      <ol class="chain">
        {data.entries.map((entry, i) => {
          const title = entry.name ?? entry.use;
          const invalid = data.invalid?.index === i;
          return (
            <li class={`entry ${entry.enabled ? "" : "disabled"}`} data-entry={title}>
              <header>
                <h2>
                  {i + 1}. {title}
                </h2>
                <span class={`badge ${entry.enabled ? "on" : "off"}`}>
                  {entry.enabled ? "enabled" : "disabled"}
                </span>
                <span class={`badge ${entry.mode}`}>{entry.mode}</span>
                <span class="badge">fail {entry.failMode}</span>
                {title === entry.use ? null : <span class="muted">{entry.use}</span>}
              </header>
              <div class="actions">
                <ActionButton data={data} index={i} action="up" label="↑" aria={`Move ${title} up`} />
                <ActionButton data={data} index={i} action="down" label="↓" aria={`Move ${title} down`} />
                <ActionButton
                  data={data}
                  index={i}
                  action="toggle"
                  label={entry.enabled ? "Disable" : "Enable"}
                  aria={`${entry.enabled ? "Disable" : "Enable"} ${title}`}
                />
                <ActionButton
                  data={data}
                  index={i}
                  action="mode"
                  label={entry.mode === "enforce" ? "Observe only" : "Enforce"}
                  aria={`Switch ${title} to ${entry.mode === "enforce" ? "observe" : "enforce"}`}
                />
                <ActionButton
                  data={data}
                  index={i}
                  action="failmode"
                  label={entry.failMode === "closed" ? "Fail open" : "Fail closed"}
                  aria={`Make ${title} fail ${entry.failMode === "closed" ? "open" : "closed"}`}
                />
                <ActionButton data={data} index={i} action="remove" label="Remove" aria={`Remove ${title}`} />
                <form method="get" action="/policies/simulate" class="inline">
                  <input type="hidden" name="index" value={String(i)} />
                  <label for={`sim-${i}`} class="sr-only">Days of traffic to replay for {title}</label>
                  <select id={`sim-${i}`} name="days">
                    <option value="1">1 day</option>
                    <option value="7" selected>7 days</option>
                    <option value="30">30 days</option>
                  </select>
                  <button type="submit" aria-label={`Simulate ${title} enabled and enforced`}>
                    Simulate
                  </button>
                </form>
              </div>
              <details open={invalid}>
                <summary>Options</summary>
                <form method="post" action="/policies" class="options" novalidate>
                  <CsrfField token={data.csrf} />
                  <input type="hidden" name="version" value={data.version} />
                  <input type="hidden" name="index" value={String(i)} />
                  <input type="hidden" name="action" value="options" />
                  <fieldset disabled={!data.canEdit}>
                    <legend>{title} options</legend>
                    <div class="field">
                      <label for={`p${i}-name`}>Display name</label>
                      <input id={`p${i}-name`} name="name" value={entry.name ?? ""} />
                    </div>
                    <SchemaFields fields={fieldViews(data, i, entry)} prefix="o." idPrefix={`p${i}`} />
                    <div class={invalid && data.invalid?.errors.timeoutMs ? "field invalid" : "field"}>
                      <label for={`p${i}-timeout`}>Time budget per hook (ms)</label>
                      <input
                        id={`p${i}-timeout`}
                        name="timeoutMs"
                        type="number"
                        min={1}
                        max={60000}
                        value={invalid ? data.invalid?.raw.timeoutMs : String(entry.timeoutMs)}
                      />
                      {invalid && data.invalid?.errors.timeoutMs
                        ? <small class="error" role="alert">{data.invalid.errors.timeoutMs}</small>
                        : null}
                    </div>
                    <button type="submit">Save options</button>
                  </fieldset>
                </form>
              </details>
            </li>
          );
        })}
      </ol>
      {data.canEdit
        ? (
          <form method="post" action="/policies" class="add">
            <CsrfField token={data.csrf} />
            <input type="hidden" name="version" value={data.version} />
            <input type="hidden" name="action" value="add" />
            <label for="add-use">Add a policy</label>
            <select id="add-use" name="use">
              {data.modules.map((m) => <option key={m.name} value={m.name}>{m.name} — {m.description}
              </option>)}
            </select>
            <button type="submit">Add (disabled, observe)</button>
          </form>
        )
        : null}
      <h2>History</h2>
      {data.history.length === 0 ? <p class="empty">No changes made through the UI yet.</p> : null}
      <ol class="history">
        {data.history.map((h, i) => {
          const older = data.history[i + 1];
          const changes = older ? diffChains(older.entries, h.entries) : [];
          return (
            <li>
              <details>
                <summary>
                  Version {h.version}, {time(h.createdAt)} — <strong>{h.author}</strong>: {h.action}
                  {h.note ? ` (${h.note})` : ""}
                  {i === 0
                    ? (
                      <>
                        {" "}
                        <span class="badge on">current</span>
                      </>
                    )
                    : null}
                </summary>
                {older
                  ? (
                    <ul class="changes">
                      {changes.length === 0 ? <li>No entry changed.</li> : null}
                      {changes.map((c) => <li key={c.index}>{c.change} #{c.index + 1} {c.use}</li>)}
                    </ul>
                  )
                  : null}
                <pre>{JSON.stringify(h.entries, null, 2)}</pre>
                {data.canEdit && i > 0
                  ? (
                    <form method="post" action="/policies">
                      <CsrfField token={data.csrf} />
                      <input type="hidden" name="action" value="rollback" />
                      <input type="hidden" name="to" value={String(h.version)} />
                      <button type="submit">Roll back to version {h.version}</button>
                    </form>
                  )
                  : null}
              </details>
            </li>
          );
        })}
      </ol>
    </>
  );
}
