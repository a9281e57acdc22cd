import type { Handlers, PageProps } from "./_lib/context.ts";
import { time } from "../components/format.ts";
import { type AuditEntry, listAudit } from "../storage/ui/audit.ts";
import { listUsers } from "../storage/ui/users.ts";

interface Data {
  entries: AuditEntry[];
  users: Awaited<ReturnType<typeof listUsers>>;
}

export const handler: Handlers = {
  async GET(_req, ctx) {
    ctx.state.title = "Audit log";
    return ctx.render({
      entries: await listAudit(ctx.services.db, 200),
      users: await listUsers(ctx.services.db),
    });
  },
};

/** Every change made through the UI: who, what, before and after. */
export default function Audit({ data }: PageProps<Data>) {
  return (
    <>
      <h1>Audit log</h1>
      <table>
        <thead>
          <tr>
            <th scope="col">At</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Target</th>
            <th scope="col">Before / after</th>
          </tr>
        </thead>
        <tbody>
          {data.entries.length === 0
            ? (
              <tr>
                <td colSpan={5} class="empty">No changes yet.</td>
              </tr>
            )
            : null}
          {data.entries.map((a) => (
            <tr>
              <td>{time(a.at)}</td>
              <td>{a.actor}</td>
              <td>{a.action}</td>
              <td>{a.target}</td>
              <td>
                <details>
                  <summary>Show</summary>
                  <div class="diff">
                    <pre>{JSON.stringify(a.before, null, 2)}</pre>
                    <pre>{JSON.stringify(a.after, null, 2)}</pre>
                  </div>
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Accounts</h2>
      <p class="muted">
        Accounts are managed with <code>deno task recondo user add &lt;name&gt; --role admin|viewer</code>.
      </p>
      <ul>
        {data.users.map((u) => (
          <li>
            {u.name} <span class={`role ${u.role}`}>{u.role}</span>
          </li>
        ))}
      </ul>
    </>
  );
}
