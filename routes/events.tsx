import type { Handlers, PageProps } from "./_lib/context.ts";
import { time } from "../components/format.ts";
import { type EventRow, listEvents } from "../storage/ui/activity.ts";
import { type AlertRow, listAlerts } from "../storage/alerts/alert_store.ts";
import { AlertsTable } from "../components/AlertsTable.tsx";

const KINDS = ["block", "modify", "error", "timeout"];

interface Data {
  /** Budget and throttle alerts with their webhook deliveries (first page only). */
  alerts: AlertRow[];
  events: EventRow[];
  decision: string;
  next: number | null;
}

export const handler: Handlers = {
  async GET(_req, ctx) {
    const decision = ctx.url.searchParams.get("decision") ?? "";
    const before = Number(ctx.url.searchParams.get("before")) || undefined;
    const events = await listEvents(ctx.services.db, {
      decision: KINDS.includes(decision) ? decision : undefined,
      before,
      limit: 100,
    });
    const alerts = before === undefined ? await listAlerts(ctx.services.db, { limit: 20 }) : [];
    ctx.state.title = "Events";
    return ctx.render(
      { alerts, events, decision, next: events.length === 100 ? events[99].at : null } satisfies Data,
    );
  },
};

/** Budget and throttle alerts; then blocks, redactions (modify), policy errors and timeouts, newest first. */
export default function Events({ data }: PageProps<Data>) {
  return (
    <>
      <h1>Events</h1>
      {data.alerts.length ? <AlertsTable alerts={data.alerts} /> : null}
      <form method="get" action="/events" class="filters">
        <label>
          Kind
          <select name="decision">
            <option value="">all but allow</option>
            {KINDS.map((k) => (
              <option value={k} selected={data.decision === k}>
                {k === "modify" ? "modify (redaction)" : k}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <table>
        <thead>
          <tr>
            <th scope="col">At</th>
            <th scope="col">Policy</th>
            <th scope="col">Hook</th>
            <th scope="col">Decision</th>
            <th scope="col">Reason</th>
            <th scope="col">Session</th>
          </tr>
        </thead>
        <tbody>
          {data.events.length === 0
            ? (
              <tr>
                <td colSpan={6} class="empty">No events.</td>
              </tr>
            )
            : null}
          {data.events.map((e) => (
            <tr>
              <td>{time(e.at)}</td>
              <td>{e.policy ?? "—"}</td>
              <td>{e.hook ?? "—"}</td>
              <td class={`decision ${e.decision}`}>{e.decision}{e.enforced ? "" : " (observed)"}</td>
              <td>{e.reason}</td>
              <td>
                {e.sessionId
                  ? <a href={`/sessions/${encodeURIComponent(e.sessionId)}`}>{e.sessionId.slice(0, 12)}</a>
                  : "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data.next
        ? (
          <nav class="pager" aria-label="Pages">
            <a
              href={`/events?${new URLSearchParams({ decision: data.decision, before: String(data.next) })}`}
            >
              Older →
            </a>
          </nav>
        )
        : null}
    </>
  );
}
