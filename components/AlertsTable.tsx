import { time } from "./format.ts";

/** An alert as the Events page shows it (the shape of `storage/alerts` `AlertRow`). */
export interface AlertView {
  id: string;
  kind: string;
  scope: string;
  message: string;
  gatewayId: string;
  createdAt: number;
  deliveries: {
    webhookHost: string;
    status: string;
    attempts: number;
    lastStatus: number | null;
    lastError: string | null;
  }[];
}

/** Budget and throttle alerts, newest first, with how each webhook delivery stands. */
export function AlertsTable({ alerts }: { alerts: AlertView[] }) {
  return (
    <table class="alerts">
      <caption>Alerts</caption>
      <thead>
        <tr>
          <th scope="col">At</th>
          <th scope="col">Kind</th>
          <th scope="col">Message</th>
          <th scope="col">Delivery</th>
        </tr>
      </thead>
      <tbody>
        {alerts.map((a) => (
          <tr data-alert={a.id}>
            <td>{time(a.createdAt)}</td>
            <td>{a.kind}</td>
            <td>{a.message}</td>
            <td>
              {a.deliveries.length === 0 ? "no webhook" : null}
              {a.deliveries.map((d) => (
                <div class={`delivery ${d.status}`}>
                  {d.webhookHost}: {d.status}
                  {d.attempts > 1 ? ` after ${d.attempts} attempts` : ""}
                  {d.status !== "delivered" && d.lastError ? ` (${d.lastError})` : ""}
                </div>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
