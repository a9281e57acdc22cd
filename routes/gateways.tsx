import type { Handlers, PageProps } from "./_lib/context.ts";
import { time } from "../components/format.ts";
import { type GatewayStatus, listGateways } from "../storage/fleet/gateways.ts";

interface Data {
  gateways: GatewayStatus[];
  lostAfterSeconds: number;
  newestVersion: number | null;
}

export const handler: Handlers = {
  async GET(_req, ctx) {
    ctx.state.title = "Gateways";
    const lostAfterSeconds = ctx.services.config().fleet.lostAfterSeconds;
    const [newest] = await ctx.services.policyHistory(1);
    return ctx.render(
      {
        gateways: await listGateways(ctx.services.db, { lostAfterMs: lostAfterSeconds * 1000 }),
        lostAfterSeconds,
        newestVersion: newest?.version ?? null,
      } satisfies Data,
    );
  },
};

function chainCell(g: GatewayStatus, newest: number | null) {
  if (g.chainVersion === null) return <span class="muted">config file</span>;
  const behind = newest !== null && g.chainVersion < newest;
  return (
    <>
      v{g.chainVersion}
      {behind ? <span class="badge warn">behind v{newest}</span> : null}
      {g.chainError ? <div class="error-text">cannot apply the newest chain: {g.chainError}</div> : null}
    </>
  );
}

/** Every gateway attached to this database, from their heartbeats: the fleet at a glance. */
export default function Gateways({ data }: PageProps<Data>) {
  return (
    <>
      <h1>Gateways</h1>
      <p class="muted">
        Each gateway reports every few seconds; one silent for {data.lostAfterSeconds} s is shown as lost.
        {data.newestVersion !== null ? ` The newest published chain is v${data.newestVersion}.` : ""}
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Gateway</th>
            <th scope="col">Status</th>
            <th scope="col">Version</th>
            <th scope="col">Chain</th>
            <th scope="col" class="num">In flight</th>
            <th scope="col" class="num">Capture backlog</th>
            <th scope="col">Last seen</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {data.gateways.length === 0
            ? (
              <tr>
                <td colSpan={8} class="empty">No gateway has reported to this database yet.</td>
              </tr>
            )
            : null}
          {data.gateways.map((g) => (
            <tr>
              <td>
                {g.id}
                <div class="muted">{g.host} · {g.listen}</div>
              </td>
              <td>
                <span class={`status ${g.status}`}>{g.status}</span>
              </td>
              <td>{g.version}</td>
              <td>{chainCell(g, data.newestVersion)}</td>
              <td class="num">{g.inFlight}</td>
              <td class="num">{g.captureBacklog}</td>
              <td>{time(g.lastSeen)}</td>
              <td>{time(g.startedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
